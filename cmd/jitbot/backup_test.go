package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/store"
)

// snapshotOf reads every request, grant and audit event of a store, as JSON for comparison.
func snapshotOf(t *testing.T, st access.Store) (reqs, grants map[string]string, events []string) {
	t.Helper()
	reqs, grants = map[string]string{}, map[string]string{}
	err := st.View(context.Background(), func(tx access.Tx) error {
		rs, err := tx.Requests(access.RequestFilter{})
		if err != nil {
			return err
		}
		for _, r := range rs {
			b, _ := json.Marshal(r)
			reqs[r.ID] = string(b)
		}
		gs, err := tx.Grants(access.GrantFilter{})
		if err != nil {
			return err
		}
		for _, g := range gs {
			b, _ := json.Marshal(g)
			grants[g.ID] = string(b)
		}
		evs, err := tx.AuditEvents(access.AuditFilter{})
		for _, e := range evs {
			b, _ := json.Marshal(e)
			events = append(events, string(b))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return reqs, grants, events
}

// TestBackup_restoreWhileGranting takes copies of a running bot's store with `jitbot backup`
// while people request, get approved, are granted and revoke; then restores the last copy into
// a new bot. Every copy passes `jitbot audit verify` and its audit log is a prefix of the live
// one; the restored bot finds every request, grant and audit event the running one had.
func TestBackup_restoreWhileGranting(t *testing.T) {
	s := newTestSandbox(t)
	ctx := t.Context()
	dir := t.TempDir()
	env := []string{"JITBOT_HTTP_ADDR=" + s.app.httpLn.Addr().String(), "JITBOT_DB_PATH=" + s.app.cfg.DBPath}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	var granted []string
	var mu sync.Mutex
	for _, who := range []string{"U0ALICE", "U0BOB"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r, err := s.app.svc.Submit(ctx, access.UserActor(who), "jira-software", time.Hour, "backup test "+strconv.Itoa(i))
				if err != nil {
					t.Errorf("submit: %v", err)
					return
				}
				if _, err := s.app.svc.Approve(ctx, access.UserActor("U0LEAD"), r.ID); err != nil {
					t.Errorf("approve: %v", err)
					return
				}
				mu.Lock()
				granted = append(granted, r.ID)
				mu.Unlock()
				if i%2 == 1 {
					if _, err := s.app.svc.Revoke(ctx, access.UserActor(who), r.ID); err != nil {
						t.Errorf("revoke: %v", err)
						return
					}
				}
			}
		}()
	}
	var copies []string
	for i := range 3 {
		// Let a grant through between copies.
		mu.Lock()
		n := len(granted)
		mu.Unlock()
		for deadline := time.Now().Add(10 * time.Second); ; {
			mu.Lock()
			more := len(granted) > n
			mu.Unlock()
			if more {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no grants are being made")
			}
			time.Sleep(5 * time.Millisecond) // bounded polling for the granting goroutines
		}
		p := filepath.Join(dir, "copy"+strconv.Itoa(i)+".db")
		code, out, errOut := runMain([]string{"backup", p}, env...)
		if code != 0 || !strings.Contains(out, "from the running bot") {
			t.Fatalf("jitbot backup: exit %d\n%s%s", code, out, errOut)
		}
		copies = append(copies, p)
	}
	close(stop)
	wg.Wait()
	s.waitQuiet(ctx)
	final := filepath.Join(dir, "final.db")
	if code, out, errOut := runMain([]string{"backup", final}, env...); code != 0 {
		t.Fatalf("jitbot backup: exit %d\n%s%s", code, out, errOut)
	}
	liveReqs, liveGrants, liveEvents := snapshotOf(t, s.app.db)
	if len(granted) < 3 || len(liveGrants) < len(granted) {
		t.Fatalf("%d requests granted, %d grants stored", len(granted), len(liveGrants))
	}

	for _, p := range append(copies, final) {
		if code, out, errOut := runMain([]string{"audit", "verify"}, "JITBOT_DB_PATH="+p); code != 0 || !strings.Contains(out, "intact") {
			t.Fatalf("audit verify %s: exit %d\n%s%s", p, code, out, errOut)
		}
		db, err := store.Open(p, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		reqs, _, events := snapshotOf(t, db)
		db.Close()
		if len(events) == 0 || len(events) > len(liveEvents) || !slices.Equal(events, liveEvents[:len(events)]) {
			t.Fatalf("%s: its %d audit events are not a prefix of the live %d", p, len(events), len(liveEvents))
		}
		for id := range reqs {
			if _, ok := liveReqs[id]; !ok {
				t.Fatalf("%s: request %s is not in the live store", p, id)
			}
		}
	}

	// Restore: a new bot on the final copy finds everything.
	cfg := *s.app.cfg
	cfg.DBPath = final
	cfg.HTTPAddr = ""
	restored, err := NewApp(ctx, &cfg, zerolog.Nop(), appOptions{Now: s.clock.Now, NoSchedule: true})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	reqs, grants, events := snapshotOf(t, restored.db)
	if !maps(reqs, liveReqs) || !maps(grants, liveGrants) || !slices.Equal(events, liveEvents) {
		t.Fatalf("restored: %d requests, %d grants, %d events; live: %d, %d, %d",
			len(reqs), len(grants), len(events), len(liveReqs), len(liveGrants), len(liveEvents))
	}
	_, active, err := restored.svc.Mine(ctx, "U0ALICE")
	if err != nil {
		t.Fatal(err)
	}
	if len(active) == 0 {
		t.Fatal("the restored bot lists no active grant of alice")
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestBackup_stoppedBot: with no bot running, `jitbot backup` copies the bbolt file; it
// refuses to overwrite the store itself.
func TestBackup_stoppedBot(t *testing.T) {
	path := writeAuditDB(t, "")
	out := filepath.Join(t.TempDir(), "copy.db")
	env := []string{"JITBOT_DB_PATH=" + path, "JITBOT_HTTP_ADDR=127.0.0.1:1"}
	code, stdout, errOut := runMain([]string{"backup", out}, env...)
	if code != 0 || !strings.Contains(stdout, "from "+path) {
		t.Fatalf("exit %d\n%s%s", code, stdout, errOut)
	}
	if code, stdout, _ := runMain([]string{"audit", "verify"}, "JITBOT_DB_PATH="+out); code != 0 || !strings.Contains(stdout, "3 events") {
		t.Fatalf("audit verify of the copy: exit %d %s", code, stdout)
	}
	if code, _, errOut := runMain([]string{"backup", path}, env...); code != 1 || !strings.Contains(errOut, "the store itself") {
		t.Fatalf("backup onto the store: exit %d %s", code, errOut)
	}
	missing := filepath.Join(t.TempDir(), "nope.db")
	code, _, errOut = runMain([]string{"backup", out}, "JITBOT_DB_PATH="+missing, "JITBOT_HTTP_ADDR=127.0.0.1:1")
	if code != 1 || !strings.Contains(errOut, "no store at JITBOT_DB_PATH") {
		t.Fatalf("backup with no bot and no store: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("jitbot backup created an empty store")
	}
}

// TestBackup_httpLoopbackOnly: GET /backup answers a loopback client with a whole copy, and
// 403 to a request a proxy forwarded.
func TestBackup_httpLoopbackOnly(t *testing.T) {
	s := newTestSandbox(t)
	url := "http://" + s.app.httpLn.Addr().String() + "/backup"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(body)) || len(body) == 0 {
		t.Fatalf("GET /backup: %d, Content-Length %d, %d bytes", resp.StatusCode, resp.ContentLength, len(body))
	}
	p := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := store.CheckCopy(p); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forwarded GET /backup: %d, want 403", resp.StatusCode)
	}
}

func TestFromLoopback(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		host   string
		header string // "Name: value" set on the request
		want   bool
	}{
		{name: "ipv4_loopback", remote: "127.0.0.1:5555", host: "127.0.0.1:8080", want: true},
		{name: "ipv4_loopback_other", remote: "127.0.0.6:5555", host: "localhost:8080", want: true},
		{name: "ipv6_loopback", remote: "[::1]:5555", host: "[::1]:8080", want: true},
		{name: "ipv4_mapped_loopback", remote: "[::ffff:127.0.0.1]:5555", host: "localhost", want: true},
		{name: "no_host_http10", remote: "127.0.0.1:5555", want: true},
		{name: "pod_network", remote: "10.1.2.3:5555", host: "10.1.2.3:8080", want: false},
		{name: "ipv4_mapped_pod", remote: "[::ffff:10.1.2.3]:5555", want: false},
		{name: "public", remote: "203.0.113.9:443", want: false},
		{name: "link_local_with_zone", remote: "[fe80::1%eth0]:5555", want: false},
		{name: "garbage", remote: "nonsense", want: false},
		// Headers never let a request in, whatever they claim.
		{name: "forwarded_for_loopback_from_pod", remote: "10.1.2.3:5555", header: "X-Forwarded-For: 127.0.0.1", want: false},
		{name: "real_ip_loopback_from_pod", remote: "10.1.2.3:5555", header: "X-Real-IP: 127.0.0.1", want: false},
		// A proxy beside the bot connects from loopback for someone else.
		{name: "forwarded_for", remote: "127.0.0.1:5555", header: "X-Forwarded-For: 203.0.113.9", want: false},
		{name: "forwarded", remote: "127.0.0.1:5555", header: "Forwarded: for=203.0.113.9", want: false},
		{name: "real_ip", remote: "127.0.0.1:5555", header: "X-Real-IP: 203.0.113.9", want: false},
		{name: "via", remote: "127.0.0.1:5555", header: "Via: 1.1 nginx", want: false},
		{name: "envoy_sidecar", remote: "127.0.0.6:5555", header: "X-Forwarded-Proto: https", want: false},
		{name: "envoy_request_id", remote: "127.0.0.1:5555", header: "X-Envoy-Attempt-Count: 1", want: false},
		// A browser page whose name was made to resolve to 127.0.0.1 (DNS rebinding).
		{name: "rebound_host", remote: "127.0.0.1:5555", host: "attacker.example:8080", want: false},
		{name: "rebound_host_no_port", remote: "127.0.0.1:5555", host: "attacker.example", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "/backup", nil)
			r.RemoteAddr = tt.remote
			r.Host = tt.host
			if name, value, ok := strings.Cut(tt.header, ": "); ok {
				r.Header.Set(name, value)
			}
			if got := fromLoopback(r); got != tt.want {
				t.Fatalf("fromLoopback(%s, Host %q, %q) = %v", tt.remote, tt.host, tt.header, got)
			}
		})
	}
}

