package main

// The process-level crash suite: jitbot as its own process (this test binary, run as jitbot
// through TestMain) against the fake Slack and fake Atlassian over real sockets, killed with
// SIGKILL at random moments of a mixed workload and started again on the same bbolt file.
// The default `go test` run plays defaultCrashTrials trials; `JITBOT_CRASH_TRIALS=N` runs N
// seeded trials (.ci/run runs 20; the full suite is 120: BENCHMARKS.md). `JITBOT_CRASH_SEED=S` replays from
// seed S (trial i uses S+i; each trial prints its seed), `JITBOT_CRASH_LOG=1` keeps jitbot's
// log in the test output.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
	"github.com/jitbot/jitbot/bot/bottest"
	"github.com/jitbot/jitbot/store"
)

// crashPolicy has three requestable groups (one protected, with a standing member), a sync
// rule and a guard that revert drift, and a review with a short deadline: everything that
// changes Atlassian on its own runs every few seconds.
const crashPolicy = `version: 1
organization:
  domains: [example.com]
channels:
  audit: C0AUDIT
  alerts: C0ALERTS
teams:
  leads: [U0LEAD]
  it: [U0IT1]
permissions:
  auditors: [leads]
  operators: [it]
roles:
  - name: jira
    grants: [{group: jira-software-users-example}]
    max_duration: 1h
    approvers: [leads]
    reason: optional
  - name: conf
    grants: [{group: confluence-users-example}]
    max_duration: 1h
    approvers: [leads]
    reason: optional
  - name: jadmin
    grants: [{group: jira-admins-example}]
    max_duration: 1h
    approvers: [leads]
    reason: optional
limits:
  pending_per_user: 20
sync:
  - name: eng-confluence
    schedule: "@every 2s"
    match: '"scim-engineering" in user.groups'
    add_to: [confluence-users-example]
    remove_unmatched: true
sweeps:
  - name: externals
    schedule: "@every 3s"
    match: 'user.external && user.status == "active"'
    action: suspend
reviews:
  - name: admins
    schedule: "@every 3s"
    groups: [jira-admins-example]
    reviewers: [leads]
    deadline: 2s
    on_no_response: remove
guard:
  protected_groups: [jira-admins-example]
  standing_members:
    jira-admins-example: [breakglass@example.com]
  on_drift: revert
  schedule: "@every 3s"
`

const (
	crashLead     = "U0LEAD"
	crashOperator = "U0IT1"
	crashAuditKey = "crash-audit-key"
)

var crashRoleGroup = map[string]string{
	"jira": "jira-software-users-example", "conf": "confluence-users-example", "jadmin": "jira-admins-example",
}

// crashTotals are the suite's counters, printed at the end (BENCHMARKS.md quotes them).
type crashTotals struct {
	trials, kills, verifies, requests, approvals, doubleClicks, denials, refused, revokes,
	extensions, syncs, slackCuts, outages, grants, unacked atomic.Int64
}

// defaultCrashTrials is how many trials the default `go test` run plays: enough to exercise
// the whole suite on every run, few enough to keep the run short.
const defaultCrashTrials = 2

func TestCrash(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("JITBOT_CRASH_TRIALS"))
	if n <= 0 {
		n = defaultCrashTrials
	}
	t.Parallel() // alongside the full-store tests, within -parallel
	base := time.Now().UnixNano() % 1_000_000
	if s := os.Getenv("JITBOT_CRASH_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("JITBOT_CRASH_SEED=%q is not a number", s)
		}
		base = v
	}
	t.Logf("crash suite: %d trials from seed %d (replay one with JITBOT_CRASH_TRIALS=1 JITBOT_CRASH_SEED=<its seed>)", n, base)
	var tot crashTotals
	start := time.Now()
	t.Run("trials", func(t *testing.T) {
		for i := range n {
			seed := base + int64(i)
			t.Run(fmt.Sprintf("seed_%d", seed), func(t *testing.T) {
				t.Parallel()
				runCrashTrial(t, seed, &tot)
			})
		}
	})
	t.Logf("crash suite counters: trials=%d kills=%d audit_verifies=%d requests_acked=%d approvals_acked=%d double_clicks=%d denials_acked=%d refused_clicks=%d revokes_acked=%d extensions_acked=%d runs_acked=%d slack_cuts=%d atlassian_outages=%d grants=%d unacked=%d elapsed=%s",
		tot.trials.Load(), tot.kills.Load(), tot.verifies.Load(), tot.requests.Load(), tot.approvals.Load(), tot.doubleClicks.Load(),
		tot.denials.Load(), tot.refused.Load(), tot.revokes.Load(), tot.extensions.Load(), tot.syncs.Load(), tot.slackCuts.Load(), tot.outages.Load(),
		tot.grants.Load(), tot.unacked.Load(), time.Since(start).Round(time.Second))
}

