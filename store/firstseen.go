package store

import (
	"fmt"
	"time"

	"github.com/jitbot/jitbot/access"
)

// FirstSeen returns when sweep first matched each account ID; empty when never run.
func (t *tx) FirstSeen(sweep string) (map[string]time.Time, error) {
	b, err := t.bucket(bucketFirstSeen)
	if err != nil {
		return nil, fmt.Errorf("get first seen %s: %w", sweep, err)
	}
	seen := map[string]time.Time{}
	if _, err := getJSON(b, []byte(sweep), &seen); err != nil {
		return nil, fmt.Errorf("get first seen %s: %w", sweep, err)
	}
	return seen, nil
}

// PutFirstSeen replaces sweep's whole map; an empty map deletes it.
func (t *tx) PutFirstSeen(sweep string, seen map[string]time.Time) error {
	if sweep == "" {
		return access.Errorf(access.EINVALID, "First-seen times need a sweep name.")
	}
	b, err := t.bucket(bucketFirstSeen)
	if err == nil {
		if len(seen) == 0 {
			err = b.Delete([]byte(sweep))
		} else {
			err = putJSON(b, []byte(sweep), seen)
		}
	}
	if err != nil {
		return fmt.Errorf("put first seen %s: %w", sweep, err)
	}
	return nil
}
