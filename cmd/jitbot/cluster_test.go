package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
	"github.com/jitbot/jitbot/bot/bottest"
	"github.com/jitbot/jitbot/store/etcdstore"
	"github.com/jitbot/jitbot/store/etcdstore/etcdtest"
)

const clusterPolicy = `version: 1
organization:
  domains: [example.com]
channels:
  audit: C0AUDIT
roles:
  - name: jira-software
    grants:
      - group: jira-software-users-example
    max_duration: 1h
    approvers: [U0LEAD]
    reason: optional
`

// cluster is several `jitbot run` processes on one embedded etcd, with the fake Slack (which
// spreads envelopes over their links) and the fake Atlassian org in the test process.
type cluster struct {
	t     testing.TB
	etcd  *etcdtest.Server
	slack *bottest.Server
	org   *atlassiantest.Server
	db    *etcdstore.DB // the test's own view of the shared state
	env   []string
	dir   string

	accounts map[string]string // e-mail -> Atlassian account ID

	mu    sync.Mutex
	procs []*replicaProc
}

type replicaProc struct {
	slot int
	cmd  *exec.Cmd
	http string
	log  string
	done chan struct{}
}

func newCluster(t testing.TB, users int) *cluster {
	t.Helper()
	c := &cluster{t: t, dir: t.TempDir(), accounts: map[string]string{}}
	c.etcd = etcdtest.Start(t)
	c.slack = bottest.NewServer(t, bottest.WithSpread())
	c.org = atlassiantest.New()
	t.Cleanup(c.org.Close)
	c.slack.AddUser("U0LEAD", "lee", "lee@example.com")
	c.org.AddUser(atlassiantest.User{Email: "lee@example.com", Name: "lee"})
	for i := range users {
		id, email := fmt.Sprintf("U%03d", i), fmt.Sprintf("user%03d@example.com", i)
		c.slack.AddUser(id, fmt.Sprintf("user%03d", i), email)
		c.accounts[email] = c.org.AddUser(atlassiantest.User{Email: email, Name: id})
	}
	c.slack.AddChannel("C0AUDIT")
	c.org.AddGroup(atlassiantest.Group{Name: jiraGroup})
	policy := filepath.Join(c.dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte(clusterPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	c.env = []string{
		"JITBOT_TEST_CHILD=1", // the test binary runs main (kill_test.go)
		"JITBOT_SLACK_BOT_TOKEN=" + c.slack.BotToken(), "JITBOT_SLACK_APP_TOKEN=" + c.slack.AppToken(),
		"JITBOT_SLACK_API_URL=" + c.slack.APIURL(), "JITBOT_ATLASSIAN_API_URL=" + c.org.URL(),
		"JITBOT_ATLASSIAN_ORG_ID=" + c.org.OrgID(), "JITBOT_ATLASSIAN_API_KEY=" + c.org.APIKey(),
		"JITBOT_POLICY_FILE=" + policy, "JITBOT_AUDIT_KEY=cluster-audit-key",
		"JITBOT_STORE=etcd", "JITBOT_ETCD_ENDPOINTS=" + c.etcd.Endpoints()[0], "JITBOT_ETCD_PREFIX=/cluster/",
		"JITBOT_LEADER_TTL=2s", "JITBOT_LOG_LEVEL=info",
		// No polling to fall back on: the leader's sweeper wakes at each grant's end only
		// because the store tells it of the commits made on the other replicas.
		"JITBOT_SWEEP_INTERVAL=1h",
	}
	db, err := etcdstore.Open(context.Background(), etcdstore.Options{Endpoints: c.etcd.Endpoints(), Prefix: "/cluster/", AuditKey: []byte("cluster-audit-key")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	c.db = db
	t.Cleanup(c.stopAll)
	return c
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs a replica in slot.
func (c *cluster) start(slot int) *replicaProc {
	c.t.Helper()
	p := &replicaProc{slot: slot, http: freeAddr(c.t), done: make(chan struct{})}
	p.log = filepath.Join(c.dir, fmt.Sprintf("replica-%d-%d.log", slot, time.Now().UnixNano()))
	f, err := os.Create(p.log)
	if err != nil {
		c.t.Fatal(err)
	}
	p.cmd = exec.Command(os.Args[0], "run")
	p.cmd.Env = append(os.Environ(), append(c.env, "JITBOT_HTTP_ADDR="+p.http)...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); f.Close(); close(p.done) }()
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p
}

func (c *cluster) live() []*replicaProc {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*replicaProc
	for _, p := range c.procs {
		select {
		case <-p.done:
		default:
			out = append(out, p)
		}
	}
	return out
}

func (c *cluster) stopAll() {
	for _, p := range c.live() {
		_ = p.cmd.Process.Signal(os.Interrupt)
	}
	for _, p := range c.live() {
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	if c.t.Failed() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range c.procs {
			b, _ := os.ReadFile(p.log)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if os.Getenv("JITBOT_CLUSTER_FULL_LOGS") != "" {
				c.t.Logf("replica %d (%s):\n%s", p.slot, p.log, b)
				continue
			}
			c.t.Logf("replica %d (%s), last lines:\n%s", p.slot, p.log, strings.Join(lines[max(0, len(lines)-25):], "\n"))
		}
	}
}

// metric reads one unlabelled metric of p, -1 when unreachable.
func (p *replicaProc) metric(name string) float64 {
	resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + p.http + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v float64
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			if _, err := fmt.Sscan(f[1], &v); err == nil {
				return v
			}
		}
	}
	return -1
}

func (p *replicaProc) ready() bool {
	resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + p.http + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// leaders returns the live replicas that say they lead.
func (c *cluster) leaders() []*replicaProc {
	var out []*replicaProc
	for _, p := range c.live() {
		if p.metric("jitbot_leader") == 1 {
			out = append(out, p)
		}
	}
	return out
}

func (c *cluster) waitFor(limit time.Duration, what string, cond func() bool) {
	c.t.Helper()
	if !pollUntil(limit, cond) {
		c.t.Fatalf("after %s: %s", limit, what)
	}
}

// waitUntil polls cond every 20ms for up to limit and says whether it came true.
func pollUntil(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// redeliver re-sends, as Slack does, every envelope not acked within 2s (its replica died);
// it runs until ctx ends.
func (c *cluster) redeliver(ctx context.Context) {
	tried := map[string]time.Time{}
	for ctx.Err() == nil {
		acked := map[string]bool{}
		for _, a := range c.slack.Acks() {
			acked[a.EnvelopeID] = true
		}
		for _, e := range c.slack.Envelopes() {
			if acked[e.ID] || time.Since(tried[e.ID]) < 2*time.Second {
				continue
			}
			if _, seen := tried[e.ID]; !seen {
				tried[e.ID] = time.Now() // first seen now; give it 2s
				continue
			}
			tried[e.ID] = time.Now()
			go func() {
				rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				_, _ = c.slack.Redeliver(rctx, e.ID, "timeout")
			}()
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// audit returns the whole audit log.
func (c *cluster) audit() []access.AuditEvent {
	c.t.Helper()
	var evs []access.AuditEvent
	if err := c.db.View(context.Background(), func(tx access.Tx) error {
		var err error
		evs, err = tx.AuditEvents(access.AuditFilter{})
		return err
	}); err != nil {
		c.t.Fatal(err)
	}
	return evs
}

func (c *cluster) grants() []*access.Grant {
	c.t.Helper()
	var gs []*access.Grant
	if err := c.db.View(context.Background(), func(tx access.Tx) error {
		var err error
		gs, err = tx.Grants(access.GrantFilter{})
		return err
	}); err != nil {
		c.t.Fatal(err)
	}
	return gs
}

// requestAndApprove files request i as user U00i and has the approver click Approve twice at
// once, the way people do: a command or a click whose replica died after acking it and before
// acting on it shows no effect, so the person asks or clicks again.
func (c *cluster) requestAndApprove(ctx context.Context, i int) error {
	user := fmt.Sprintf("U%03d", i)
	for try := range 4 {
		reason := fmt.Sprintf("cluster load %03d try %d", i, try)
		if _, err := c.slack.SlashCommand(ctx, user, "/access", "request jira-software 3s "+reason); err != nil {
			return fmt.Errorf("request %d: %w", i, err)
		}
		dctx, cancel := context.WithTimeout(ctx, 6*time.Second)
		msg, err := c.slack.NextMessage(dctx, bottest.And(c.slack.InChannel("U0LEAD"), bottest.WithButton("approve_request"), bottest.Containing(reason)))
		cancel()
		if err != nil {
			c.t.Logf("request %d try %d: no approver DM within 6s (its replica was killed); asking again", i, try)
			continue
		}
		for click := range 4 {
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() {
					// The second click may find the buttons already gone: Slack would not send it.
					if _, err := c.slack.ClickButton(ctx, "U0LEAD", msg, "approve_request"); err != nil && !strings.Contains(err.Error(), "no such button") {
						c.t.Errorf("click on request %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			// Decided shows as the buttons going away, or (when the replica that decided died
			// before updating the message) as the ephemeral "already approved" of the next
			// click: read the store instead of parsing either.
			decided := pollUntil(6*time.Second, func() bool { return c.requestStatus(user, reason) == access.RequestApproved })
			if decided {
				if !pollUntil(3*time.Second, func() bool { m, _ := c.slack.Message(msg.Channel, msg.TS); return len(m.Buttons()) == 0 }) {
					c.t.Logf("request %d: approved, but the approver's message still shows its buttons (the deciding replica died before chat.update)", i)
				}
				return nil
			}
			c.t.Logf("request %d: click %d showed no effect within 6s (its replica was killed); clicking again", i, click)
		}
		return fmt.Errorf("request %d: four double clicks did not decide it", i)
	}
	return fmt.Errorf("request %d: no approver DM after four tries", i)
}

// requestStatus returns the status of user's request with reason ("" when none is stored).
func (c *cluster) requestStatus(user, reason string) access.RequestStatus {
	var st access.RequestStatus
	_ = c.db.View(context.Background(), func(tx access.Tx) error {
		rs, err := tx.Requests(access.RequestFilter{Requester: user})
		for _, r := range rs {
			if r.Reason == reason {
				st = r.Status
			}
		}
		return err
	})
	return st
}

// TestCluster_threeReplicasTwoLeaderKills runs three `jitbot run` processes on one etcd. A
// stream of requests is approved with the same button clicked twice at once (the fake Slack
// hands the two clicks to different replicas); grants last 3s. The leader is SIGKILLed twice
// mid-stream and a replacement started, as Kubernetes would. At the end every decision was
// taken once, every grant added once and revoked once (audit log; Atlassian saw an add and a
// removal for each), nothing a grant gave is left in Atlassian, the audit chain is intact and
// every envelope was answered.
func TestCluster_threeReplicasTwoLeaderKills(t *testing.T) {
	if testing.Short() {
		t.Skip("several processes")
	}
	const requests = 12
	c := newCluster(t, requests)
	for slot := range 3 {
		c.start(slot)
	}
	c.waitFor(30*time.Second, "three replicas ready with one leader", func() bool {
		ready := 0
		for _, p := range c.live() {
			if p.ready() {
				ready++
			}
		}
		return ready == 3 && len(c.leaders()) == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rctx, stopRedeliver := context.WithCancel(ctx)
	defer stopRedeliver()
	go c.redeliver(rctx)

	type kill struct {
		at       time.Time
		old      *replicaProc
		newLead  time.Duration
		firstRev time.Duration
	}
	var (
		kills   []*kill
		killing sync.Mutex // one kill at a time
		killers sync.WaitGroup
	)
	// killLeader SIGKILLs the leader while the stream goes on, then starts a replacement.
	killLeader := func() {
		killing.Lock()
		defer killing.Unlock()
		if !pollUntil(15*time.Second, func() bool { return len(c.leaders()) == 1 }) {
			t.Error("no single leader to kill after 15s")
			return
		}
		ls := c.leaders()
		k := &kill{at: time.Now(), old: ls[0]}
		if err := ls[0].cmd.Process.Kill(); err != nil {
			t.Error(err)
			return
		}
		<-ls[0].done
		kills = append(kills, k)
		c.start(ls[0].slot) // the replacement, as a Deployment would start
		if !pollUntil(15*time.Second, func() bool { return len(c.leaders()) == 1 }) {
			t.Error("no new leader 15s after the kill")
		}
		k.newLead = time.Since(k.at)
	}

	for i := range requests {
		if i == 4 || i == 8 {
			killers.Go(killLeader)
		}
		if err := c.requestAndApprove(ctx, i); err != nil {
			t.Fatal(err)
		}
	}

	killers.Wait()
	// Every grant ends and is revoked; leadership settles on one replica.
	allRevoked := func() bool {
		gs := c.grants()
		if len(gs) != requests { // one approved request per user
			return false
		}
		for _, g := range gs {
			if g.Status != access.GrantRevoked {
				return false
			}
		}
		return true
	}
	if !pollUntil(60*time.Second, allRevoked) {
		var rs []*access.Request
		_ = c.db.View(ctx, func(tx access.Tx) error { rs, _ = tx.Requests(access.RequestFilter{}); return nil })
		for _, r := range rs {
			t.Logf("request %s of %s: %s", r.ID, r.Requester.SlackID, r.Status)
		}
		for _, g := range c.grants() {
			t.Logf("grant %s of %s: %s, attempts %d, next attempt %s, ends %s", g.ID, g.Account.Email, g.Status, g.Attempts, g.NextAttempt.Format("15:04:05.000"), g.EndsAt.Format("15:04:05.000"))
		}
		t.Fatalf("after 60s: %d grants for %d requests, not all revoked", len(c.grants()), requests)
	}
	for _, k := range kills {
		for _, e := range c.audit() {
			if e.Action == access.ActionGrantRevoked && e.Time.After(k.at) {
				k.firstRev = e.Time.Sub(k.at)
				break
			}
		}
		t.Logf("leader killed at %s: new leader %s later, first revocation after it %s later", k.at.Format("15:04:05.000"), k.newLead, k.firstRev)
	}
	c.waitFor(10*time.Second, "one leader at the end", func() bool { return len(c.leaders()) == 1 })

	evs := c.audit()
	if brk, n, err := c.db.VerifyAudit(ctx); err != nil || brk != nil || n != len(evs) {
		t.Fatalf("audit verify: %d of %d events, break %+v, %v", n, len(evs), brk, err)
	}
	count := map[string]map[access.Action]int{} // subject -> action -> n
	for _, e := range evs {
		if count[e.Subject] == nil {
			count[e.Subject] = map[access.Action]int{}
		}
		count[e.Subject][e.Action]++
	}
	for _, g := range c.grants() {
		n := count[g.ID]
		if n[access.ActionRequestApproved] != 1 || n[access.ActionGrantItemAdded] != 1 || n[access.ActionGrantRevoked] != 1 || n[access.ActionGrantItemRemoved] != 1 {
			t.Errorf("grant %s of %s: approved %d, item added %d, item removed %d, revoked %d times; want once each",
				g.ID, g.Account.Email, n[access.ActionRequestApproved], n[access.ActionGrantItemAdded], n[access.ActionGrantItemRemoved], n[access.ActionGrantRevoked])
		}
	}
	revokedAt := map[string]time.Time{}
	for _, e := range evs {
		if e.Action == access.ActionGrantRevoked {
			revokedAt[e.Subject] = e.Time
		}
	}
	var worst time.Duration
	for _, g := range c.grants() {
		lag := revokedAt[g.ID].Sub(g.EndsAt)
		worst = max(worst, lag)
		// A grant ending while the leader is dead waits for the new leader (up to the TTL);
		// one whose revocation the killed leader was driving waits for its lease (3 TTLs).
		if lag > 9*time.Second {
			t.Errorf("grant %s revoked %s after its end", g.ID, lag)
		}
	}
	t.Logf("worst revocation lag %s (sweep interval 1h: the sweeper wakes on commits)", worst)
	adds, removes := map[string]int{}, map[string]int{}
	for _, r := range c.org.Requests() {
		if r.Status >= 300 && r.Status != 404 && r.Status != 409 {
			continue
		}
		switch r.Route {
		case atlassiantest.RouteMembershipAdd:
			adds[r.Body]++
		case atlassiantest.RouteMembershipRemove:
			removes[r.Path]++
		}
	}
	// The audit log above shows each grant added once and revoked once. Atlassian may see a
	// call twice: an intent a killed replica was driving (or one whose lease ran out under
	// load) is driven again, and adding what is there or removing what is gone counts as done.
	again := 0
	for _, n := range adds {
		again += n - 1
	}
	for _, n := range removes {
		again += n - 1
	}
	t.Logf("Atlassian: %d adds and %d removes for %d grants (%d repeated by re-driven intents)", len(adds), len(removes), requests, again)
	if len(adds) != requests || len(removes) != requests {
		t.Errorf("Atlassian saw %d adds and %d removes, want %d each", len(adds), len(removes), requests)
	}
	if m := c.org.Members(jiraGroup); len(m) != 0 {
		t.Errorf("left in %s: %v", jiraGroup, m)
	}
	stopRedeliver()
	clicks := map[string]bool{}
	for _, e := range c.slack.Envelopes() {
		if e.Type == "interactive" {
			clicks[e.ID] = true
		}
	}
	t.Logf("%d approve clicks delivered for %d requests (the rest found the buttons gone); %d envelopes in all", len(clicks), requests, len(c.slack.Envelopes()))
	if len(clicks) <= requests {
		t.Errorf("no double click reached two replicas: %d clicks for %d requests", len(clicks), requests)
	}
	acked := map[string]bool{}
	for _, a := range c.slack.Acks() {
		acked[a.EnvelopeID] = true
	}
	for _, e := range c.slack.Envelopes() {
		if !acked[e.ID] {
			t.Errorf("envelope %s (%s) never answered", e.ID, e.Type)
		}
	}
	if len(kills) != 2 {
		t.Fatalf("%d leader kills, want 2", len(kills))
	}
	// The first leader and the two that took over said so in the audit channel (through the
	// outbox, which the leader delivers at Slack's pace of about one post a second a channel).
	leads := func() int {
		n := 0
		for _, m := range c.slack.MessagesTo("C0AUDIT") {
			if strings.Contains(m.Text, "now leads") {
				n++
			}
		}
		return n
	}
	if !pollUntil(30*time.Second, func() bool { return leads() >= 3 }) {
		t.Errorf("%d leadership changes posted to the audit channel, want at least 3", leads())
	}
}
