package atlassian

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/jitbot/jitbot/access"
)

type workspacePage struct {
	Data []struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Attributes struct {
			Name    string  `json:"name"`
			Type    string  `json:"type"`
			TypeKey string  `json:"typeKey"`
			HostURL *string `json:"hostUrl"`
		} `json:"attributes"`
	} `json:"data"`
	Links links `json:"links"`
}

type workspaceSearch struct {
	Cursor string `json:"cursor,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// Workspace is one product instance of the organization, as the Workspaces API lists it.
type Workspace struct {
	ID      string // usually an ARI, ari:cloud:<type>::site/<cloudId>
	Name    string
	Type    string // product type, e.g. jira-software, confluence
	HostURL string // e.g. https://example.atlassian.net/wiki
	host    string // lower-cased host of HostURL
	path    string // HostURL's path without a trailing slash: "" or "/wiki"
}

// candidate describes w for an error listing what a resource could have meant.
func (w Workspace) candidate() string {
	t := w.Type
	if t == "" {
		t = "workspace"
	}
	return fmt.Sprintf("%s %s (%s)", t, w.HostURL, w.ID)
}

// splitSite reduces a site URL or host to its lower-cased host and path: scheme, query and
// trailing slash ignored ("https://Example.atlassian.net/wiki/" → "example.atlassian.net",
// "/wiki").
func splitSite(s string) (host, path string) {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	host, path, _ = strings.Cut(s, "/")
	path = strings.TrimRight(path, "/")
	if path != "" {
		path = "/" + path
	}
	return host, path
}

// Resource returns the resource ID the Role API accepts for the platform role on a policy
// resource (CONTRACT section 5). An ARI is returned as is. A host or URL finds the workspaces
// whose hostUrl has that host (and that path, if one is given: example.atlassian.net/wiki is
// Confluence); they share the site's cloud ID. A site role (site-admin) goes on the platform
// site ARI ari:cloud:platform::site/<cloudId>; a product role on the product's ARI, such as
// ari:cloud:jira::site/<cloudId>, never on an "-admin" workspace ID; without a path the
// product is the one at the host's root. No workspace on the host, workspaces of one host
// with different cloud IDs, or several products where one is needed are errors naming the
// candidates. Workspaces are cached and listed again once on a miss.
func (c *Client) Resource(ctx context.Context, role, resource string) (string, error) {
	role = platformRole(role)
	if strings.HasPrefix(strings.TrimSpace(resource), "ari:") {
		return strings.TrimSpace(resource), nil
	}
	c.mu.Lock()
	ws := c.workspaces
	c.mu.Unlock()
	id, err := resolve(ws, role, resource)
	if err == nil && ws != nil {
		return id, nil
	}
	if ws, err = c.Workspaces(ctx); err != nil {
		return "", err
	}
	return resolve(ws, role, resource)
}

// resolve is Resource over a list of workspaces.
func resolve(ws []Workspace, role, resource string) (string, error) {
	host, path := splitSite(resource)
	var onHost []Workspace
	for _, w := range ws {
		if w.host == host {
			onHost = append(onHost, w)
		}
	}
	if len(onHost) == 0 {
		return "", access.Errorf(access.ENOTFOUND, "No Atlassian site with host %s exists in this organization; %s. Check the resource in the JITBOT policy file (JITBOT_POLICY_FILE).", resource, known(ws))
	}
	var cloud string
	for _, w := range onHost {
		a, ok := parseARI(w.ID)
		if !ok {
			return "", access.Errorf(access.EINVALID, "The workspace %s has ID %s, which is not a site ARI; write the resource ARI in the JITBOT policy file instead of %s.", w.HostURL, w.ID, resource)
		}
		if cloud != "" && a.CloudID != cloud {
			return "", access.Errorf(access.EINVALID, "The host of %s belongs to workspaces of different sites: %s. Write the resource ARI of the one meant in the JITBOT policy file.", resource, candidates(onHost))
		}
		cloud = a.CloudID
	}
	if siteRoles[role] {
		if path != "" && !slices.ContainsFunc(onHost, func(w Workspace) bool { return w.path == path }) {
			return "", access.Errorf(access.ENOTFOUND, "No Atlassian workspace at %s; the workspaces on %s are: %s.", resource, host, candidates(onHost))
		}
		return ari{Type: platformType, CloudID: cloud}.String(), nil
	}
	var at []Workspace
	for _, w := range onHost {
		if w.path == path {
			at = append(at, w)
		}
	}
	if len(at) == 0 {
		return "", access.Errorf(access.ENOTFOUND, "No Atlassian workspace at %s for role %s; the workspaces on %s are: %s. Give the path of the product (such as %s/wiki for Confluence) or its ARI.", resource, role, host, candidates(onHost), host)
	}
	var products []string
	for _, w := range at {
		a, _ := parseARI(w.ID)
		if p := a.product(); !slices.Contains(products, p) {
			products = append(products, p)
		}
	}
	if len(products) > 1 {
		var aris []string
		for _, p := range products {
			aris = append(aris, ari{Type: p, CloudID: cloud}.String())
		}
		return "", access.Errorf(access.EINVALID, "%s holds several products (%s); role %s needs one: write its ARI (%s) as the resource in the JITBOT policy file.", resource, candidates(at), role, strings.Join(aris, " or "))
	}
	return ari{Type: products[0], CloudID: cloud}.String(), nil
}

// candidates lists workspaces for an error.
func candidates(ws []Workspace) string {
	var s []string
	for _, w := range ws {
		s = append(s, w.candidate())
	}
	return strings.Join(s, ", ")
}

// known lists the organization's sites for an error, at most ten.
func known(ws []Workspace) string {
	var hosts []string
	for _, w := range ws {
		if w.HostURL != "" && !slices.Contains(hosts, w.HostURL) {
			hosts = append(hosts, w.HostURL)
		}
	}
	switch {
	case len(hosts) == 0:
		return "the organization has no workspaces"
	case len(hosts) > 10:
		return fmt.Sprintf("its workspaces are at %s and %d more", strings.Join(hosts[:10], ", "), len(hosts)-10)
	}
	return "its workspaces are at " + strings.Join(hosts, ", ")
}

// Workspaces lists the organization's workspaces, in the order the API returns them, and
// caches them for Resource.
func (c *Client) Workspaces(ctx context.Context) ([]Workspace, error) {
	var out []Workspace
	err := paged(ctx, func(cursor string) (links, error) {
		q := workspaceSearch{Limit: pageSize}
		if cursor != "" {
			q = workspaceSearch{Cursor: cursor} // with a cursor no other field may be set
		}
		var p workspacePage
		if _, err := c.do(ctx, call{op: "workspaces.search", method: http.MethodPost, path: c.org("v2", "/workspaces"), body: q, out: &p}); err != nil {
			return links{}, err
		}
		for _, w := range p.Data {
			if w.Attributes.HostURL == nil || *w.Attributes.HostURL == "" {
				continue
			}
			ws := Workspace{ID: w.ID, Name: w.Attributes.Name, Type: w.Attributes.Type, HostURL: *w.Attributes.HostURL}
			if ws.Type == "" {
				ws.Type = w.Attributes.TypeKey
			}
			ws.host, ws.path = splitSite(ws.HostURL)
			out = append(out, ws)
		}
		return p.Links, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	c.mu.Lock()
	c.workspaces = out
	c.mu.Unlock()
	return out, nil
}