// crashWorld is one trial: the fakes, the store's directory, the running jitbot and what was
// acknowledged to whom.
type crashWorld struct {
	t        *testing.T
	seed     int64
	slack    *bottest.Server
	org      *atlassiantest.Server
	dir      string
	env      []string
	accounts map[string]string // name -> account ID
	groups   map[string]string // group name -> ID
	tot      *crashTotals
	now      func() time.Time // the clock jitbot and the fake Atlassian run on (time.Now unless accelerated)

	procMu sync.Mutex
	proc   *crashProc
	kills  []time.Time
	logs   bytes.Buffer // every jitbot's output, for a failure

	mu     sync.Mutex
	ledger crashLedger
}

// crashLedger is what Slack users were acknowledged: each must have happened.
type crashLedger struct {
	requests   []string             // reasons (unique tokens) of acked requests
	approved   map[string]bool      // request ID -> an approval click by the approver was acked
	denied     map[string]time.Time // request ID -> when a deny submission was acked
	refused    map[string]bool      // request ID -> only a non-approver clicked Approve
	revoked    map[string]time.Time // grant ID -> when Revoke now was acked
	extensions map[string]string    // reason of an acked extension request -> the grant's ID
}

type crashProc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// newCrashWorld builds a trial's fakes, store directory and environment; opts configure the
// fake Atlassian (its clock).
func newCrashWorld(t *testing.T, seed int64, tot *crashTotals, opts ...atlassiantest.Option) *crashWorld {
	w := &crashWorld{
		t: t, seed: seed, tot: tot, dir: t.TempDir(), now: time.Now,
		slack: bottest.NewServer(t), org: atlassiantest.NewServer(t, opts...),
		accounts: map[string]string{}, groups: map[string]string{},
		ledger: crashLedger{approved: map[string]bool{}, denied: map[string]time.Time{}, refused: map[string]bool{}, revoked: map[string]time.Time{}, extensions: map[string]string{}},
	}
	people := map[string]string{"U0ALICE": "alice", "U0BOB": "bob", "U0CAROL": "carol", "U0DAVE": "dave", crashLead: "lee", crashOperator: "ivan", "U0BREAK": "breakglass", "U0MAL": "mallory"}
	for id, name := range people {
		w.slack.AddUser(id, name, name+"@example.com")
		w.accounts[name] = w.org.AddUser(atlassiantest.User{Email: name + "@example.com", Name: name})
	}
	for _, ch := range []string{"C0AUDIT", "C0ALERTS"} {
		w.slack.AddChannel(ch)
	}
	for _, g := range []string{"jira-software-users-example", "confluence-users-example", "jira-admins-example", "scim-engineering"} {
		w.groups[g] = w.org.AddGroup(atlassiantest.Group{Name: g, ExternalSynced: g == "scim-engineering"})
	}
	// Standing state: dave already uses Jira, bob is an engineer (the sync rule wants him in
	// Confluence), breakglass is a standing admin, mallory is an admin nobody approved.
	// eve is a contractor with an Atlassian account and no Slack: the sweep suspends her.
	w.accounts["eve"] = w.org.AddUser(atlassiantest.User{Email: "eve@contractor.example", Name: "eve"})
	w.org.AddMember("jira-software-users-example", w.accounts["dave"])
	w.org.AddMember("scim-engineering", w.accounts["bob"])
	w.org.AddMember("confluence-users-example", w.accounts["bob"])
	w.org.AddMember("jira-admins-example", w.accounts["breakglass"])
	w.org.AddMember("jira-admins-example", w.accounts["mallory"])
	w.org.SetLatency(time.Duration(1+seed%5) * time.Millisecond)

	policyFile := filepath.Join(w.dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(crashPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env = []string{
		"JITBOT_SLACK_BOT_TOKEN=" + w.slack.BotToken(), "JITBOT_SLACK_APP_TOKEN=" + w.slack.AppToken(),
		"JITBOT_SLACK_API_URL=" + w.slack.APIURL(), "JITBOT_ATLASSIAN_API_URL=" + w.org.URL(),
		"JITBOT_ATLASSIAN_ORG_ID=" + w.org.OrgID(), "JITBOT_ATLASSIAN_API_KEY=" + w.org.APIKey(),
		"JITBOT_POLICY_FILE=" + policyFile, "JITBOT_DB_PATH=" + filepath.Join(w.dir, "jitbot.db"),
		"JITBOT_AUDIT_KEY=" + crashAuditKey, "JITBOT_HTTP_ADDR=", "JITBOT_SWEEP_INTERVAL=1s",
		"JITBOT_LOG_LEVEL=warn", "JITBOT_LOG_FORMAT=console",
	}
	return w
}

// wanted is what Atlassian must hold once every grant has ended: the standing state without
// mallory (the guard reverts her).
func (w *crashWorld) wanted() map[string][]string {
	return map[string][]string{
		"jira-software-users-example": {w.accounts["dave"]},
		"confluence-users-example":    {w.accounts["bob"]},
		"jira-admins-example":         {w.accounts["breakglass"]},
	}
}

// start runs jitbot and waits until it holds a Socket Mode link.
func (w *crashWorld) start() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for w.slack.Connections() > 0 { // the killed process's link is still being noticed
		if ctx.Err() != nil {
			w.t.Fatal("the killed jitbot's Socket Mode link never closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd := exec.Command(os.Args[0], "run")
	cmd.Env = append(append(os.Environ(), "JITBOT_TEST_CHILD=1"), w.env...)
	p := &crashProc{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	w.proc = p
	if err := w.slack.WaitConnected(ctx); err != nil {
		p.kill()
		w.t.Fatalf("jitbot never connected: %v\n%s", err, p.out)
	}
}

func (p *crashProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// crash kills jitbot with SIGKILL, checks the audit chain of the file it left, and starts it
// again after pause.
func (w *crashWorld) crash(pause time.Duration) {
	w.procMu.Lock()
	defer w.procMu.Unlock()
	w.proc.kill()
	w.kills = append(w.kills, time.Now())
	w.logs.WriteString(w.proc.out.String())
	w.tot.kills.Add(1)
	w.verifyAudit("after a kill")
	time.Sleep(pause)
	w.start()
}

// verifyAudit runs `jitbot audit verify` on the store (jitbot is stopped).
func (w *crashWorld) verifyAudit(when string) {
	w.t.Helper()
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"audit", "verify"}, w.env, &out, &errOut); code != 0 {
		w.t.Errorf("seed %d: audit verify %s: exit %d: %s%s", w.seed, when, code, out.String(), errOut.String())
	}
	w.tot.verifies.Add(1)
}

// ack runs one push with a bound: a push the killed process never acknowledged is not a
// promise (Slack tells the user it failed).
func (w *crashWorld) ack(push func(ctx context.Context) (bottest.Ack, error)) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if _, err := push(ctx); err != nil {
		w.tot.unacked.Add(1)
		return false
	}
	return true
}

func (w *crashWorld) next(f bottest.Filter, within time.Duration) (bottest.Message, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	m, err := w.slack.NextMessage(ctx, f)
	return m, err == nil
}

// story is one person's part of the workload: a request, then an approval (sometimes a double
// click), a denial or nothing (sometimes a click by someone who may not approve), then Revoke
// now or an extension.
func (w *crashWorld) story(rng *rand.Rand, user string, n int) {
	for j := range n {
		roles := []string{"jira", "conf", "jadmin"}
		role := roles[rng.IntN(len(roles))]
		token := fmt.Sprintf("s%d-%s-%d", w.seed, strings.ToLower(user), j)
		dur := time.Duration(1+rng.IntN(3)) * time.Second
		if !w.ack(func(ctx context.Context) (bottest.Ack, error) {
			return w.slack.SlashCommand(ctx, user, "/access", fmt.Sprintf("request %s %s %s", role, access.FormatDuration(dur), token))
		}) {
			continue
		}
		w.tot.requests.Add(1)
		w.mu.Lock()
		w.ledger.requests = append(w.ledger.requests, token)
		w.mu.Unlock()
		dm, ok := w.next(bottest.And(w.slack.InChannel(crashLead), bottest.WithButton("approve_request"), bottest.Containing(token)), 20*time.Second)
		if !ok {
			w.t.Errorf("seed %d: the approver was never sent request %s", w.seed, token)
			return
		}
		b, _ := dm.Button("approve_request")
		id := b.Value
		switch p := rng.Float64(); {
		case p < 0.6:
			clicks := 1
			if rng.IntN(3) == 0 {
				clicks = 2
				w.tot.doubleClicks.Add(1)
			}
			var wg sync.WaitGroup
			var acked atomic.Bool
			for range clicks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if w.ack(func(ctx context.Context) (bottest.Ack, error) {
						return w.slack.ClickButton(ctx, crashLead, dm, "approve_request")
					}) {
						acked.Store(true)
					}
				}()
			}
			wg.Wait()
			if !acked.Load() {
				continue
			}
			w.tot.approvals.Add(1)
			w.mu.Lock()
			w.ledger.approved[id] = true
			w.mu.Unlock()
			w.afterGrant(rng, user, id, token)
		case p < 0.8:
			if !w.ack(func(ctx context.Context) (bottest.Ack, error) {
				return w.slack.ClickButton(ctx, crashLead, dm, "deny_request")
			}) {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
			v, err := w.slack.WaitView(ctx, func(v bottest.View) bool {
				return v.User == crashLead && v.CallbackID == "deny_modal" && strings.HasPrefix(v.PrivateMetadata, id+"|") && !v.Closed
			})
			cancel()
			if err != nil {
				w.t.Logf("seed %d: the deny modal for %s did not open within 6 s", w.seed, id)
				continue // the click was acked, the modal never opened: the user sees nothing happen and nothing was promised
			}
			if w.ack(func(ctx context.Context) (bottest.Ack, error) {
				return w.slack.SubmitView(ctx, crashLead, v, map[string]map[string]string{"reason": {"reason_input": "not now " + token}})
			}) {
				w.tot.denials.Add(1)
				w.mu.Lock()
				w.ledger.denied[id] = w.now()
				w.mu.Unlock()
			}
		default:
			// Left pending; now and then clicked by someone who may not approve.
			if rng.IntN(2) == 0 && w.ack(func(ctx context.Context) (bottest.Ack, error) {
				return w.slack.ClickButton(ctx, "U0CAROL", dm, "approve_request")
			}) {
				w.tot.refused.Add(1)
				w.mu.Lock()
				w.ledger.refused[id] = true
				w.mu.Unlock()
			}
		}
	}
}

// afterGrant waits for the "granted" DM and sometimes ends the grant now or asks to extend it.
func (w *crashWorld) afterGrant(rng *rand.Rand, user, id, token string) {
	granted, ok := w.next(bottest.And(w.slack.InChannel(user), bottest.WithButton("revoke_grant"), bottest.Containing(id)), 6*time.Second)
	if !ok {
		w.t.Logf("seed %d: no Revoke now button for %s within 6 s", w.seed, id)
		return // the grant may have ended before it was announced; the end checks its DMs
	}
	switch p := rng.Float64(); {
	case p < 0.3:
		if w.ack(func(ctx context.Context) (bottest.Ack, error) {
			return w.slack.ClickButton(ctx, user, granted, "revoke_grant")
		}) {
			w.tot.revokes.Add(1)
			w.mu.Lock()
			w.ledger.revoked[id] = w.now()
			w.mu.Unlock()
		}
	case p < 0.55:
		reason := token + "-ext"
		if !w.ack(func(ctx context.Context) (bottest.Ack, error) {
			return w.slack.SlashCommand(ctx, user, "/access", fmt.Sprintf("extend %s 1s %s", id, reason))
		}) {
			return
		}
		w.tot.extensions.Add(1)
		w.mu.Lock()
		w.ledger.extensions[reason] = id
		w.mu.Unlock()
		if dm, ok := w.next(bottest.And(w.slack.InChannel(crashLead), bottest.WithButton("approve_request"), bottest.Containing(reason)), 6*time.Second); ok {
			w.ack(func(ctx context.Context) (bottest.Ack, error) {
				return w.slack.ClickButton(ctx, crashLead, dm, "approve_request")
			})
		}
	}
}

func runCrashTrial(t *testing.T, seed int64, tot *crashTotals) {
	t.Logf("seed %d", seed)
	tot.trials.Add(1)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6a17b07))
	started := time.Now()
	w := newCrashWorld(t, seed, tot)
	w.procMu.Lock()
	w.start()
	w.procMu.Unlock()
	defer func() {
		if t.Failed() || os.Getenv("JITBOT_CRASH_LOG") != "" {
			w.procMu.Lock()
			t.Logf("seed %d: jitbot's output:\n%s%s", seed, w.logs.String(), w.proc.out.String())
			w.procMu.Unlock()
		}
	}()

	var wg sync.WaitGroup
	for _, user := range []string{"U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"} {
		r := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		n := 1 + r.IntN(2)
		wg.Add(1)
		go func() { defer wg.Done(); w.story(r, user, n) }()
	}
	// An operator runs the sync rule now; Slack asks for a new link or the network cuts it.
	chaos := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(time.Duration(chaos.IntN(1500)) * time.Millisecond)
		run := "sync eng-confluence"
		if chaos.IntN(3) == 0 {
			run = "sweep externals"
		}
		if w.ack(func(ctx context.Context) (bottest.Ack, error) {
			return w.slack.SlashCommand(ctx, crashOperator, "/access", run)
		}) {
			tot.syncs.Add(1)
		}
		if chaos.IntN(2) == 0 {
			time.Sleep(time.Duration(chaos.IntN(1000)) * time.Millisecond)
			w.procMu.Lock()
			if chaos.IntN(2) == 0 {
				w.slack.Disconnect("refresh_requested")
			} else {
				w.slack.Drop()
			}
			w.procMu.Unlock()
			tot.slackCuts.Add(1)
		}
	}()
	// One trial in three, Atlassian answers 503 to everything for 2-4 s somewhere in the
	// workload (grants end meanwhile; a kill may fall inside it).
	if seed%3 == 0 {
		outage := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(outage.IntN(2000)) * time.Millisecond)
			w.org.SetOutageStatus(503)
			w.org.SetOutage(true)
			time.Sleep(time.Duration(2000+outage.IntN(2000)) * time.Millisecond)
			w.org.SetOutage(false)
			tot.outages.Add(1)
		}()
	}
	// Two SIGKILLs at random moments of the workload, each followed by a random pause.
	kills := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	for range 2 {
		time.Sleep(time.Duration(200+kills.IntN(1800)) * time.Millisecond)
		w.crash(time.Duration(kills.IntN(300)) * time.Millisecond)
	}
	wg.Wait()
	t.Logf("seed %d: workload done after %s", seed, time.Since(started).Round(time.Millisecond))
	w.judge(started)
}

