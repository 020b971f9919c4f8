package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/store"
)

func writeAuditDB(t *testing.T, key string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jitbot.db")
	db, err := store.Open(path, store.Options{AuditKey: []byte(key)})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range []access.Action{access.ActionRequestSubmitted, access.ActionRequestApproved, access.ActionGrantActive} {
		ev := access.AuditEvent{Time: time.Date(2026, 11, 27, 9, i, 0, 0, time.UTC), Action: a, Actor: access.UserActor("U0ALICE"), Subject: "R1", Role: "site-admin", Member: "alice@example.com", Detail: "d"}
		if err := db.Update(context.Background(), func(tx access.Tx) error { return tx.AppendAudit(&ev) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func runMain(args []string, env ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, env, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestAudit_verify(t *testing.T) {
	path := writeAuditDB(t, "k1")
	env := []string{"JITBOT_DB_PATH=" + path, "JITBOT_AUDIT_KEY=k1"}
	if code, out, errOut := runMain([]string{"audit", "verify"}, env...); code != 0 || !strings.Contains(out, "3 events") {
		t.Fatalf("intact chain: exit %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runMain([]string{"audit", "verify"}, "JITBOT_DB_PATH="+path, "JITBOT_AUDIT_KEY=wrong"); code != 1 || !strings.Contains(errOut, "event 1") {
		t.Fatalf("wrong key: exit %d %s", code, errOut)
	}

	// Edit the second event in place, as someone covering their tracks would.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("audit"))
		k := make([]byte, 8)
		binary.BigEndian.PutUint64(k, 2)
		v := b.Get(k)
		if v == nil {
			t.Fatal("event 2 not found under its key")
		}
		return b.Put(k, bytes.Replace(v, []byte("U0ALICE"), []byte("U0MALLORY"), 1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runMain([]string{"audit", "verify"}, env...)
	if code != 1 || !strings.Contains(errOut, "broken at event 2") {
		t.Fatalf("edited event: exit %d %s", code, errOut)
	}
}

func TestAudit_export(t *testing.T) {
	path := writeAuditDB(t, "")
	env := "JITBOT_DB_PATH=" + path
	code, out, errOut := runMain([]string{"audit", "export", "--format", "csv"}, env)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[0], "seq,time,action,actor,subject,role,member,detail") {
		t.Fatalf("csv: exit %d %q %s", code, out, errOut)
	}
	code, out, _ = runMain([]string{"audit", "export"}, env)
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, `"action":"request.submitted"`) || !strings.Contains(out, `"member":"alice@example.com"`) {
		t.Fatalf("json: exit %d %q", code, out)
	}
	if code, _, _ := runMain([]string{"audit", "export", "--format", "xml"}, env); code != 2 {
		t.Fatalf("bad format exit %d", code)
	}
}

func TestAudit_corruptDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jitbot.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runMain([]string{"audit", "verify"}, "JITBOT_DB_PATH="+path)
	if code != 1 || errOut == "" || strings.Contains(errOut, "panic") {
		t.Fatalf("corrupt db: exit %d %s", code, errOut)
	}
}

// TestPolicyCheck_testdata: every broken file exits 1 and names its line.
func TestPolicyCheck_testdata(t *testing.T) {
	files, _ := filepath.Glob("../../policies/testdata/*.yaml")
	if len(files) < 10 {
		t.Fatalf("only %d broken policy files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, _, errOut := runMain([]string{"policy", "check", f})
			if code != 1 || !strings.Contains(errOut, f+":") {
				t.Fatalf("exit %d, output %q", code, errOut)
			}
		})
	}
}

// appendEvents appends n more events to the database at path.
func appendEvents(t *testing.T, path, key string, n int) {
	t.Helper()
	db, err := store.Open(path, store.Options{AuditKey: []byte(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range n {
		ev := access.AuditEvent{Time: time.Date(2026, 11, 27, 10, i, 0, 0, time.UTC), Action: access.ActionGrantRevoked, Actor: access.SystemActor, Subject: "R1", Role: "site-admin", Member: "alice@example.com"}
		if err := db.Update(context.Background(), func(tx access.Tx) error { return tx.AppendAudit(&ev) }); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAudit_verifyTruncated(t *testing.T) {
	for _, key := range []string{"k1", ""} {
		t.Run("key_"+map[bool]string{true: "set", false: "unset"}[key != ""], func(t *testing.T) {
			path := writeAuditDB(t, key)
			appendEvents(t, path, key, 3)
			env := []string{"JITBOT_DB_PATH=" + path, "JITBOT_AUDIT_KEY=" + key}
			if code, out, errOut := runMain([]string{"audit", "verify"}, env...); code != 0 || !strings.Contains(out, "6 events") {
				t.Fatalf("intact chain: exit %d %s %s", code, out, errOut)
			}
			// Delete the last three events, as someone hiding what they did last would.
			db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("audit"))
				for seq := uint64(4); seq <= 6; seq++ {
					if err := b.Delete(binary.BigEndian.AppendUint64(nil, seq)); err != nil {
						return err
					}
				}
				return nil
			})
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			code, _, errOut := runMain([]string{"audit", "verify"}, env...)
			if code != 1 || !strings.Contains(errOut, "removed from the end") {
				t.Fatalf("truncated chain: exit %d %s", code, errOut)
			}
		})
	}
}

func TestAudit_noKeyNote(t *testing.T) {
	path := writeAuditDB(t, "")
	code, out, _ := runMain([]string{"audit", "verify"}, "JITBOT_DB_PATH="+path)
	if code != 0 || !strings.Contains(out, "proves the order of the events, not who wrote them") {
		t.Fatalf("verify without key: exit %d %q", code, out)
	}
	code, out, _ = runMain([]string{"audit", "verify"}, "JITBOT_DB_PATH="+path, "JITBOT_AUDIT_KEY=")
	if code != 0 || !strings.Contains(out, "not who wrote them") {
		t.Fatalf("verify with an empty key: exit %d %q", code, out)
	}
}

func TestAudit_missingPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.db")
	for _, args := range [][]string{{"audit", "verify"}, {"audit", "export"}} {
		code, out, errOut := runMain(args, "JITBOT_DB_PATH="+path)
		if code != 1 || !strings.Contains(errOut, "no jitbot database at "+path) || strings.Contains(out, "intact") {
			t.Errorf("%v on a missing file: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("%v created %s", args, path)
		}
	}
}

// TestAudit_verifyRollback: a store rolled back whole to an older copy, or cut short at its end
// with the head record of an older copy put back, is a consistent chain that audit verify
// cannot tell from the real one; the head it prints, recorded outside the store, can.
func TestAudit_verifyRollback(t *testing.T) {
	const key = "k1"
	path := writeAuditDB(t, key)
	env := []string{"JITBOT_DB_PATH=" + path, "JITBOT_AUDIT_KEY=" + key}
	head := func(t *testing.T, env []string) string {
		t.Helper()
		code, out, errOut := runMain([]string{"audit", "verify"}, env...)
		if code != 0 {
			t.Fatalf("verify: exit %d %s %s", code, out, errOut)
		}
		for line := range strings.Lines(out) {
			if strings.HasPrefix(line, "head: event ") {
				f := strings.Fields(line)
				return f[2] + " " + f[4]
			}
		}
		t.Fatalf("verify printed no head: %s", out)
		return ""
	}
	old := filepath.Join(t.TempDir(), "old.db")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	oldHead := head(t, []string{"JITBOT_DB_PATH=" + old, "JITBOT_AUDIT_KEY=" + key})
	if !strings.HasPrefix(oldHead, "3, ") {
		t.Fatalf("head of the old copy: %q, want event 3", oldHead)
	}
	appendEvents(t, path, key, 3)
	recorded := head(t, env)
	if !strings.HasPrefix(recorded, "6, ") {
		t.Fatalf("head after three more events: %q, want event 6", recorded)
	}

	// Cut the last three events and put the old copy's head record back.
	var oldHeadRecord []byte
	bdb, err := bolt.Open(old, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = bdb.View(func(tx *bolt.Tx) error {
		oldHeadRecord = bytes.Clone(tx.Bucket([]byte("meta")).Get([]byte("audit_head")))
		return nil
	})
	bdb.Close()
	bdb, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		for seq := uint64(4); seq <= 6; seq++ {
			if err := tx.Bucket([]byte("audit")).Delete(binary.BigEndian.AppendUint64(nil, seq)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("audit_head"), oldHeadRecord)
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string][]string{"rolled_back_copy": {"JITBOT_DB_PATH=" + old, "JITBOT_AUDIT_KEY=" + key}, "cut_with_old_head": env} {
		if got := head(t, env); got == recorded {
			t.Errorf("%s: verify printed the recorded head %s", name, got)
		}
	}
}
