package store

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/jitbot/jitbot/access"
)

// Request returns the request with the given ID, or an ENOTFOUND error.
func (t *tx) Request(id string) (*access.Request, error) {
	b, err := t.bucket(bucketRequests)
	if err != nil {
		return nil, fmt.Errorf("get request %s: %w", id, err)
	}
	var r access.Request
	ok, err := getJSON(b, []byte(id), &r)
	if err != nil {
		return nil, fmt.Errorf("get request %s: %w", id, err)
	}
	if !ok {
		return nil, access.NoRecord("request", id)
	}
	return &r, nil
}

// PutRequest stores r and keeps the due_requests index in step: only pending requests are in it.
func (t *tx) PutRequest(r *access.Request) error {
	if r == nil || r.ID == "" {
		return access.Errorf(access.EINVALID, "A request without an ID cannot be stored.")
	}
	if err := t.putRequest(r); err != nil {
		return fmt.Errorf("put request %s: %w", r.ID, err)
	}
	return nil
}

func (t *tx) putRequest(r *access.Request) error {
	b, err := t.bucket(bucketRequests)
	if err != nil {
		return err
	}
	due, err := t.bucket(bucketDueRequests)
	if err != nil {
		return err
	}
	var old access.Request
	found, err := getJSON(b, []byte(r.ID), &old)
	if err != nil {
		return fmt.Errorf("read previous: %w", err)
	}
	if found && old.Status == access.RequestPending {
		if err := due.Delete(timeKey(old.PendingUntil, r.ID)); err != nil {
			return err
		}
	}
	if err := putJSON(b, []byte(r.ID), r); err != nil {
		return err
	}
	prev := &old
	if !found {
		prev = nil
	}
	if err := t.indexRequest(prev, r); err != nil {
		return err
	}
	if err := t.indexHistoryRequest(prev, r); err != nil {
		return err
	}
	if r.Status == access.RequestPending {
		return due.Put(timeKey(r.PendingUntil, r.ID), nil)
	}
	return nil
}

// Requests returns the requests matching f, oldest first.
func (t *tx) Requests(f access.RequestFilter) ([]*access.Request, error) {
	b, err := t.bucket(bucketRequests)
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	var out []*access.Request
	err = eachJSON(b, func(r *access.Request) error {
		if matchRequest(r, f) {
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	slices.SortFunc(out, func(a, b *access.Request) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func matchRequest(r *access.Request, f access.RequestFilter) bool {
	return (len(f.Status) == 0 || slices.Contains(f.Status, r.Status)) &&
		(f.Requester == "" || r.Requester.SlackID == f.Requester) &&
		(f.GrantID == "" || r.GrantID == f.GrantID)
}

// DueRequests returns pending requests whose PendingUntil is at or before now, oldest first,
// at most limit when limit > 0. It reads the due_requests index: O(due).
func (t *tx) DueRequests(now time.Time, limit int) ([]*access.Request, error) {
	due, err := t.bucket(bucketDueRequests)
	if err != nil {
		return nil, fmt.Errorf("due requests: %w", err)
	}
	var out []*access.Request
	c := due.Cursor()
	for k, _ := c.First(); k != nil && isDue(k, now) && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
		r, err := t.Request(string(k[8:]))
		if err != nil {
			return nil, fmt.Errorf("due requests: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}