// judge ends a trial: it waits for every grant to end and checks what the crash suite
// promises: Atlassian holds what is wanted (no membership left after its grant ended, none
// wanted removed, the contractor swept), the audit chain is intact, every acknowledged
// request, approval, denial, Revoke now and extension happened, no add came after its grant
// ended, and every holder was told (across one more restart). jitbot is stopped at the end.
func (w *crashWorld) judge(started time.Time) {
	t, seed := w.t, w.seed
	// Every grant ends within seconds: wait for Atlassian to hold exactly what is wanted, and
	// for the store to say every grant has ended and every acknowledged envelope was handled
	// (Atlassian may look as wanted while a grant of a standing member is still live, and the
	// last stop may fall between an ack and its work: then jitbot runs again, replays its
	// inbox, and is looked at again).
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	want := w.wanted()
	var diff string
	for {
		for {
			diff = w.membershipDiff(want)
			if diff == "" || ctx.Err() != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		w.stop()
		var last time.Time
		live := 0
		grants, inbox := w.storeState()
		for _, g := range grants {
			if g.Status != access.GrantRevoked {
				live++
				if g.EndsAt.After(last) {
					last = g.EndsAt
				}
			}
		}
		if (live == 0 && inbox == 0) || ctx.Err() != nil {
			break
		}
		w.procMu.Lock()
		w.start()
		w.procMu.Unlock()
		// The inbox is replayed at start (real time); the last grant ends on jitbot's clock.
		restarted := time.Now()
		for (time.Since(restarted) < 1500*time.Millisecond || w.now().Before(last.Add(500*time.Millisecond))) && ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if diff != "" {
		t.Errorf("seed %d: Atlassian after every grant ended: %s", seed, diff)
	}
	for name, id := range w.accounts {
		if u, _ := w.org.User(id); u.Suspended != (name == "eve") {
			t.Errorf("seed %d: %s suspended = %v; only the contractor eve is swept", seed, name, u.Suspended)
		}
	}
	t.Logf("seed %d: Atlassian as wanted after %s", seed, time.Since(started).Round(time.Millisecond))
	w.verifyAudit("at the end")
	grants := w.checkStore()
	w.checkNeverRemoved()
	w.checkNoLateAdd(grants)
	// Every notice is delivered, across one more restart: what the store holds undelivered is
	// sent by the next jitbot.
	w.procMu.Lock()
	w.start()
	w.procMu.Unlock()
	nctx, ncancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ncancel()
	var missing []string
	for {
		missing = w.missingNotices(grants)
		if len(missing) == 0 || nctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, m := range missing {
		t.Errorf("seed %d: %s", seed, m)
	}
	w.stop()
}

// stop kills jitbot and keeps its output.
func (w *crashWorld) stop() {
	w.procMu.Lock()
	defer w.procMu.Unlock()
	w.proc.kill()
	w.logs.WriteString(w.proc.out.String())
	w.proc.out = &syncBuffer{}
}

// storeState reads every grant from the store and counts the envelopes in its inbox (jitbot
// is stopped).
func (w *crashWorld) storeState() ([]*access.Grant, int) {
	db, err := store.Open(filepath.Join(w.dir, "jitbot.db"), store.Options{AuditKey: []byte(crashAuditKey)})
	if err != nil {
		w.t.Fatalf("seed %d: open the store: %v", w.seed, err)
	}
	defer db.Close()
	var grants []*access.Grant
	var inbox []*access.InboxItem
	err = db.View(context.Background(), func(tx access.Tx) error {
		var err error
		if grants, err = tx.Grants(access.GrantFilter{}); err != nil {
			return err
		}
		inbox, err = tx.Inbox()
		return err
	})
	if err != nil {
		w.t.Fatalf("seed %d: read the store: %v", w.seed, err)
	}
	return grants, len(inbox)
}

// membershipDiff says how Atlassian's groups differ from want, and whether the sweep has
// suspended eve yet ("" when all is as wanted).
func (w *crashWorld) membershipDiff(want map[string][]string) string {
	var diffs []string
	for g, ids := range want {
		got := w.org.Members(g)
		slices.Sort(got)
		exp := slices.Clone(ids)
		slices.Sort(exp)
		if !slices.Equal(got, exp) {
			diffs = append(diffs, fmt.Sprintf("%s holds %v, want %v", g, w.names(got), w.names(exp)))
		}
	}
	if u, _ := w.org.User(w.accounts["eve"]); !u.Suspended {
		diffs = append(diffs, "the contractor eve is not suspended")
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}

func (w *crashWorld) names(ids []string) []string {
	var out []string
	for _, id := range ids {
		n := id
		for name, acc := range w.accounts {
			if acc == id {
				n = name
			}
		}
		out = append(out, n)
	}
	return out
}

// checkStore reads the store jitbot left: every grant has ended, and every acknowledged
// request, approval, denial, Revoke now and extension happened.
func (w *crashWorld) checkStore() []*access.Grant {
	t := w.t
	db, err := store.Open(filepath.Join(w.dir, "jitbot.db"), store.Options{AuditKey: []byte(crashAuditKey)})
	if err != nil {
		t.Fatalf("seed %d: open the store: %v", w.seed, err)
	}
	defer db.Close()
	var reqs []*access.Request
	var grants []*access.Grant
	err = db.View(context.Background(), func(tx access.Tx) error {
		var err error
		if reqs, err = tx.Requests(access.RequestFilter{}); err != nil {
			return err
		}
		grants, err = tx.Grants(access.GrantFilter{})
		return err
	})
	if err != nil {
		t.Fatalf("seed %d: read the store: %v", w.seed, err)
	}
	byReason := map[string]*access.Request{}
	byID := map[string]*access.Request{}
	for _, r := range reqs {
		byReason[r.Reason] = r
		byID[r.ID] = r
	}
	grantByID := map[string]*access.Grant{}
	for _, g := range grants {
		grantByID[g.ID] = g
		w.tot.grants.Add(1)
		if g.Status != access.GrantRevoked {
			t.Errorf("seed %d: grant %s is %s after every grant should have ended (ends %s, last error %q)", w.seed, g.ID, g.Status, g.EndsAt.Format(time.StampMilli), g.LastError)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, token := range w.ledger.requests {
		if byReason[token] == nil {
			t.Errorf("seed %d: the request %q was acknowledged and then lost", w.seed, token)
		}
	}
	for reason, id := range w.ledger.extensions {
		if r := byReason[reason]; (r == nil || r.Kind != access.KindExtend) && !w.toldNotExtended(id) {
			t.Errorf("seed %d: the extension %q of %s was acknowledged and then lost (no request, no answer)", w.seed, reason, id)
		}
	}
	for id := range w.ledger.approved {
		r := byID[id]
		switch {
		case r == nil:
			t.Errorf("seed %d: approved request %s is not in the store", w.seed, id)
		case r.Status != access.RequestApproved:
			t.Errorf("seed %d: the approval of %s was acknowledged, and the request is %s", w.seed, id, r.Status)
		case grantByID[id] == nil:
			t.Errorf("seed %d: request %s is approved and has no grant", w.seed, id)
		}
	}
	for id, at := range w.ledger.denied {
		if r := byID[id]; r == nil || r.Status != access.RequestDenied {
			t.Errorf("seed %d: the denial of %s was acknowledged at %s, and the request is %v; kills at %v; what the approver was told of it: %q",
				w.seed, id, at.Format(time.StampMilli), r, w.killTimes(), w.toldAbout(crashLead, id))
		}
	}
	for id := range w.ledger.refused {
		if r := byID[id]; r == nil || r.Status != access.RequestPending || len(r.Approvals) != 0 {
			t.Errorf("seed %d: a click by someone who may not approve %s was acknowledged, and the request is %+v", w.seed, id, r)
		}
	}
	for id, at := range w.ledger.revoked {
		g := grantByID[id]
		if g == nil {
			t.Errorf("seed %d: Revoke now of %s was acknowledged and there is no such grant", w.seed, id)
			continue
		}
		// Revoke now ends the grant by its holder's hand, unless it was ending anyway.
		byHolder := g.EndedBy != nil && *g.EndedBy == g.Holder
		if !byHolder && g.EndsAt.After(at.Add(3*time.Second)) {
			t.Errorf("seed %d: Revoke now of %s was acknowledged at %s and the grant ran to %s (ended by %v)", w.seed, id, at.Format(time.StampMilli), g.EndsAt.Format(time.StampMilli), g.EndedBy)
		}
	}
	return grants
}

func (w *crashWorld) killTimes() []string {
	w.procMu.Lock()
	defer w.procMu.Unlock()
	var out []string
	for _, k := range w.kills {
		out = append(out, k.Format(time.StampMilli))
	}
	return out
}

// toldAbout returns what user was shown (messages, ephemerals, modals) that mentions id.
func (w *crashWorld) toldAbout(user, id string) []string {
	var out []string
	for _, m := range w.slack.Messages() {
		if text := m.PlainText(); strings.Contains(text, id) && (m.User == user || m.Channel == w.slack.DMChannel(user)) {
			out = append(out, m.Via+": "+firstLineOf(text))
		}
	}
	for _, v := range w.slack.Views() {
		if v.User == user && strings.Contains(v.PrivateMetadata, id) {
			out = append(out, fmt.Sprintf("modal %s closed=%v errors=%v", v.CallbackID, v.Closed, v.Errors))
		}
	}
	return out
}

func firstLineOf(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// toldNotExtended says whether someone was answered that grant id could not be extended (it
// had ended by the time the extension was handled).
func (w *crashWorld) toldNotExtended(id string) bool {
	for _, m := range w.slack.Messages() {
		if text := m.PlainText() + m.Text; strings.Contains(text, id) && strings.Contains(text, "can be extended") {
			return true
		}
	}
	return false
}

// checkNoLateAdd: every membership add Atlassian accepted was made for a grant of that account
// and group that had started and not yet ended (bob's Confluence is the sync rule's).
func (w *crashWorld) checkNoLateAdd(grants []*access.Grant) {
	for _, r := range w.org.Requests() {
		if r.Route != atlassiantest.RouteMembershipAdd || (r.Status >= 300 && r.Status != 409) {
			continue
		}
		var body struct {
			AccountID string `json:"accountId"`
		}
		_ = json.Unmarshal([]byte(r.Body), &body)
		group := ""
		for name, id := range w.groups {
			if strings.Contains(r.Path, "/groups/"+id+"/") {
				group = name
			}
		}
		if group == "confluence-users-example" && body.AccountID == w.accounts["bob"] {
			continue
		}
		covered := false
		for _, g := range grants {
			if g.Account.ID == body.AccountID && crashRoleGroup[g.Role] == group &&
				!g.CreatedAt.After(r.At) && (g.EndedAt.IsZero() || !r.At.After(g.EndedAt)) {
				covered = true
			}
		}
		if !covered {
			w.t.Errorf("seed %d: Atlassian was asked at %s to add %s to %s with no grant of it live then", w.seed, r.At.Format(time.StampMilli), w.names([]string{body.AccountID}), group)
		}
	}
}

// checkNeverRemoved: Atlassian was never asked to remove a membership that was there before
// any grant and is still wanted (dave's Jira, bob's Confluence, the standing admin).
func (w *crashWorld) checkNeverRemoved() {
	keep := map[string]string{
		w.groups["jira-software-users-example"]: w.accounts["dave"],
		w.groups["confluence-users-example"]:    w.accounts["bob"],
		w.groups["jira-admins-example"]:         w.accounts["breakglass"],
	}
	for _, r := range w.org.Requests() {
		if r.Method != "DELETE" || r.Status >= 300 {
			continue
		}
		for g, acc := range keep {
			if strings.Contains(r.Path, "/groups/"+g+"/memberships/"+acc) {
				w.t.Errorf("seed %d: jitbot removed %s from %s, which was there before and is wanted: %s", w.seed, w.names([]string{acc}), w.org.GroupName(g), r.Path)
			}
		}
	}
}

// missingNotices says which holders were not (yet) told that their grant was given or ended.
func (w *crashWorld) missingNotices(grants []*access.Grant) []string {
	var out []string
	for _, g := range grants {
		var told, ended bool
		for _, m := range w.slack.MessagesTo(g.Holder.SlackID) {
			for _, v := range append(slices.Clone(m.History), m) {
				text := v.PlainText()
				if strings.Contains(text, g.ID) && strings.Contains(text, "Access granted") {
					told = true
				}
				if strings.Contains(text, g.ID) && strings.Contains(text, "Access ended") {
					ended = true
				}
			}
		}
		if !g.GrantedAt.IsZero() && !told {
			out = append(out, fmt.Sprintf("%s was never told grant %s was given", g.Holder.SlackID, g.ID))
		}
		if !ended {
			out = append(out, fmt.Sprintf("%s was never told grant %s ended", g.Holder.SlackID, g.ID))
		}
	}
	return out
}
