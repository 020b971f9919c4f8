package atlassian

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jitbot/jitbot/access"
)

var _ access.Verifier = (*Client)(nil)

// Holding reads back which of accounts hold t, for verifying many removals at once. For a
// group it asks users/search filtered by the group, either for ten accounts a call or for the
// group's whole membership (100 a page), whichever costs fewer calls given the group's size as
// this client last knew it (kept up to date by its own adds and removes). A platform role is
// read back one account at a time, as Has does.
func (c *Client) Holding(ctx context.Context, t access.Target, accounts []access.Account) (map[string]bool, error) {
	held := map[string]bool{}
	if t.Kind != access.TargetGroup {
		for _, a := range accounts {
			ok, err := c.Has(ctx, a, t)
			if err != nil {
				return nil, err
			}
			held[a.ID] = ok
		}
		return held, nil
	}
	g, err := c.group(ctx, t.Group)
	if err != nil {
		return nil, describeMany("check", len(accounts), t, err)
	}
	want := map[string]bool{}
	var ids []string
	for _, a := range accounts {
		if !want[a.ID] {
			want[a.ID] = true
			ids = append(ids, a.ID)
		}
	}
	byAccount := (len(ids) + 9) / 10
	byListing := g.Users/pageSize + 1
	listed := false
	if byListing < byAccount {
		// The size known may be stale (members added outside jitbot): a listing that grows
		// past what reading the accounts would cost is given up for that.
		n := 0
		err := c.searchUsers(ctx, userSearch{GroupIDs: []string{g.ID}}, func(u *apiUser) error {
			n++
			if n >= (byAccount-1)*pageSize {
				return errListingTooLong
			}
			if want[u.AccountID] {
				held[u.AccountID] = true
			}
			return nil
		})
		switch {
		case err == nil:
			listed = true
		case errors.Is(err, errListingTooLong):
			clear(held)
		default:
			return nil, describeMany("check", len(ids), t, err)
		}
		c.setGroupSize(t.Group, n)
	}
	if !listed {
		for chunk := range slices.Chunk(ids, 10) {
			err := c.searchUsers(ctx, userSearch{AccountIDs: chunk, GroupIDs: []string{g.ID}}, func(u *apiUser) error {
				if want[u.AccountID] {
					held[u.AccountID] = true
				}
				return nil
			})
			if err != nil {
				return nil, describeMany("check", len(ids), t, err)
			}
		}
	}
	for _, id := range ids {
		if !held[id] {
			held[id] = false // every account asked about has an answer
		}
	}
	return held, nil
}

// setGroupSize records the member count of a cached group.
func (c *Client) setGroupSize(name string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := strings.ToLower(name)
	if g, ok := c.groups[k]; ok {
		g.Users = max(0, n)
		c.groups[k] = g
	}
}

// addGroupSize moves the member count of a cached group by delta, after this client's own
// add or remove.
func (c *Client) addGroupSize(name string, delta int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := strings.ToLower(name)
	if g, ok := c.groups[k]; ok {
		g.Users = max(0, g.Users+delta)
		c.groups[k] = g
	}
}

// errListingTooLong stops a group listing that costs more than reading the accounts would.
var errListingTooLong = errors.New("group listing longer than reading the accounts")

func describeMany(op string, n int, t access.Target, err error) error {
	return fmt.Errorf("%s %s for %d accounts: %w", op, t, n, err)
}
