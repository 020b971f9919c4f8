package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/store"
	"github.com/jitbot/jitbot/store/etcdstore"
	"github.com/jitbot/jitbot/store/etcdstore/etcdtest"
)

func TestLoadConfig_historyRetention(t *testing.T) {
	tests := []struct {
		value   string // "" leaves it unset
		want    time.Duration
		wantErr string
	}{
		{"", access.DefaultHistoryRetention, ""},
		{"0", 0, ""},
		{"off", 0, ""},
		{"OFF", 0, ""},
		{"30d", 30 * 24 * time.Hour, ""},
		{"24h", 24 * time.Hour, ""},
		{"23h", 0, "the minimum is 1d"},
		{"90m", 0, "break_glass_per_day"},
		{"-5d", 0, "JITBOT_HISTORY_RETENTION"},
		{"a year", 0, "not a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			env := goodEnv()
			if tt.value != "" {
				env = append(env, "JITBOT_HISTORY_RETENTION="+tt.value)
			}
			c, err := LoadConfig(env)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), "JITBOT_HISTORY_RETENTION") || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming JITBOT_HISTORY_RETENTION and saying %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case c.KeepHistory != tt.want:
				t.Fatalf("retention %s, want %s", c.KeepHistory, tt.want)
			}
		})
	}
}

// schedulerJob starts app's scheduler for the rest of the test and returns its job name, to
// run by hand.
func schedulerJob(t *testing.T, app *App, name string) func() {
	t.Helper()
	sch := newScheduler(app)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sch.run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		sch.mu.Lock()
		if sch.cron != nil {
			id, ok := sch.jobs[name]
			jobs := fmt.Sprint(sch.jobs)
			var run func()
			if ok {
				run = sch.cron.Entry(id).Job.Run
			}
			sch.mu.Unlock()
			if !ok {
				t.Fatalf("no %s job among %s", name, jobs)
			}
			return run
		}
		sch.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("scheduler did not start")
		}
	}
}

