package atlassian

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/jitbot/jitbot/access"
)

// apiGroup is a MultiDirectoryGroup.
type apiGroup struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	DirectoryID      string `json:"directoryId"`
	ExternalSynced   bool   `json:"externalSynced"`
	ManagedBy        string `json:"managedBy"`
	ManagementAccess *struct {
		Modifiable bool `json:"modifiable"`
		Deletable  bool `json:"deletable"`
		Readable   bool `json:"readable"`
	} `json:"managementAccess"`
	Counts *struct {
		Users int `json:"users"`
	} `json:"counts"`
}

func (g *apiGroup) group() access.Group {
	out := access.Group{ID: g.ID, Name: g.Name, ExternalSynced: g.ExternalSynced, Modifiable: true}
	if g.ManagementAccess != nil {
		out.Modifiable = g.ManagementAccess.Modifiable
	}
	if g.Counts != nil {
		out.Users = g.Counts.Users
	}
	return out
}

type groupSearch struct {
	GroupNames []string `json:"groupNames,omitempty"`
	AccountIDs []string `json:"accountIds,omitempty"`
	Expand     []string `json:"expand,omitempty"`
	Cursor     string   `json:"cursor,omitempty"`
	Limit      int      `json:"limit,omitempty"`
}

type groupPage struct {
	Data  []apiGroup `json:"data"`
	Links links      `json:"links"`
}

// Groups returns the named groups, in the order asked, looking up at most 100 names per call.
// Names match case-insensitively. A name with no group is an ENOTFOUND error naming it.
func (c *Client) Groups(ctx context.Context, names []string) ([]access.Group, error) {
	found, err := c.LookupGroups(ctx, names)
	if err != nil {
		return nil, err
	}
	var out []access.Group
	var missing []string
	for _, n := range names {
		g, ok := found[strings.ToLower(n)]
		if !ok {
			missing = append(missing, n)
			continue
		}
		out = append(out, g)
	}
	if len(missing) > 0 {
		return nil, access.Errorf(access.ENOTFOUND, "No Atlassian group named %s exists in this organization; check the group names in the JITBOT policy file.", strings.Join(missing, ", "))
	}
	return out, nil
}

// LookupGroups returns the named groups that exist, keyed by lower-cased name; a name with no
// group is left out. At most 100 names go in one call.
func (c *Client) LookupGroups(ctx context.Context, names []string) (map[string]access.Group, error) {
	found := map[string]access.Group{}
	for chunk := range slices.Chunk(dedupe(names), pageSize) {
		q := groupSearch{GroupNames: chunk, Expand: []string{"counts.users"}, Limit: pageSize}
		err := paged(ctx, func(cursor string) (links, error) {
			q.Cursor = cursor
			var p groupPage
			if _, err := c.do(ctx, call{op: "groups.search", method: http.MethodPost, path: c.v2("/groups/search"), body: q, out: &p}); err != nil {
				return links{}, err
			}
			for i := range p.Data {
				found[strings.ToLower(p.Data[i].Name)] = p.Data[i].group()
			}
			return p.Links, nil
		})
		if err != nil {
			return nil, fmt.Errorf("find groups %s: %w", strings.Join(chunk, ", "), err)
		}
	}
	c.mu.Lock()
	for k, g := range found {
		c.groups[k] = g
	}
	c.mu.Unlock()
	return found, nil
}

// Writable returns nil when jitbot may change g's members, else an EFORBIDDEN error saying why
// (synced from the identity provider, or managementAccess not modifiable).
func Writable(g access.Group) error { return writable(g) }

// group resolves a group name through the cache, asking Atlassian on a miss.
func (c *Client) group(ctx context.Context, name string) (access.Group, error) {
	c.mu.Lock()
	g, ok := c.groups[strings.ToLower(name)]
	c.mu.Unlock()
	if ok {
		return g, nil
	}
	gs, err := c.Groups(ctx, []string{name})
	if err != nil {
		return access.Group{}, err
	}
	return gs[0], nil
}

// forgetGroup drops a cached group, after a 404 says its ID is stale.
func (c *Client) forgetGroup(name string) {
	c.mu.Lock()
	delete(c.groups, strings.ToLower(name))
	c.mu.Unlock()
}

// GroupByID reads one group back with GET .../groups/{groupId}.
func (c *Client) GroupByID(ctx context.Context, groupID string) (access.Group, error) {
	var out struct {
		Data apiGroup `json:"data"`
	}
	_, err := c.do(ctx, call{op: "groups.get", method: http.MethodGet, path: c.v2("/groups/%s", escape(groupID)), out: &out})
	if httpStatus(err) == http.StatusNotFound {
		return access.Group{}, access.Errorf(access.ENOTFOUND, "No Atlassian group with ID %s exists in this organization.", groupID)
	}
	if err != nil {
		return access.Group{}, fmt.Errorf("get group %s: %w", groupID, err)
	}
	return out.Data.group(), nil
}

// writable refuses, before any write, groups owned by the identity provider or not modifiable
// through the API.
func writable(g access.Group) error {
	if g.ExternalSynced {
		return access.Errorf(access.EFORBIDDEN, "Group %s is synced from your identity provider; jitbot cannot change it. Change it in the identity provider, or grant a group jitbot manages.", g.Name)
	}
	if !g.Modifiable {
		return access.Errorf(access.EFORBIDDEN, "Group %s is not modifiable by API; jitbot cannot change it.", g.Name)
	}
	return nil
}

func dedupe(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		k := strings.ToLower(strings.TrimSpace(n))
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, strings.TrimSpace(n))
	}
	return out
}
