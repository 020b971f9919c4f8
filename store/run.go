package store

import (
	"bytes"
	"fmt"
	"time"

	"github.com/jitbot/jitbot/access"
)

// PutRun stores or replaces r, moving its runs_by_time and runs_by_name entries.
func (t *tx) PutRun(r *access.Run) error {
	if r == nil || r.ID == "" {
		return access.Errorf(access.EINVALID, "A run without an ID cannot be stored.")
	}
	if err := t.putRun(r); err != nil {
		return fmt.Errorf("put run %s %s: %w", r.Name, r.ID, err)
	}
	return nil
}

func (t *tx) putRun(r *access.Run) error {
	b, byTime, byName, err := t.runBuckets()
	if err != nil {
		return err
	}
	var old access.Run
	found, err := getJSON(b, []byte(r.ID), &old)
	if err != nil {
		return fmt.Errorf("read previous: %w", err)
	}
	if found {
		if err := deleteRunIndex(byTime, byName, &old); err != nil {
			return err
		}
	}
	if err := putJSON(b, []byte(r.ID), r); err != nil {
		return err
	}
	if err := byTime.Put(timeKey(r.Started, r.ID), nil); err != nil {
		return err
	}
	return byName.Put(runNameKey(r.Name, r.Started, r.ID), nil)
}

func deleteRunIndex(byTime, byName bucket, r *access.Run) error {
	if err := byTime.Delete(timeKey(r.Started, r.ID)); err != nil {
		return err
	}
	return byName.Delete(runNameKey(r.Name, r.Started, r.ID))
}

func (t *tx) runBuckets() (runs, byTime, byName bucket, err error) {
	if runs, err = t.bucket(bucketRuns); err != nil {
		return
	}
	if byTime, err = t.bucket(bucketRunsByTime); err != nil {
		return
	}
	byName, err = t.bucket(bucketRunsByName)
	return
}

// Runs returns the runs named name (all runs when name is empty), newest first, at most limit
// when limit > 0.
func (t *tx) Runs(name string, limit int) ([]*access.Run, error) {
	out, err := t.runs(name, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs %s: %w", name, err)
	}
	return out, nil
}

func (t *tx) runs(name string, limit int) ([]*access.Run, error) {
	b, byTime, byName, err := t.runBuckets()
	if err != nil {
		return nil, err
	}
	idx, prefix := byTime, []byte(nil)
	if name != "" {
		idx, prefix = byName, runNamePrefix(name)
	}
	c := idx.Cursor()
	var k []byte
	if prefix == nil {
		k, _ = c.Last()
	} else {
		// Seek to the first key after the prefix, then step back into it.
		end := append(bytes.Clone(prefix[:len(prefix)-1]), 1)
		if k, _ = c.Seek(end); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
	}
	var out []*access.Run
	for ; k != nil && bytes.HasPrefix(k, prefix) && (limit <= 0 || len(out) < limit); k, _ = c.Prev() {
		tk := k[len(prefix):]
		if len(tk) < 8 {
			return nil, fmt.Errorf("%w: run index key %x", ErrCorrupt, k)
		}
		r := new(access.Run)
		ok, err := getJSON(b, tk[8:], r)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: run index names missing run %s", ErrCorrupt, tk[8:])
		}
		out = append(out, r)
	}
	return out, nil
}

// PruneRuns deletes the oldest runs started before before, at most access.PruneBatch, and
// returns how many it deleted. It is a range scan of runs_by_time.
func (t *tx) PruneRuns(before time.Time) (int, error) {
	n, err := t.pruneRuns(before)
	if err != nil {
		return n, fmt.Errorf("prune runs before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}

func (t *tx) pruneRuns(before time.Time) (int, error) {
	b, byTime, byName, err := t.runBuckets()
	if err != nil {
		return 0, err
	}
	var keys [][]byte
	limit := nanos(before)
	c := byTime.Cursor()
	for k, _ := c.First(); k != nil && keyNanos(k) < limit && len(keys) < access.PruneBatch; k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		id := k[8:]
		var r access.Run
		found, err := getJSON(b, id, &r)
		if err != nil {
			return 0, err
		}
		if found {
			if err := byName.Delete(runNameKey(r.Name, r.Started, r.ID)); err != nil {
				return 0, err
			}
		}
		if err := byTime.Delete(k); err != nil {
			return 0, err
		}
		if err := b.Delete(id); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
