package main

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/jitbot/jitbot/atlassian/atlassiantest"
	"github.com/jitbot/jitbot/bot/bottest"
	"github.com/jitbot/jitbot/store/etcdstore/etcdtest"
)

// changes returns the Atlassian calls that change something (membership adds and removes,
// role changes, suspensions) among reqs.
func changes(reqs []atlassiantest.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Method == "DELETE" || (r.Method == "POST" && !strings.HasSuffix(r.Path, "/search") && !strings.HasSuffix(r.Path, "/workspaces")) {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// A store that cannot be written (the disk is full: no write to the file may succeed) makes
// jitbot say so loudly and change nothing in Atlassian: an approval is not given and a grant
// that ends is not removed behind the store's back. Once the disk has room again, the grant
// is revoked and the audit chain is intact.
func TestCrash_storeFull(t *testing.T) {
	t.Parallel()
	var tot crashTotals
	w := newCrashWorld(t, 1, &tot)
	var pid int
	w.storeFull(func(full bool) {
		if pid == 0 {
			pid = w.proc.cmd.Process.Pid
		}
		lim := &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
		if full {
			lim.Cur = 0
		}
		if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, lim, nil); err != nil {
			t.Fatalf("cannot limit jitbot's file size: %v", err)
		}
	}, "file too large")
}

// etcdCrashWorld is a one-trial crash world whose jitbot keeps its store on a new in-process
// etcd member (returned, to raise its alarms), under the prefix /crash/.
func etcdCrashWorld(t *testing.T) (*crashWorld, *etcdtest.Server) {
	t.Helper()
	var tot crashTotals
	w := newCrashWorld(t, 1, &tot)
	e := etcdtest.Start(t)
	w.env = append(w.env, "JITBOT_STORE=etcd", "JITBOT_ETCD_ENDPOINTS="+e.Endpoints()[0], "JITBOT_ETCD_PREFIX=/crash/", "JITBOT_LEADER_TTL=2s")
	return w, e
}

// The same with the store on etcd, whose member refuses every write (its database reached its
// quota: the NOSPACE alarm) while jitbot runs.
func TestCrash_storeFullEtcd(t *testing.T) {
	t.Parallel()
	w, e := etcdCrashWorld(t)
	w.storeFull(func(full bool) { e.SetNoSpace(t, full) }, "database space exceeded")
}

// storeFull plays the full-store story: jitbot runs, bob holds a grant that is about to end and
// alice waits for an approval; then fill(true) makes every write to the store fail, the lead
// approves alice and bob's grant ends, and jitbot must say so (its output holds says) and change nothing in
// Atlassian; after fill(false), bob's grant is revoked and the audit chain is intact.
func (w *crashWorld) storeFull(fill func(full bool), says string) {
	t := w.t
	w.procMu.Lock()
	w.start()
	w.procMu.Unlock()
	defer w.stop()
	defer func() {
		if t.Failed() {
			t.Logf("jitbot's output:\n%s%s", w.logs.String(), w.proc.out.String())
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// bob holds Jira for 3 s; alice waits for an approval.
	if _, err := w.slack.SlashCommand(ctx, "U0BOB", "/access", "request jira 3s full-bob"); err != nil {
		t.Fatal(err)
	}
	dm, err := w.slack.NextMessage(ctx, bottest.And(w.slack.InChannel(crashLead), bottest.WithButton("approve_request"), bottest.Containing("full-bob")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.slack.ClickButton(ctx, crashLead, dm, "approve_request"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.slack.NextMessage(ctx, bottest.And(w.slack.InChannel("U0BOB"), bottest.Containing("Access granted"))); err != nil {
		t.Fatal(err)
	}
	if _, err := w.slack.SlashCommand(ctx, "U0ALICE", "/access", "request jadmin 1h full-alice"); err != nil {
		t.Fatal(err)
	}
	pending, err := w.slack.NextMessage(ctx, bottest.And(w.slack.InChannel(crashLead), bottest.WithButton("approve_request"), bottest.Containing("full-alice")))
	if err != nil {
		t.Fatal(err)
	}

	// The disk fills up: no write to the store may succeed.
	fill(true)
	before := len(w.org.Requests())
	push, pcancel := context.WithTimeout(ctx, 5*time.Second)
	_, _ = w.slack.ClickButton(push, crashLead, pending, "approve_request") // acked or not: Slack may retry
	pcancel()
	bobEnds := time.Now().Add(4 * time.Second)
	for time.Now().Before(bobEnds.Add(2 * time.Second)) { // bob's grant ends meanwhile
		time.Sleep(100 * time.Millisecond)
	}
	if got := changes(w.org.Requests()[before:]); len(got) != 0 {
		t.Errorf("with the store full, jitbot changed Atlassian: %v", got)
	}
	if slices.Contains(w.org.Members("jira-admins-example"), w.accounts["alice"]) {
		t.Error("alice was added to jira-admins-example while her approval could not be stored")
	}
	out := w.proc.out.String()
	if !strings.Contains(out, says) {
		t.Errorf("jitbot did not say loudly that the store cannot be written (%q); its output:\n%s", says, out)
	}

	// Room again: bob's grant is revoked, alice's request is still pending (her approval was
	// refused, never half-stored).
	fill(false)
	for slices.Contains(w.org.Members("jira-software-users-example"), w.accounts["bob"]) {
		if ctx.Err() != nil {
			t.Fatal("bob's grant was never revoked once the store had room again")
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.stop()
	w.verifyAudit("after the disk was full")
}

// A store that cannot even be created (a full device) stops jitbot at start, saying why, with
// nothing done in Atlassian.
func TestCrash_storeFullAtStart(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	var tot crashTotals
	w := newCrashWorld(t, 1, &tot)
	env := append(append([]string{}, w.env...), "JITBOT_DB_PATH=/dev/full")
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := Main(ctx, []string{"run"}, env, &out, &errOut)
	if code == 0 {
		t.Fatalf("jitbot run on a full device exited 0:\n%s%s", out.String(), errOut.String())
	}
	if !strings.Contains(errOut.String()+out.String(), "no space left on device") {
		t.Errorf("jitbot did not say the device is full:\n%s%s", out.String(), errOut.String())
	}
	if got := changes(w.org.Requests()); len(got) != 0 {
		t.Errorf("jitbot changed Atlassian with no store: %v", got)
	}
}