// TestScheduler_pruneHistoryJob: the hourly "prune history" job of a running jitbot removes
// what ended longer ago than JITBOT_HISTORY_RETENTION and keeps what is live, and
// `jitbot audit verify` over the pruned file says the chain is intact and where it starts.
func TestScheduler_pruneHistoryJob(t *testing.T) {
	s := newTestSandbox(t)
	s.app.cfg.KeepHistory = access.MinHistoryRetention
	start := s.clock.Now()
	for _, id := range []string{"OLD00001", "OLD00002"} {
		accesstest.StoreStory(t, s.app.db, id, start) // revoked an hour later
	}
	s.clock.Advance(26 * time.Hour)
	accesstest.ActiveStory(t, s.app.db, "LIVE0001", s.clock.Now(), time.Hour)

	ctx := context.Background()
	job := schedulerJob(t, s.app, "prune history")
	job()

	for id, want := range map[string]access.Code{"OLD00001": access.ENOTFOUND, "OLD00002": access.ENOTFOUND, "LIVE0001": ""} {
		if _, err := s.app.svc.Grant(ctx, id); access.ErrorCode(err) != want {
			t.Errorf("grant %s after the job: %v", id, err)
		}
	}
	var evs []access.AuditEvent
	if err := s.app.db.View(ctx, func(tx access.Tx) (err error) {
		evs, err = tx.AuditEvents(access.AuditFilter{Limit: 1})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Action != access.ActionHistoryPruned || !strings.Contains(evs[0].Detail, "2 grants, 2 requests") {
		t.Fatalf("last event %+v, want history.pruned of 2 grants and their requests", evs)
	}
	base, err := s.app.db.AuditBase(ctx)
	if err != nil || base == nil || base.Seq < 8 {
		t.Fatalf("base %+v, %v: want the 8 events of the old grants pruned", base, err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	f, err := os.Create(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.db.(boltState).Backup(f, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	code, out, errOut := runMain([]string{"audit", "verify"}, "JITBOT_DB_PATH="+copyPath)
	if code != 0 || !strings.Contains(out, "audit chain intact") || !strings.Contains(out, fmt.Sprintf("the chain starts at event %d", base.Seq+1)) {
		t.Fatalf("audit verify of the pruned file: exit %d\n%s%s", code, out, errOut)
	}
}

// prunedAuditDB writes a bbolt file whose chain has been pruned: two grant stories (four events
// each) ended long ago, one recent, pruned with a 1-day retention. The chain then holds events
// 9 onwards after its base (event 8).
func prunedAuditDB(t *testing.T, key string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jitbot.db")
	db, err := store.Open(path, store.Options{AuditKey: []byte(key), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	accesstest.StoreStory(t, db, "OLD00001", t0)
	accesstest.StoreStory(t, db, "OLD00002", t0)
	accesstest.StoreStory(t, db, "NEW00001", t0.Add(72*time.Hour))
	if err := pruneHistory(context.Background(), db, t0.Add(50*time.Hour), access.MinHistoryRetention); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// editBolt changes the file at path as someone holding it (not the key) would.
func editBolt(t *testing.T, path string, fn func(btx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// rebase rewrites the chain's base record to event seq, sealed with key (not the audit key).
func rebase(btx *bolt.Tx, seq uint64, key []byte) error {
	var e access.AuditEvent
	if err := json.Unmarshal(btx.Bucket([]byte("audit")).Get(seqKey(seq)), &e); err != nil {
		return err
	}
	b, err := json.Marshal(access.NewChainBase(e.Seq, e.Hash, e.Time, key))
	if err != nil {
		return err
	}
	return btx.Bucket([]byte("meta")).Put([]byte("audit_base"), b)
}

// TestAuditVerify_prunedChain: `jitbot audit verify` over a chain pruned by retention: intact,
// and every way of hiding more events (removing them from the front, with or without moving
// the base, editing the base or the first event) is a break when JITBOT_AUDIT_KEY is set.
func TestAuditVerify_prunedChain(t *testing.T) {
	const key = "k1"
	tests := []struct {
		name   string
		key    string // the file's and verify's key
		edit   func(btx *bolt.Tx) error
		want   string // in stdout when intact, else in stderr
		intact bool
	}{
		{name: "intact", key: key, intact: true, want: "the chain starts at event 9: events 1 to 8"},
		{name: "intact_without_key", key: "", intact: true, want: "the chain starts at event 9"},
		{name: "front_event_removed", key: key, want: "must start at event 9", edit: func(btx *bolt.Tx) error {
			return btx.Bucket([]byte("audit")).Delete(seqKey(9))
		}},
		{name: "front_removed_and_base_moved_without_the_key", key: key, want: "base record", edit: func(btx *bolt.Tx) error {
			if err := rebase(btx, 9, []byte("guessed")); err != nil {
				return err
			}
			return btx.Bucket([]byte("audit")).Delete(seqKey(9))
		}},
		{name: "base_edited", key: key, want: "base record", edit: func(btx *bolt.Tx) error {
			meta := btx.Bucket([]byte("meta"))
			var b access.ChainBase
			if err := json.Unmarshal(meta.Get([]byte("audit_base")), &b); err != nil {
				return err
			}
			b.Time = b.Time.Add(-time.Hour)
			v, _ := json.Marshal(b)
			return meta.Put([]byte("audit_base"), v)
		}},
		{name: "base_removed", key: key, want: "no events were pruned by retention", edit: func(btx *bolt.Tx) error {
			return btx.Bucket([]byte("meta")).Delete([]byte("audit_base"))
		}},
		{name: "first_event_edited", key: key, want: "broken at event 9", edit: func(btx *bolt.Tx) error {
			b := btx.Bucket([]byte("audit"))
			v := b.Get(seqKey(9))
			return b.Put(seqKey(9), []byte(strings.Replace(string(v), "UALICE", "UMALLORY", 1)))
		}},
		{name: "first_event_edited_without_key", key: "", want: "broken at event 9", edit: func(btx *bolt.Tx) error {
			b := btx.Bucket([]byte("audit"))
			v := b.Get(seqKey(9))
			return b.Put(seqKey(9), []byte(strings.Replace(string(v), "UALICE", "UMALLORY", 1)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := prunedAuditDB(t, tt.key)
			if tt.edit != nil {
				editBolt(t, path, tt.edit)
			}
			env := []string{"JITBOT_DB_PATH=" + path}
			if tt.key != "" {
				env = append(env, "JITBOT_AUDIT_KEY="+tt.key)
			}
			code, out, errOut := runMain([]string{"audit", "verify"}, env...)
			switch {
			case tt.intact && (code != 0 || !strings.Contains(out, tt.want)):
				t.Fatalf("exit %d, want 0 saying %q:\n%s%s", code, tt.want, out, errOut)
			case !tt.intact && (code != 1 || !strings.Contains(errOut, tt.want)):
				t.Fatalf("exit %d, want 1 saying %q:\n%s%s", code, tt.want, out, errOut)
			}
		})
	}
}

// TestMigrate_prunedChain: a pruned bbolt file copied into etcd keeps its base: `jitbot audit
// verify` on etcd says where the chain starts, and the next prune, on etcd, keeps it verifiable.
func TestMigrate_prunedChain(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded etcd")
	}
	path := prunedAuditDB(t, "k1")
	srv := etcdtest.Start(t)
	env := []string{"JITBOT_DB_PATH=" + path, "JITBOT_ETCD_ENDPOINTS=" + srv.Endpoints()[0], "JITBOT_ETCD_PREFIX=/pruned/", "JITBOT_AUDIT_KEY=k1"}
	if code, out, errOut := runMain([]string{"migrate", "--to", "etcd"}, env...); code != 0 {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	env = append(env, "JITBOT_STORE=etcd")
	if code, out, errOut := runMain([]string{"audit", "verify"}, env...); code != 0 || !strings.Contains(out, "the chain starts at event 9") {
		t.Fatalf("audit verify on etcd: exit %d\n%s%s", code, out, errOut)
	}
	db, err := etcdstore.Open(context.Background(), etcdstore.Options{Endpoints: srv.Endpoints(), Prefix: "/pruned/", AuditKey: []byte("k1")})
	if err != nil {
		t.Fatal(err)
	}
	// Everything is old a week later: every event goes, the history.pruned event follows the base.
	err = pruneHistory(context.Background(), db, time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC), access.MinHistoryRetention)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runMain([]string{"audit", "verify"}, env...); code != 0 || !strings.Contains(out, "audit chain intact: 1 events") || !strings.Contains(out, "the chain starts at event 14") {
		t.Fatalf("audit verify on etcd after pruning there: exit %d\n%s%s", code, out, errOut)
	}
}