// TestBackups_scheduled: a scheduled run writes a checked copy named by its time and keeps the
// newest JITBOT_BACKUP_KEEP, leaving other files alone.
func TestBackups_scheduled(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backups") // created by the first run
	db, err := store.Open(filepath.Join(t.TempDir(), "jitbot.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	b := newBackups(db, backupConfig{Dir: dir, Schedule: "@daily", Keep: 3}, zerolog.Nop(), func() time.Time { return now }, prometheus.NewRegistry())
	for i := range 5 {
		if err := b.run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		now = now.Add(24 * time.Hour)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"jitbot-20260303T090000Z.db", "jitbot-20260304T090000Z.db", "jitbot-20260305T090000Z.db", "notes.txt"}
	if !slices.Equal(names, want) {
		t.Fatalf("backup dir holds %v, want %v", names, want)
	}
	if err := store.CheckCopy(filepath.Join(dir, want[2])); err != nil {
		t.Fatal(err)
	}
}

func TestLoadConfig_backup(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     []string
		wantErr string
		want    backupConfig
	}{
		{"defaults", nil, "", backupConfig{Schedule: "@daily", Keep: 7}},
		{"set", []string{"JITBOT_BACKUP_DIR=" + dir, "JITBOT_BACKUP_SCHEDULE=0 3 * * *", "JITBOT_BACKUP_KEEP=14"}, "", backupConfig{Dir: dir, Schedule: "0 3 * * *", Keep: 14}},
		{"bad_schedule", []string{"JITBOT_BACKUP_SCHEDULE=sometimes"}, "JITBOT_BACKUP_SCHEDULE", backupConfig{}},
		{"bad_keep", []string{"JITBOT_BACKUP_KEEP=0"}, "JITBOT_BACKUP_KEEP", backupConfig{}},
		{"dir_is_a_file", []string{"JITBOT_BACKUP_DIR=" + file}, "JITBOT_BACKUP_DIR", backupConfig{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(append(goodEnv(), tt.env...))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Backup != tt.want {
				t.Fatalf("got %+v, want %+v", c.Backup, tt.want)
			}
		})
	}
}
