package accesstest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

func contractOutbox(t *testing.T, s access.Store) {
	r, _ := contractPending(t, "R1", "jira", "U1", contractT0)
	items := []*access.OutboxItem{
		{Notice: &access.Notice{Kind: access.NoticeRequested, Request: r, RoleName: "jira", Approvers: []string{"U2"}}, CreatedAt: contractT0},
		{Key: "update:C1/1.1", Channel: "C1", Body: json.RawMessage(`{"v":1}`), CreatedAt: contractT0},
		{Channel: "C2", Body: json.RawMessage(`{"v":"x"}`), CreatedAt: contractT0},
	}
	contractUpdate(t, s, func(tx access.Tx) error {
		for _, it := range items {
			if err := tx.PutOutbox(it); err != nil {
				return err
			}
		}
		return nil
	})
	if !(items[0].ID < items[1].ID && items[1].ID < items[2].ID) {
		t.Fatalf("IDs not increasing: %d %d %d", items[0].ID, items[1].ID, items[2].ID)
	}
	// A later update of the same message replaces the waiting one and keeps its place.
	later := &access.OutboxItem{Key: "update:C1/1.1", Channel: "C1", Body: json.RawMessage(`{"v":2}`), CreatedAt: contractT0.Add(time.Second)}
	contractUpdate(t, s, func(tx access.Tx) error { return tx.PutOutbox(later) })
	if later.ID != items[1].ID {
		t.Errorf("coalesced item got ID %d; want %d", later.ID, items[1].ID)
	}
	contractView(t, s, func(tx access.Tx) error {
		one, err := tx.OutboxItem(later.ID)
		if err != nil || string(one.Body) != `{"v":2}` {
			t.Errorf("OutboxItem(%d) = %+v, %v", later.ID, one, err)
		}
		if _, err := tx.OutboxItem(999); access.ErrorCode(err) != access.ENOTFOUND {
			t.Errorf("OutboxItem(999) = %v; want ENOTFOUND", err)
		}
		return nil
	})
	var got []*access.OutboxItem
	contractView(t, s, func(tx access.Tx) error {
		var err error
		got, err = tx.Outbox(0)
		return err
	})
	if len(got) != 3 || got[0].Notice == nil || got[0].Notice.Request.ID != "R1" || got[0].Notice.Approvers[0] != "U2" ||
		got[0].Notice.RoleName != "jira" || string(got[1].Body) != `{"v":2}` {
		t.Fatalf("outbox = %+v", got)
	}
	// Retry bookkeeping overwrites by ID.
	got[2].Attempts, got[2].LastError = 3, "ratelimited"
	contractUpdate(t, s, func(tx access.Tx) error {
		if err := tx.PutOutbox(got[2]); err != nil {
			return err
		}
		return tx.DeleteOutbox(got[1].ID)
	})
	contractView(t, s, func(tx access.Tx) error {
		var err error
		got, err = tx.Outbox(1)
		if err != nil || len(got) != 1 || got[0].ID != items[0].ID {
			t.Errorf("Outbox(1) = %v, %v", got, err)
		}
		got, err = tx.Outbox(0)
		if err != nil || len(got) != 2 || got[1].Attempts != 3 || got[1].LastError != "ratelimited" {
			t.Errorf("after retry and delete: %v, %v", got, err)
		}
		return nil
	})
	// The key is free again: a new update of that message is a new item at the end.
	again := &access.OutboxItem{Key: "update:C1/1.1", Body: json.RawMessage(`{"v":3}`)}
	contractUpdate(t, s, func(tx access.Tx) error { return tx.DeleteOutbox(12345) })
	contractUpdate(t, s, func(tx access.Tx) error { return tx.PutOutbox(again) })
	if again.ID <= items[2].ID {
		t.Errorf("new item after delete got ID %d; want > %d", again.ID, items[2].ID)
	}
}

func contractOutboxRollback(t *testing.T, s access.Store) {
	boom := errors.New("boom")
	err := s.Update(t.Context(), func(tx access.Tx) error {
		r, e := contractPending(t, "R1", "jira", "U1", contractT0)
		if err := tx.PutRequest(r); err != nil {
			return err
		}
		if err := tx.AppendAudit(&e); err != nil {
			return err
		}
		if err := tx.PutOutbox(&access.OutboxItem{Notice: &access.Notice{Kind: access.NoticeRequested, Request: r}}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update = %v", err)
	}
	contractView(t, s, func(tx access.Tx) error {
		if got, err := tx.Outbox(0); err != nil || len(got) != 0 {
			t.Errorf("outbox after rollback = %v, %v", got, err)
		}
		return nil
	})
	if err := s.View(t.Context(), func(tx access.Tx) error {
		return tx.PutOutbox(&access.OutboxItem{Body: json.RawMessage(`{}`)})
	}); err == nil {
		t.Error("PutOutbox in a read-only transaction succeeded")
	}
}

func contractInbox(t *testing.T, s access.Store) {
	a := &access.InboxItem{ID: "env-b", Type: "slash_commands", Payload: json.RawMessage(`{"text":"list"}`), At: contractT0}
	b := &access.InboxItem{ID: "env-a", Type: "interactive", Payload: json.RawMessage(`{}`), At: contractT0.Add(time.Millisecond)}
	contractUpdate(t, s, func(tx access.Tx) error {
		if err := tx.PutInbox(a); err != nil {
			return err
		}
		return tx.PutInbox(b)
	})
	a.Attempts = 1
	contractUpdate(t, s, func(tx access.Tx) error { return tx.PutInbox(a) })
	contractView(t, s, func(tx access.Tx) error {
		got, err := tx.Inbox()
		if err != nil || len(got) != 2 || got[0].ID != "env-b" || got[0].Attempts != 1 || string(got[0].Payload) != `{"text":"list"}` || got[1].ID != "env-a" {
			t.Errorf("inbox = %+v, %v", got, err)
		}
		return nil
	})
	contractUpdate(t, s, func(tx access.Tx) error {
		if err := tx.DeleteInbox("env-b"); err != nil {
			return err
		}
		return tx.DeleteInbox("never")
	})
	contractView(t, s, func(tx access.Tx) error {
		if got, err := tx.Inbox(); err != nil || len(got) != 1 || got[0].ID != "env-a" {
			t.Errorf("inbox after delete = %+v, %v", got, err)
		}
		return nil
	})
}
