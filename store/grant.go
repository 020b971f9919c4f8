package store

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jitbot/jitbot/access"
)

// Grant returns the grant with the given ID, or an ENOTFOUND error.
func (t *tx) Grant(id string) (*access.Grant, error) {
	b, err := t.bucket(bucketGrants)
	if err != nil {
		return nil, fmt.Errorf("get grant %s: %w", id, err)
	}
	var g access.Grant
	ok, err := getJSON(b, []byte(id), &g)
	if err != nil {
		return nil, fmt.Errorf("get grant %s: %w", id, err)
	}
	if !ok {
		return nil, access.NoRecord("grant", id)
	}
	return &g, nil
}

// PutGrant stores g and moves its grants_by_account and due_grants entries: the previous
// record's entries are deleted and g's written, so no stale due time is left behind.
func (t *tx) PutGrant(g *access.Grant) error {
	if g == nil || g.ID == "" {
		return access.Errorf(access.EINVALID, "A grant without an ID cannot be stored.")
	}
	if err := t.putGrant(g); err != nil {
		return fmt.Errorf("put grant %s: %w", g.ID, err)
	}
	return nil
}

func (t *tx) putGrant(g *access.Grant) error {
	b, err := t.bucket(bucketGrants)
	if err != nil {
		return err
	}
	byAcc, err := t.bucket(bucketGrantsByAcc)
	if err != nil {
		return err
	}
	due, err := t.bucket(bucketDueGrants)
	if err != nil {
		return err
	}
	var old access.Grant
	found, err := getJSON(b, []byte(g.ID), &old)
	if err != nil {
		return fmt.Errorf("read previous: %w", err)
	}
	if found {
		if err := byAcc.Delete(accountKey(old.Account.ID, g.ID)); err != nil {
			return err
		}
		if at := old.Due(); !at.IsZero() {
			if err := due.Delete(timeKey(at, g.ID)); err != nil {
				return err
			}
		}
	}
	if err := putJSON(b, []byte(g.ID), g); err != nil {
		return err
	}
	if err := byAcc.Put(accountKey(g.Account.ID, g.ID), nil); err != nil {
		return err
	}
	prev := &old
	if !found {
		prev = nil
	}
	if err := t.indexGrant(prev, g); err != nil {
		return err
	}
	if err := t.indexHistoryGrant(prev, g); err != nil {
		return err
	}
	if at := g.Due(); !at.IsZero() {
		return due.Put(timeKey(at, g.ID), nil)
	}
	return nil
}

// Grants returns the grants matching f, oldest first. With f.AccountID set it reads only that
// account's grants through the grants_by_account index.
func (t *tx) Grants(f access.GrantFilter) ([]*access.Grant, error) {
	out, err := t.grants(f)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	slices.SortFunc(out, func(a, b *access.Grant) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (t *tx) grants(f access.GrantFilter) ([]*access.Grant, error) {
	var out []*access.Grant
	keep := func(g *access.Grant) {
		if matchGrant(g, f) {
			out = append(out, g)
		}
	}
	if f.AccountID != "" {
		byAcc, err := t.bucket(bucketGrantsByAcc)
		if err != nil {
			return nil, err
		}
		prefix := accountPrefix(f.AccountID)
		c := byAcc.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			g, err := t.Grant(string(k[len(prefix):]))
			if err != nil {
				return nil, err
			}
			keep(g)
		}
		return out, nil
	}
	b, err := t.bucket(bucketGrants)
	if err != nil {
		return nil, err
	}
	err = eachJSON(b, func(g *access.Grant) error {
		keep(g)
		return nil
	})
	return out, err
}

func matchGrant(g *access.Grant, f access.GrantFilter) bool {
	return (len(f.Status) == 0 || slices.Contains(f.Status, g.Status)) &&
		(f.AccountID == "" || g.Account.ID == f.AccountID) &&
		(f.Holder == "" || g.Holder.SlackID == f.Holder) &&
		(f.Role == "" || strings.EqualFold(g.Role, f.Role))
}

// DueGrants returns grants whose Due() is at or before now, earliest first, at most limit when
// limit > 0. It is a range scan of due_grants: O(due).
func (t *tx) DueGrants(now time.Time, limit int) ([]*access.Grant, error) {
	due, err := t.bucket(bucketDueGrants)
	if err != nil {
		return nil, fmt.Errorf("due grants: %w", err)
	}
	var out []*access.Grant
	c := due.Cursor()
	for k, _ := c.First(); k != nil && isDue(k, now) && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
		g, err := t.Grant(string(k[8:]))
		if err != nil {
			return nil, fmt.Errorf("due grants: %w", err)
		}
		out = append(out, g)
	}
	return out, nil
}
