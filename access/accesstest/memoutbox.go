package accesstest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/jitbot/jitbot/access"
)

// memBoxes holds the outbox and the inbox of a MemStore.
type memBoxes struct {
	outbox map[uint64][]byte
	keys   map[string]uint64 // outbox key -> ID
	seq    uint64
	inbox  map[string][]byte
}

func (b memBoxes) clone() memBoxes {
	return memBoxes{outbox: maps.Clone(b.outbox), keys: maps.Clone(b.keys), seq: b.seq, inbox: maps.Clone(b.inbox)}
}

func (t *memTx) PutOutbox(it *access.OutboxItem) error {
	if it == nil {
		return access.Errorf(access.EINVALID, "An empty outbox item cannot be stored.")
	}
	if err := t.checkWritable("put outbox item"); err != nil {
		return err
	}
	b := &t.st.box
	if b.outbox == nil {
		b.outbox, b.keys = map[uint64][]byte{}, map[string]uint64{}
	}
	if it.ID == 0 && it.Key != "" {
		if id, ok := b.keys[it.Key]; ok {
			it.ID = id
		}
	}
	if it.ID == 0 {
		b.seq++
		it.ID = b.seq
	}
	if old, ok := b.outbox[it.ID]; ok {
		var prev access.OutboxItem
		if json.Unmarshal(old, &prev) == nil && prev.Key != "" && prev.Key != it.Key {
			delete(b.keys, prev.Key)
		}
	}
	data, err := json.Marshal(it)
	if err != nil {
		return fmt.Errorf("put outbox item: %w", err)
	}
	b.outbox[it.ID] = data
	if it.Key != "" {
		b.keys[it.Key] = it.ID
	}
	t.note.outbox = true
	return nil
}

func (t *memTx) Outbox(limit int) ([]*access.OutboxItem, error) {
	ids := slices.Sorted(maps.Keys(t.st.box.outbox))
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]*access.OutboxItem, 0, len(ids))
	for _, id := range ids {
		it, err := memDecode[access.OutboxItem](t.st.box.outbox[id])
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

func (t *memTx) OutboxItem(id uint64) (*access.OutboxItem, error) {
	data, ok := t.st.box.outbox[id]
	if !ok {
		return nil, access.Errorf(access.ENOTFOUND, "Outbox item %d was not found.", id)
	}
	return memDecode[access.OutboxItem](data)
}

func (t *memTx) DeleteOutbox(id uint64) error {
	if err := t.checkWritable("delete outbox item"); err != nil {
		return err
	}
	b := &t.st.box
	if data, ok := b.outbox[id]; ok {
		var it access.OutboxItem
		if json.Unmarshal(data, &it) == nil && it.Key != "" && b.keys[it.Key] == id {
			delete(b.keys, it.Key)
		}
		delete(b.outbox, id)
	}
	return nil
}

func (t *memTx) PutInbox(e *access.InboxItem) error {
	if e == nil || e.ID == "" {
		return access.Errorf(access.EINVALID, "An envelope without an ID cannot be recorded.")
	}
	if err := t.checkWritable("put inbox " + e.ID); err != nil {
		return err
	}
	if t.st.box.inbox == nil {
		t.st.box.inbox = map[string][]byte{}
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("put inbox %s: %w", e.ID, err)
	}
	t.st.box.inbox[e.ID] = data
	return nil
}

func (t *memTx) Inbox() ([]*access.InboxItem, error) {
	var out []*access.InboxItem
	for _, data := range t.st.box.inbox {
		e, err := memDecode[access.InboxItem](data)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *access.InboxItem) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (t *memTx) DeleteInbox(id string) error {
	if err := t.checkWritable("delete inbox " + id); err != nil {
		return err
	}
	delete(t.st.box.inbox, id)
	return nil
}
