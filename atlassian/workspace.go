package atlassian

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/jitbot/jitbot/access"
)

type workspacePage struct {
	Data []struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Attributes struct {
			Name    string  `json:"name"`
			HostURL *string `json:"hostUrl"`
		} `json:"attributes"`
	} `json:"data"`
	Links links `json:"links"`
}

type workspaceSearch struct {
	Cursor string `json:"cursor,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// normalizeHost reduces a site URL or host to its lower-cased host: scheme, path and trailing
// slash ignored.
func normalizeHost(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	return s
}

// Resource returns the resource ID for a policy resource: an ARI is returned as is, a site host
// is looked up among the organization's workspaces (cached; refreshed once on a miss).
func (c *Client) Resource(ctx context.Context, resource string) (string, error) {
	if strings.HasPrefix(resource, "ari:") {
		return resource, nil
	}
	host := normalizeHost(resource)
	c.mu.Lock()
	id, ok := c.workspaces[host]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	ws, err := c.Workspaces(ctx)
	if err != nil {
		return "", err
	}
	if id, ok := ws[host]; ok {
		return id, nil
	}
	return "", access.Errorf(access.ENOTFOUND, "No Atlassian site with host %s exists in this organization; check the resource in the JITBOT policy file (JITBOT_POLICY_FILE).", resource)
}

// Workspaces lists the organization's workspaces and returns their resource IDs by host.
func (c *Client) Workspaces(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
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
			if w.Attributes.HostURL != nil && *w.Attributes.HostURL != "" {
				out[normalizeHost(*w.Attributes.HostURL)] = w.ID
			}
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
