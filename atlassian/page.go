package atlassian

import (
	"context"
	"net/url"
	"strings"
)

// pageSize is the largest page the v2 endpoints allow.
const pageSize = 100

// links is a page's cursor links. v2 endpoints return opaque cursors; v1 endpoints return full
// URLs carrying a cursor query parameter.
type links struct {
	Self string `json:"self,omitempty"`
	Next string `json:"next,omitempty"`
	Prev string `json:"prev,omitempty"`
}

// nextCursor returns the cursor to request the next page, or "" on the last page.
func (l links) nextCursor() string {
	n := strings.TrimSpace(l.Next)
	if n == "" {
		return ""
	}
	if strings.Contains(n, "://") || strings.HasPrefix(n, "/") {
		if u, err := url.Parse(n); err == nil {
			return u.Query().Get("cursor")
		}
	}
	return n
}

// paged runs fetch for each page, passing the cursor ("" for the first page); fetch returns the
// page's links. Pages are fetched lazily: paged stops as soon as fetch returns an error.
func paged(ctx context.Context, fetch func(cursor string) (links, error)) error {
	cursor := ""
	seen := map[string]bool{}
	for {
		if err := ctx.Err(); err != nil {
			return cancelled("page", err)
		}
		l, err := fetch(cursor)
		if err != nil {
			return err
		}
		next := l.nextCursor()
		if next == "" || seen[next] {
			return nil
		}
		seen[next] = true
		cursor = next
	}
}
