package store

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/jitbot/jitbot/access"
)

// ReviewItem returns the review item with the given ID, or an ENOTFOUND error.
func (t *tx) ReviewItem(id string) (*access.ReviewItem, error) {
	b, err := t.bucket(bucketReviews)
	if err != nil {
		return nil, fmt.Errorf("get review item %s: %w", id, err)
	}
	var it access.ReviewItem
	ok, err := getJSON(b, []byte(id), &it)
	if err != nil {
		return nil, fmt.Errorf("get review item %s: %w", id, err)
	}
	if !ok {
		return nil, access.NoRecord("review item", id)
	}
	return &it, nil
}

// PutReviewItem stores it and moves its review_items_by_run and due_review_items entries: the
// previous record's entries are deleted and it's written, so no stale due time is left behind.
func (t *tx) PutReviewItem(it *access.ReviewItem) error {
	if it == nil || it.ID == "" {
		return access.Errorf(access.EINVALID, "A review item without an ID cannot be stored.")
	}
	if err := t.putReviewItem(it); err != nil {
		return fmt.Errorf("put review item %s: %w", it.ID, err)
	}
	return nil
}

func (t *tx) putReviewItem(it *access.ReviewItem) error {
	b, err := t.bucket(bucketReviews)
	if err != nil {
		return err
	}
	byRun, err := t.bucket(bucketReviewsRun)
	if err != nil {
		return err
	}
	due, err := t.bucket(bucketDueReviews)
	if err != nil {
		return err
	}
	var old access.ReviewItem
	found, err := getJSON(b, []byte(it.ID), &old)
	if err != nil {
		return fmt.Errorf("read previous: %w", err)
	}
	if found {
		if err := byRun.Delete(runItemKey(old.Run, it.ID)); err != nil {
			return err
		}
		if at := old.Due(); !at.IsZero() {
			if err := due.Delete(timeKey(at, it.ID)); err != nil {
				return err
			}
		}
	}
	if err := putJSON(b, []byte(it.ID), it); err != nil {
		return err
	}
	if err := byRun.Put(runItemKey(it.Run, it.ID), nil); err != nil {
		return err
	}
	prev := &old
	if !found {
		prev = nil
	}
	if err := t.indexHistoryReview(prev, it); err != nil {
		return err
	}
	if at := it.Due(); !at.IsZero() {
		t.note.noteDue(at)
		return due.Put(timeKey(at, it.ID), nil)
	}
	return nil
}

// runItemKey returns the review_items_by_run key of an item.
func runItemKey(run, id string) []byte { return append(runNamePrefix(run), id...) }

// ReviewItems returns the items matching f, oldest first. With f.Run set it reads only that
// run's items through the review_items_by_run index.
func (t *tx) ReviewItems(f access.ReviewFilter) ([]*access.ReviewItem, error) {
	out, err := t.reviewItems(f)
	if err != nil {
		return nil, fmt.Errorf("list review items: %w", err)
	}
	slices.SortFunc(out, func(a, b *access.ReviewItem) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (t *tx) reviewItems(f access.ReviewFilter) ([]*access.ReviewItem, error) {
	var out []*access.ReviewItem
	keep := func(it *access.ReviewItem) {
		if (len(f.Status) == 0 || slices.Contains(f.Status, it.Status)) &&
			(f.Review == "" || it.Review == f.Review) && (f.Run == "" || it.Run == f.Run) {
			out = append(out, it)
		}
	}
	if f.Run != "" {
		byRun, err := t.bucket(bucketReviewsRun)
		if err != nil {
			return nil, err
		}
		prefix := runNamePrefix(f.Run)
		c := byRun.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			it, err := t.ReviewItem(string(k[len(prefix):]))
			if err != nil {
				return nil, err
			}
			keep(it)
		}
		return out, nil
	}
	b, err := t.bucket(bucketReviews)
	if err != nil {
		return nil, err
	}
	err = eachJSON(b, func(it *access.ReviewItem) error {
		keep(it)
		return nil
	})
	return out, err
}

// DueReviewItems returns items whose Due() is at or before now, earliest first, at most limit
// when limit > 0. It is a range scan of due_review_items: O(due).
func (t *tx) DueReviewItems(now time.Time, limit int) ([]*access.ReviewItem, error) {
	due, err := t.bucket(bucketDueReviews)
	if err != nil {
		return nil, fmt.Errorf("due review items: %w", err)
	}
	var out []*access.ReviewItem
	c := due.Cursor()
	for k, _ := c.First(); k != nil && isDue(k, now) && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
		it, err := t.ReviewItem(string(k[8:]))
		if err != nil {
			return nil, fmt.Errorf("due review items: %w", err)
		}
		out = append(out, it)
	}
	return out, nil
}
