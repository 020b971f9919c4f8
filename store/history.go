package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jitbot/jitbot/access"
)

// The history index (schema version 3) lists every record the history retention may remove,
// by when it ended, so a prune reads what it removes and nothing else:
//
//   - history: timeKey(end, kind + ID), kind 'g' for a revoked grant (at EndedAt), 'i' for a
//     decided review item (at EndedAt, or its review's deadline if later) and 'r' for a decided request without a grant;
//   - history_by_grant: grantID \x00 requestID for a decided request kept with its grant (an
//     extension request, or an approved access request, whose grant is stored); it is removed
//     when its grant is, or moved into history at its own end if that is later.
//
// Entries are written in the transaction that ends the record, like the live indexes.

const (
	kindGrant   = 'g'
	kindRequest = 'r'
	kindReview  = 'i'
)

func historyKey(end time.Time, kind byte, id string) []byte {
	k := timeKey(end, "")
	k = append(k, kind)
	return append(k, id...)
}

func waitKey(grantID, requestID string) []byte {
	return append(append([]byte(grantID), 0), requestID...)
}

// indexHistoryGrant moves g's history entry from old's (nil when new).
func (t *tx) indexHistoryGrant(old, g *access.Grant) error {
	var was, is []byte
	if old != nil && old.Ended() {
		was = historyKey(old.HistoryEnd(), kindGrant, old.ID)
	}
	if g.Ended() {
		is = historyKey(g.HistoryEnd(), kindGrant, g.ID)
	}
	return t.moveHistory(was, is)
}

// indexHistoryReview moves it's history entry from old's (nil when new).
func (t *tx) indexHistoryReview(old, it *access.ReviewItem) error {
	var was, is []byte
	if old != nil && !old.Open() {
		was = historyKey(old.HistoryEnd(), kindReview, old.ID)
	}
	if !it.Open() {
		is = historyKey(it.HistoryEnd(), kindReview, it.ID)
	}
	return t.moveHistory(was, is)
}

func (t *tx) moveHistory(was, is []byte) error {
	if bytes.Equal(was, is) {
		return nil
	}
	h, err := t.bucket(bucketHistory)
	if err != nil {
		return err
	}
	if was != nil {
		if err := h.Delete(was); err != nil {
			return err
		}
	}
	if is != nil {
		return h.Put(is, nil)
	}
	return nil
}

// indexHistoryRequest indexes r when it is decided (old nil or pending): with its grant when it
// has one that is stored (or, for an approved access request, about to be: the grant is
// written in the same transaction), else by its own end. A decided request is re-put only to
// add message references, so its entry, once written, stays.
func (t *tx) indexHistoryRequest(old, r *access.Request) error {
	if r.Status == access.RequestPending || (old != nil && old.Status != access.RequestPending) {
		return nil
	}
	return t.historyRequest(r, true)
}

// historyRequest indexes decided request r. Its grant is expected (about to be written) when
// expectGrant is set and r is an approved access request.
func (t *tx) historyRequest(r *access.Request, expectGrant bool) error {
	end := r.HistoryEnd()
	if gid := r.HistoryGrant(); gid != "" {
		grants, err := t.bucket(bucketGrants)
		if err != nil {
			return err
		}
		if grants.Get([]byte(gid)) != nil || (expectGrant && r.Kind == access.KindAccess) {
			w, err := t.bucket(bucketHistoryWait)
			if err != nil {
				return err
			}
			return w.Put(waitKey(gid, r.ID), binary.BigEndian.AppendUint64(nil, nanos(end)))
		}
	}
	h, err := t.bucket(bucketHistory)
	if err != nil {
		return err
	}
	return h.Put(historyKey(end, kindRequest, r.ID), nil)
}

// AuditBase returns where the audit chain starts after pruning, or nil when nothing was pruned.
func (t *tx) AuditBase() (*access.ChainBase, error) {
	meta, err := t.bucket(bucketMeta)
	if err != nil {
		return nil, fmt.Errorf("audit base: %w", err)
	}
	raw := meta.Get(keyAuditBase)
	if raw == nil {
		return nil, nil
	}
	var b access.ChainBase
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("audit base: %w: %v", ErrCorrupt, err)
	}
	return &b, nil
}

