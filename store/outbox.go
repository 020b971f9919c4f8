package store

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jitbot/jitbot/access"
)

// PutOutbox stores an outbox item (see access.Tx): a new one gets the bucket's next sequence,
// or the ID of the waiting item with the same key, whose content it replaces.
func (t *tx) PutOutbox(it *access.OutboxItem) error {
	if it == nil {
		return access.Errorf(access.EINVALID, "An empty outbox item cannot be stored.")
	}
	b, err := t.bucket(bucketOutbox)
	if err != nil {
		return fmt.Errorf("put outbox item: %w", err)
	}
	keys, err := t.bucket(bucketOutboxKeys)
	if err != nil {
		return fmt.Errorf("put outbox item: %w", err)
	}
	if it.ID == 0 && it.Key != "" {
		if v := keys.Get([]byte(it.Key)); len(v) == 8 {
			it.ID = binary.BigEndian.Uint64(v)
		}
	}
	if it.ID == 0 {
		if it.ID, err = t.nextOutboxID(); err != nil {
			return fmt.Errorf("put outbox item: %w", err)
		}
	}
	k := seqKey(it.ID)
	var prev access.OutboxItem
	if ok, err := getJSON(b, k, &prev); err != nil {
		return fmt.Errorf("put outbox item %d: %w", it.ID, err)
	} else if ok && prev.Key != "" && prev.Key != it.Key {
		if err := keys.Delete([]byte(prev.Key)); err != nil {
			return fmt.Errorf("put outbox item %d: %w", it.ID, err)
		}
	}
	if err := putJSON(b, k, it); err != nil {
		return fmt.Errorf("put outbox item %d: %w", it.ID, err)
	}
	if it.Key != "" {
		if err := keys.Put([]byte(it.Key), k); err != nil {
			return fmt.Errorf("put outbox item %d: %w", it.ID, err)
		}
	}
	t.note.outbox = true
	return nil
}

// nextOutboxID returns the next outbox ID, kept in the meta bucket so that IDs are never reused.
func (t *tx) nextOutboxID() (uint64, error) {
	meta, err := t.bucket(bucketMeta)
	if err != nil {
		return 0, err
	}
	var n uint64
	if v := meta.Get(keyOutboxSeq); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	return n, meta.Put(keyOutboxSeq, seqKey(n))
}

// Outbox returns waiting items in ID order, at most limit (0: all).
func (t *tx) Outbox(limit int) ([]*access.OutboxItem, error) {
	b, err := t.bucket(bucketOutbox)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	var out []*access.OutboxItem
	c := b.Cursor()
	for k, v := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
		var it access.OutboxItem
		if err := json.Unmarshal(v, &it); err != nil {
			return nil, fmt.Errorf("read outbox item %x: %w", k, err)
		}
		out = append(out, &it)
	}
	return out, nil
}

// OutboxItem returns waiting item id.
func (t *tx) OutboxItem(id uint64) (*access.OutboxItem, error) {
	b, err := t.bucket(bucketOutbox)
	if err != nil {
		return nil, fmt.Errorf("get outbox item %d: %w", id, err)
	}
	var it access.OutboxItem
	ok, err := getJSON(b, seqKey(id), &it)
	if err != nil {
		return nil, fmt.Errorf("get outbox item %d: %w", id, err)
	}
	if !ok {
		return nil, access.Errorf(access.ENOTFOUND, "Outbox item %d was not found.", id)
	}
	return &it, nil
}

// DeleteOutbox removes item id and its key.
func (t *tx) DeleteOutbox(id uint64) error {
	b, err := t.bucket(bucketOutbox)
	if err != nil {
		return fmt.Errorf("delete outbox item %d: %w", id, err)
	}
	keys, err := t.bucket(bucketOutboxKeys)
	if err != nil {
		return fmt.Errorf("delete outbox item %d: %w", id, err)
	}
	k := seqKey(id)
	var it access.OutboxItem
	ok, err := getJSON(b, k, &it)
	if err != nil || !ok {
		return err
	}
	if it.Key != "" {
		if v := keys.Get([]byte(it.Key)); len(v) == 8 && binary.BigEndian.Uint64(v) == id {
			if err := keys.Delete([]byte(it.Key)); err != nil {
				return fmt.Errorf("delete outbox item %d: %w", id, err)
			}
		}
	}
	if err := b.Delete(k); err != nil {
		return fmt.Errorf("delete outbox item %d: %w", id, err)
	}
	return nil
}

// PutInbox records an envelope before its ack.
func (t *tx) PutInbox(e *access.InboxItem) error {
	if e == nil || e.ID == "" {
		return access.Errorf(access.EINVALID, "An envelope without an ID cannot be recorded.")
	}
	b, err := t.bucket(bucketInbox)
	if err == nil {
		err = putJSON(b, []byte(e.ID), e)
	}
	if err != nil {
		return fmt.Errorf("record envelope %s: %w", e.ID, err)
	}
	return nil
}

// Inbox returns the recorded envelopes not yet done, oldest first.
func (t *tx) Inbox() ([]*access.InboxItem, error) {
	b, err := t.bucket(bucketInbox)
	if err != nil {
		return nil, fmt.Errorf("read inbox: %w", err)
	}
	var out []*access.InboxItem
	err = b.ForEach(func(k, v []byte) error {
		var e access.InboxItem
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("read envelope %s: %w", k, err)
		}
		out = append(out, &e)
		return nil
	})
	slices.SortFunc(out, func(a, b *access.InboxItem) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID)) })
	return out, err
}

// DeleteInbox forgets a done envelope.
func (t *tx) DeleteInbox(id string) error {
	b, err := t.bucket(bucketInbox)
	if err == nil {
		err = b.Delete([]byte(id))
	}
	if err != nil {
		return fmt.Errorf("forget envelope %s: %w", id, err)
	}
	return nil
}
