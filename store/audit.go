package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jitbot/jitbot/access"
)

// AppendAudit numbers e after the last event, seals it to that event's hash and stores it, in
// the caller's transaction.
func (t *tx) AppendAudit(e *access.AuditEvent) error {
	if err := t.appendAudit(e); err != nil {
		return fmt.Errorf("append audit %s %s: %w", e.Action, e.Subject, err)
	}
	return nil
}

func (t *tx) appendAudit(e *access.AuditEvent) error {
	b, err := t.bucket(bucketAudit)
	if err != nil {
		return err
	}
	var seq uint64
	prev := ""
	if k, v := b.Cursor().Last(); k != nil {
		if len(k) != 8 {
			return fmt.Errorf("%w: audit key %x is not a sequence number", ErrCorrupt, k)
		}
		last, err := decodeEvent(k, v)
		if err != nil {
			return fmt.Errorf("read last event: %w", err)
		}
		seq, prev = binary.BigEndian.Uint64(k), last.Hash
	} else {
		// Every event was pruned: the chain goes on from its base.
		base, err := t.AuditBase()
		if err != nil {
			return err
		}
		if base != nil {
			seq, prev = base.Seq, base.Hash
		}
	}
	e.Seq = seq + 1
	e.Seal(prev, t.key)
	if err := putJSON(b, seqKey(e.Seq), e); err != nil {
		return err
	}
	meta, err := t.bucket(bucketMeta)
	if err != nil {
		return err
	}
	return putJSON(meta, keyAuditHead, access.NewChainHead(e.Seq, e.Hash, t.key))
}

// AuditEvents returns the events matching f in order. With f.Limit set it scans backwards
// from the newest event and stops after Limit matches.
func (t *tx) AuditEvents(f access.AuditFilter) ([]access.AuditEvent, error) {
	b, err := t.bucket(bucketAudit)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	var out []access.AuditEvent
	c := b.Cursor()
	first, next := c.First, c.Next
	if f.Limit > 0 {
		first, next = c.Last, c.Prev
	}
	for k, v := first(); k != nil && (f.Limit <= 0 || len(out) < f.Limit); k, v = next() {
		e, err := decodeEvent(k, v)
		if err != nil {
			return nil, fmt.Errorf("list audit events: %w", err)
		}
		if matchEvent(e, f) {
			out = append(out, e)
		}
	}
	if f.Limit > 0 {
		slices.Reverse(out)
	}
	return out, nil
}

func decodeEvent(k, v []byte) (access.AuditEvent, error) {
	var e access.AuditEvent
	if err := json.Unmarshal(v, &e); err != nil {
		return e, fmt.Errorf("decode audit event %x: %w", k, err)
	}
	return e, nil
}

func matchEvent(e access.AuditEvent, f access.AuditFilter) bool {
	return (f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Subject == "" || e.Subject == f.Subject) &&
		(f.Member == "" || strings.EqualFold(e.Member, f.Member)) &&
		(f.Role == "" || strings.EqualFold(e.Role, f.Role)) &&
		(f.Actor == "" || e.Actor.String() == f.Actor)
}

// VerifyAudit walks the whole audit chain in one read transaction, one event at a time. It
// returns where the chain first breaks (nil when intact) and how many events it checked.
// It applies the rules of access.VerifyChain, and also checks that each event's key is its Seq.
func (db *DB) VerifyAudit() (*access.ChainBreak, int, error) {
	var (
		brk *access.ChainBreak
		n   int
	)
	err := db.view("verify audit", func(t *tx) error {
		var err error
		brk, n, err = t.verifyAudit()
		return err
	})
	return brk, n, err
}

func (t *tx) verifyAudit() (brk *access.ChainBreak, n int, err error) {
	b, err := t.bucket(bucketAudit)
	if err != nil {
		return nil, 0, fmt.Errorf("verify audit: %w", err)
	}
	base, err := t.AuditBase()
	if err != nil {
		return &access.ChainBreak{Seq: 1, Reason: "the chain's base record (where it starts after pruning) is unreadable: " + err.Error()}, 0, nil
	}
	w, brk := access.NewChainWalk(base, t.key)
	if brk != nil {
		return brk, 0, nil
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		last, _ := w.Last()
		e, err := decodeEvent(k, v)
		if err != nil {
			return &access.ChainBreak{Seq: last + 1, Reason: err.Error()}, n, nil
		}
		n++
		if len(k) != 8 || binary.BigEndian.Uint64(k) != e.Seq {
			return &access.ChainBreak{Seq: keyNanos(k), Reason: fmt.Sprintf("event stored under key %x carries sequence %d", k, e.Seq)}, n, nil
		}
		if brk := w.Next(e); brk != nil {
			return brk, n, nil
		}
	}
	last, prev := w.Last()
	meta, err := t.bucket(bucketMeta)
	if err != nil {
		return nil, n, fmt.Errorf("verify audit: %w", err)
	}
	raw := meta.Get(keyAuditHead)
	if raw == nil {
		if n > 0 || base != nil {
			return &access.ChainBreak{Seq: last, Reason: "the chain's head record is missing, so events removed from the end cannot be ruled out (or the file was last written by a jitbot that kept no head)"}, n, nil
		}
		// No event, base or head: a store never written, unless it holds records, each of
		// which was written with its audit event.
		if kind, err := t.anyRecord(); err != nil {
			return nil, n, fmt.Errorf("verify audit: %w", err)
		} else if kind != "" {
			return &access.ChainBreak{Seq: 1, Reason: "the store holds " + kind + " but no audit events, base or head: the audit log was removed"}, n, nil
		}
		return nil, n, nil
	}
	var head access.ChainHead
	if err := json.Unmarshal(raw, &head); err != nil {
		return &access.ChainBreak{Seq: last, Reason: "the chain's head record is unreadable: " + err.Error()}, n, nil
	}
	return head.Check(last, prev, t.key), n, nil
}

// anyRecord names the first kind of record the store holds (requests, grants, review items),
// or "" when it holds none. Each is written in the transaction of an
// audit event, so a store holding one has had an audit chain.
func (t *tx) anyRecord() (string, error) {
	for _, r := range []struct {
		bucket []byte
		kind   string
	}{{bucketRequests, "requests"}, {bucketGrants, "grants"}, {bucketReviews, "review items"}} {
		b, err := t.bucket(r.bucket)
		if err != nil {
			return "", err
		}
		if k, _ := b.Cursor().First(); k != nil {
			return r.kind, nil
		}
	}
	return "", nil
}

// ExportAudit calls fn for every event at or after since (all when zero), oldest first, in one
// read transaction. It stops at fn's first error and returns it.
func (db *DB) ExportAudit(since time.Time, fn func(access.AuditEvent) error) error {
	return db.view("export audit", func(t *tx) error { return t.exportAudit(since, fn) })
}

func (t *tx) exportAudit(since time.Time, fn func(access.AuditEvent) error) error {
	b, err := t.bucket(bucketAudit)
	if err != nil {
		return fmt.Errorf("export audit: %w", err)
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		e, err := decodeEvent(k, v)
		if err != nil {
			return fmt.Errorf("export audit: %w", err)
		}
		if !since.IsZero() && e.Time.Before(since) {
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}
