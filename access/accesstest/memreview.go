package accesstest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jitbot/jitbot/access"
)

func (t *memTx) ReviewItem(id string) (*access.ReviewItem, error) {
	data, ok := t.st.reviews[id]
	if !ok {
		return nil, access.NoRecord("review item", id)
	}
	return memDecode[access.ReviewItem](data)
}

func (t *memTx) PutReviewItem(it *access.ReviewItem) error {
	if it == nil || it.ID == "" {
		return access.Errorf(access.EINVALID, "A review item without an ID cannot be stored.")
	}
	if err := t.checkWritable("put review item " + it.ID); err != nil {
		return err
	}
	data, err := json.Marshal(it)
	if err != nil {
		return fmt.Errorf("put review item %s: %w", it.ID, err)
	}
	t.st.reviews[it.ID] = data
	t.note.noteDue(it.Due())
	return nil
}

func (t *memTx) allReviewItems() ([]*access.ReviewItem, error) {
	var out []*access.ReviewItem
	for _, data := range t.st.reviews {
		it, err := memDecode[access.ReviewItem](data)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b *access.ReviewItem) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (t *memTx) ReviewItems(f access.ReviewFilter) ([]*access.ReviewItem, error) {
	all, err := t.allReviewItems()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(it *access.ReviewItem) bool {
		return !((len(f.Status) == 0 || slices.Contains(f.Status, it.Status)) &&
			(f.Review == "" || it.Review == f.Review) &&
			(f.Run == "" || it.Run == f.Run))
	}), nil
}

func (t *memTx) DueReviewItems(now time.Time, limit int) ([]*access.ReviewItem, error) {
	all, err := t.allReviewItems()
	if err != nil {
		return nil, err
	}
	due := slices.DeleteFunc(all, func(it *access.ReviewItem) bool {
		d := it.Due()
		return d.IsZero() || d.After(now)
	})
	slices.SortStableFunc(due, func(a, b *access.ReviewItem) int {
		return cmp.Or(a.Due().Compare(b.Due()), cmp.Compare(a.ID, b.ID))
	})
	return memTruncate(due, limit), nil
}