// PruneHistory deletes what ended before before, HistoryBatch keys at most (access.Tx).
func (t *tx) PruneHistory(before time.Time) (access.HistoryPruned, error) {
	p, err := t.pruneHistory(before)
	if err != nil {
		return p, fmt.Errorf("prune history before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return p, nil
}

// pruner is one PruneHistory: the buckets, the budget left and what was removed.
type pruner struct {
	t        *tx
	before   time.Time
	budget   int
	p        access.HistoryPruned
	hist     bucket
	wait     bucket
	grants   bucket
	byAcc    bucket
	requests bucket
	reviews  bucket
	byRun    bucket
}

func (t *tx) pruneHistory(before time.Time) (access.HistoryPruned, error) {
	pr := &pruner{t: t, before: before, budget: access.HistoryBatch}
	for _, b := range []struct {
		dst  *bucket
		name []byte
	}{{&pr.hist, bucketHistory}, {&pr.wait, bucketHistoryWait}, {&pr.grants, bucketGrants}, {&pr.byAcc, bucketGrantsByAcc},
		{&pr.requests, bucketRequests}, {&pr.reviews, bucketReviews}, {&pr.byRun, bucketReviewsRun}} {
		var err error
		if *b.dst, err = t.bucket(b.name); err != nil {
			return access.HistoryPruned{}, err
		}
	}
	// Every entry costs at least one key, so the budget bounds what is read.
	limit := nanos(before)
	var keys [][]byte
	c := pr.hist.Cursor()
	for k, _ := c.First(); k != nil && keyNanos(k) < limit && len(keys) < pr.budget; k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		done, err := pr.entry(k)
		if err != nil {
			return pr.p, err
		}
		if !done {
			pr.p.More = true
			return pr.p, nil
		}
	}
	if len(keys) == access.HistoryBatch {
		// The budget bounded the read: there may be more ended records.
		pr.p.More = true
		return pr.p, nil
	}
	if err := pr.events(); err != nil {
		return pr.p, err
	}
	return pr.p, nil
}

// spend takes n keys from the budget, or reports that they do not fit.
func (pr *pruner) spend(n int) bool {
	if n > pr.budget {
		return false
	}
	pr.budget -= n
	return true
}

// entry removes the record of history key k, or leaves it when the budget does not cover it
// (done false). A stale entry (its record gone, or no longer ended) is dropped.
func (pr *pruner) entry(k []byte) (done bool, err error) {
	if len(k) < 9 {
		return false, fmt.Errorf("%w: history key %x", ErrCorrupt, k)
	}
	id := string(k[9:])
	switch k[8] {
	case kindGrant:
		return pr.grant(k, id)
	case kindRequest:
		return pr.request(k, id)
	case kindReview:
		return pr.review(k, id)
	}
	return false, fmt.Errorf("%w: history key %x has kind %q", ErrCorrupt, k, k[8])
}

// dropStale deletes a history entry whose record is gone or not ended.
func (pr *pruner) dropStale(k []byte) (bool, error) {
	if !pr.spend(1) {
		return false, nil
	}
	return true, pr.hist.Delete(k)
}

func (pr *pruner) grant(k []byte, id string) (bool, error) {
	var g access.Grant
	found, err := getJSON(pr.grants, []byte(id), &g)
	if err != nil {
		return false, err
	}
	if !found || !g.Ended() {
		return pr.dropStale(k)
	}
	// Its requests first: the grant's entry stays at the front until they are gone.
	prefix := waitKey(id, "")
	var waiting [][]byte
	var ends []uint64
	c := pr.wait.Cursor()
	for wk, v := c.Seek(prefix); wk != nil && bytes.HasPrefix(wk, prefix) && len(waiting) <= pr.budget; wk, v = c.Next() {
		waiting = append(waiting, bytes.Clone(wk))
		end := uint64(0)
		if len(v) == 8 {
			end = binary.BigEndian.Uint64(v)
		}
		ends = append(ends, end)
	}
	for i, wk := range waiting {
		if !pr.spend(access.HistoryCostRequest) {
			return false, nil
		}
		rid := wk[len(prefix):]
		if err := pr.wait.Delete(wk); err != nil {
			return false, err
		}
		if ends[i] >= nanos(pr.before) {
			// Decided after the cutoff (after its grant ended): kept until its own end is old.
			if err := pr.hist.Put(historyKey(time.Unix(0, int64(ends[i])), kindRequest, string(rid)), nil); err != nil {
				return false, err
			}
			continue
		}
		if pr.requests.Get(rid) != nil {
			pr.p.Requests++
			pr.p.Note(time.Unix(0, int64(ends[i])))
		}
		if err := pr.requests.Delete(rid); err != nil {
			return false, err
		}
	}
	if !pr.spend(access.HistoryCostGrant) {
		return false, nil
	}
	for _, del := range []struct {
		b bucket
		k []byte
	}{{pr.grants, []byte(id)}, {pr.byAcc, accountKey(g.Account.ID, id)}, {pr.hist, k}} {
		if err := del.b.Delete(del.k); err != nil {
			return false, err
		}
	}
	pr.p.Grants++
	pr.p.Note(g.HistoryEnd())
	return true, nil
}

func (pr *pruner) request(k []byte, id string) (bool, error) {
	var r access.Request
	found, err := getJSON(pr.requests, []byte(id), &r)
	if err != nil {
		return false, err
	}
	if !found || r.Status == access.RequestPending {
		return pr.dropStale(k)
	}
	if gid := r.HistoryGrant(); gid != "" {
		var g access.Grant
		gfound, err := getJSON(pr.grants, []byte(gid), &g)
		if err != nil {
			return false, err
		}
		if gfound && (!g.Ended() || !g.HistoryEnd().Before(pr.before)) {
			// Its grant is still kept: keep the request with it.
			if !pr.spend(2) {
				return false, nil
			}
			if err := pr.hist.Delete(k); err != nil {
				return false, err
			}
			return true, pr.wait.Put(waitKey(gid, id), binary.BigEndian.AppendUint64(nil, nanos(r.HistoryEnd())))
		}
	}
	if !pr.spend(access.HistoryCostRequest) {
		return false, nil
	}
	if err := pr.requests.Delete([]byte(id)); err != nil {
		return false, err
	}
	if err := pr.hist.Delete(k); err != nil {
		return false, err
	}
	pr.p.Requests++
	pr.p.Note(r.HistoryEnd())
	return true, nil
}

func (pr *pruner) review(k []byte, id string) (bool, error) {
	var it access.ReviewItem
	found, err := getJSON(pr.reviews, []byte(id), &it)
	if err != nil {
		return false, err
	}
	if !found || it.Open() {
		return pr.dropStale(k)
	}
	if !pr.spend(access.HistoryCostReview) {
		return false, nil
	}
	for _, del := range []struct {
		b bucket
		k []byte
	}{{pr.reviews, []byte(id)}, {pr.byRun, runItemKey(it.Run, id)}, {pr.hist, k}} {
		if err := del.b.Delete(del.k); err != nil {
			return false, err
		}
	}
	pr.p.ReviewItems++
	pr.p.Note(it.HistoryEnd())
	return true, nil
}

// events removes audit events older than before from the front of the chain, with what is
// left of the budget, and records the new start of the chain.
func (pr *pruner) events() error {
	b, err := pr.t.bucket(bucketAudit)
	if err != nil {
		return err
	}
	var (
		keys [][]byte
		last access.AuditEvent
	)
	c := b.Cursor()
	k, v := c.First()
	for ; k != nil && len(keys) < pr.budget; k, v = c.Next() {
		e, err := decodeEvent(k, v)
		if err != nil {
			return err
		}
		if !e.Time.Before(pr.before) {
			break
		}
		keys = append(keys, bytes.Clone(k))
		pr.p.NoteEvent(e)
		last = e
	}
	if k != nil && len(keys) == pr.budget {
		if e, err := decodeEvent(k, v); err == nil && e.Time.Before(pr.before) {
			pr.p.More = true
		}
	}
	if len(keys) == 0 {
		return nil
	}
	pr.budget -= len(keys)
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	meta, err := pr.t.bucket(bucketMeta)
	if err != nil {
		return err
	}
	return putJSON(meta, keyAuditBase, access.NewChainBase(last.Seq, last.Hash, last.Time, pr.t.key))
}

// buildHistory indexes every ended record (migration to version 3).
func buildHistory(k kv) error {
	t := &tx{kv: k}
	grants, err := t.bucket(bucketGrants)
	if err != nil {
		return err
	}
	err = eachJSON(grants, func(g *access.Grant) error {
		return t.indexHistoryGrant(nil, g)
	})
	if err != nil {
		return fmt.Errorf("index ended grants: %w", err)
	}
	requests, err := t.bucket(bucketRequests)
	if err != nil {
		return err
	}
	err = eachJSON(requests, func(r *access.Request) error {
		if r.Status == access.RequestPending {
			return nil
		}
		// An approved request whose grant is not stored goes by its own end.
		return t.historyRequest(r, false)
	})
	if err != nil {
		return fmt.Errorf("index decided requests: %w", err)
	}
	reviews, err := t.bucket(bucketReviews)
	if err != nil {
		return err
	}
	err = eachJSON(reviews, func(it *access.ReviewItem) error {
		return t.indexHistoryReview(nil, it)
	})
	if err != nil {
		return fmt.Errorf("index decided review items: %w", err)
	}
	return nil
}

// Usage is how much of the file holds data: the file's size, and its pages in use (the rest are
// free pages, reused before the file grows again; bbolt never shrinks a file).
func (db *DB) Usage() (file, inUse int64, err error) {
	err = db.rawView("store usage", func(btx *bolt.Tx) error {
		file = btx.Size()
		st := db.bolt.Stats()
		inUse = file - int64(st.FreePageN+st.PendingPageN)*int64(db.bolt.Info().PageSize)
		return nil
	})
	return file, inUse, err
}

// MigrateHistory builds the history index of a store written with schema version 2 on backend
// b (etcd), in transactions of at most batch records (each writes one key), then records
// schema version 3. bbolt's files are migrated in one transaction at Open instead. Running it
// twice, or beside a replica already on version 3, writes the same entries again.
func MigrateHistory(ctx context.Context, b Backend, batch int) error {
	batch = max(batch, 1)
	for _, name := range [][]byte{bucketGrants, bucketRequests, bucketReviews} {
		var after []byte
		for {
			n := 0
			var last []byte
			err := b.Update(ctx, func(k KV) error {
				n, last = 0, nil
				t := &tx{kv: k}
				bk, err := t.bucket(name)
				if err != nil {
					return err
				}
				c := bk.Cursor()
				key, v := c.First()
				if after != nil {
					if key, v = c.Seek(after); bytes.Equal(key, after) {
						key, v = c.Next()
					}
				}
				for ; key != nil && n < batch; key, v = c.Next() {
					if err := t.indexEnded(name, key, v); err != nil {
						return err
					}
					last, n = bytes.Clone(key), n+1
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("migrate schema 2 to 3: index %s: %w", name, err)
			}
			if n < batch {
				break
			}
			after = last
		}
	}
	err := b.Update(ctx, func(k KV) error {
		meta := k.Bucket(bucketMeta)
		if v := meta.Get(keySchemaVersion); len(v) == 8 && binary.BigEndian.Uint64(v) >= 3 {
			return nil
		}
		return meta.Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, 3))
	})
	if err != nil {
		return fmt.Errorf("migrate schema 2 to 3: %w", err)
	}
	return nil
}

// indexEnded writes the history entry of record k (value v) of bucket name, if it ended.
func (t *tx) indexEnded(name, k, v []byte) error {
	switch {
	case bytes.Equal(name, bucketGrants):
		g := new(access.Grant)
		if err := json.Unmarshal(v, g); err != nil {
			return fmt.Errorf("decode %q: %w", k, err)
		}
		return t.indexHistoryGrant(nil, g)
	case bytes.Equal(name, bucketRequests):
		r := new(access.Request)
		if err := json.Unmarshal(v, r); err != nil {
			return fmt.Errorf("decode %q: %w", k, err)
		}
		if r.Status == access.RequestPending {
			return nil
		}
		return t.historyRequest(r, false)
	default:
		it := new(access.ReviewItem)
		if err := json.Unmarshal(v, it); err != nil {
			return fmt.Errorf("decode %q: %w", k, err)
		}
		return t.indexHistoryReview(nil, it)
	}
}
