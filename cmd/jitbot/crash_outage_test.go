package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
	"github.com/jitbot/jitbot/bot/bottest"
	"github.com/jitbot/jitbot/store"
)

// The outage test's clock and the policy it runs: the crash suite's, its schedules stretched
// from seconds to minutes so that an hour of fake time sees each run a few times.
const (
	outageScale    = 150 // an hour of fake time is 24 s
	outageLength   = time.Hour
	outageAlert    = 2 * time.Minute // JITBOT_ALERT_AFTER
	outageKillAt   = 30 * time.Minute
	outageMinGrant = 25 * time.Minute // the shortest grant given before the outage
)

var outagePolicy = strings.NewReplacer(
	`schedule: "@every 2s"`, `schedule: "@every 10m"`,
	`schedule: "@every 3s"`, `schedule: "@every 15m"`,
	`deadline: 2s`, `deadline: 10m`,
).Replace(crashPolicy)

// outageRuns is every scheduled rule of outagePolicy with its period.
var outageRuns = map[string]time.Duration{
	"sync eng-confluence": 10 * time.Minute, "sweep externals": 15 * time.Minute,
	"review admins": 15 * time.Minute, "guard": 15 * time.Minute,
}

// TestCrash_atlassianOutageHour: jitbot runs as its own process on a clock 150 times faster
// than real time, shared with the fake Atlassian. Four people hold access for 25–45 minutes;
// then Atlassian answers 503 to everything for an hour. Meanwhile every grant ends, two more
// are approved, and jitbot is SIGKILLed half way and started again. Once Atlassian answers,
// the crash suite's end-of-trial checks hold (nothing left after its grant ended, nothing
// wanted removed, no add after a grant's end, every acknowledged action done, every holder
// told, the audit chain intact), every step still not done JITBOT_ALERT_AFTER after it was
// due, before Atlassian came back, was alerted in the alerts channel during the outage and
// its recovery posted after it, the calls jitbot made during the outage stay within what the
// outage probe design allows (NOTES.md, "Outage probe"), and its recorded attempts show one
// grant at a time trying (the probe) while the others are held.
func TestCrash_atlassianOutageHour(t *testing.T) {
	t.Parallel()
	started := time.Now()
	clk := newTestClock(started, outageScale)
	var tot crashTotals
	w := newCrashWorld(t, 7, &tot, atlassiantest.WithClock(clk.Now))
	w.now = clk.Now
	if err := os.WriteFile(filepath.Join(w.dir, "policy.yaml"), []byte(outagePolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	// Errors only: every failed probe of the hour logs a warning.
	w.env = append(w.env, clk.Env(), "JITBOT_ALERT_AFTER="+outageAlert.String(), "JITBOT_SWEEP_INTERVAL=1m", "JITBOT_LOG_LEVEL=error")
	w.procMu.Lock()
	w.start()
	w.procMu.Unlock()
	defer func() {
		if t.Failed() || os.Getenv("JITBOT_CRASH_LOG") != "" {
			w.procMu.Lock()
			t.Logf("jitbot's output:\n%s%s", w.logs.String(), w.proc.out.String())
			w.procMu.Unlock()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// Before the outage: alice, bob, carol and dave hold access (bob and dave already had it).
	before := []struct {
		user, role string
		d          time.Duration
	}{
		{"U0ALICE", "jira", outageMinGrant}, {"U0BOB", "conf", 30 * time.Minute},
		{"U0CAROL", "jadmin", 35 * time.Minute}, {"U0DAVE", "jira", 45 * time.Minute},
	}
	var wg sync.WaitGroup
	for i, b := range before {
		wg.Add(1)
		go func() { defer wg.Done(); w.grantNow(ctx, b.user, b.role, b.d, fmt.Sprintf("before-%d", i)) }()
	}
	// alice and dave ask for Confluence too; the lead decides during the outage.
	var pending [2]bottest.Message
	for i, user := range []string{"U0ALICE", "U0DAVE"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pending[i] = w.requestNow(ctx, user, "conf", 10*time.Minute, fmt.Sprintf("pending-%d", i))
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	from := clk.Now()
	if setup := from.Sub(clk.start); setup >= outageMinGrant {
		t.Fatalf("giving the first grants took %s of fake time (%s real): they may have ended before the outage", setup, clk.Real(setup))
	}
	to := from.Add(outageLength)
	w.org.SetOutageStatus(503)
	w.org.OutageBetween(from, to)
	t.Logf("outage from %s to %s (fake), %s real after start", from.Format(time.TimeOnly), to.Format(time.TimeOnly), time.Since(started).Round(time.Millisecond))

	// During it: the lead approves alice (given only once Atlassian answers), carol's new
	// request is refused with a reason (jitbot cannot read her account), jitbot is killed half
	// way and started again, and the lead approves dave.
	clk.Sleep(5 * time.Minute)
	w.approveNow(ctx, pending[0])
	w.refusedDuringOutage(ctx, "U0CAROL")
	clk.Sleep(from.Add(outageKillAt).Sub(clk.Now()))
	w.crash(0)
	w.procMu.Lock()
	killedAt := clk.At(w.kills[len(w.kills)-1]) // the first jitbot was gone then, the second not started
	w.procMu.Unlock()
	clk.Sleep(10 * time.Minute)
	w.approveNow(ctx, pending[1])
	clk.Sleep(to.Sub(clk.Now()))
	alertsDuring := w.slack.MessagesTo("C0ALERTS")

	w.judge(started)
	if t.Failed() {
		return
	}
	grants, _ := w.storeState()
	w.checkOutageAlerts(grants, alertsDuring, to)
	w.checkOutageCalls(from, to)
	w.checkOneProbe(from, to, killedAt)
	t.Logf("real time %s", time.Since(started).Round(time.Millisecond))
}

// requestNow files a request for role as user (in the ledger) and returns the lead's DM
// asking to approve it.
func (w *crashWorld) requestNow(ctx context.Context, user, role string, d time.Duration, token string) bottest.Message {
	t := w.t
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := w.slack.SlashCommand(ctx, user, "/access", fmt.Sprintf("request %s %s %s", role, access.FormatDuration(d), token)); err != nil {
		t.Errorf("request %s by %s: %v", token, user, err)
		return bottest.Message{}
	}
	w.mu.Lock()
	w.ledger.requests = append(w.ledger.requests, token)
	w.mu.Unlock()
	dm, err := w.slack.NextMessage(ctx, bottest.And(w.slack.InChannel(crashLead), bottest.WithButton("approve_request"), bottest.Containing(token)))
	if err != nil {
		t.Errorf("the lead was never asked to approve %s: %v", token, err)
	}
	return dm
}

// approveNow has the lead press Approve on dm (in the ledger) and returns the request's ID.
func (w *crashWorld) approveNow(ctx context.Context, dm bottest.Message) string {
	w.t.Helper()
	b, ok := dm.Button("approve_request")
	if !ok {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := w.slack.ClickButton(ctx, crashLead, dm, "approve_request"); err != nil {
		w.t.Errorf("approve %s: %v", b.Value, err)
		return ""
	}
	w.mu.Lock()
	w.ledger.approved[b.Value] = true
	w.mu.Unlock()
	return b.Value
}

// grantNow has user request role, the lead approve it, and waits until user is told it was
// given.
func (w *crashWorld) grantNow(ctx context.Context, user, role string, d time.Duration, token string) string {
	w.t.Helper()
	id := w.approveNow(ctx, w.requestNow(ctx, user, role, d, token))
	if id == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := w.slack.NextMessage(ctx, bottest.And(w.slack.InChannel(user), bottest.Containing("Access granted"), bottest.Containing(id))); err != nil {
		w.t.Errorf("%s was never told grant %s was given: %v", user, id, err)
	}
	return id
}

// refusedDuringOutage: a request filed while Atlassian cannot be read is answered with why
// (nothing is stored for it: it is not in the ledger, and checkStore finds no other request).
func (w *crashWorld) refusedDuringOutage(ctx context.Context, user string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := w.slack.SlashCommand(ctx, user, "/access", "request jira 10m refused-during-outage"); err != nil {
		w.t.Errorf("request by %s during the outage: %v", user, err)
		return
	}
	m, err := w.slack.NextMessage(ctx, bottest.And(func(m bottest.Message) bool { return m.Ephemeral && m.User == user }, bottest.Containing("Atlassian")))
	if err != nil {
		w.t.Errorf("%s was not told why a request during the outage was refused: %v; told %q", user, err, plainTexts(w.slack.Ephemerals(user)))
		return
	}
	w.t.Logf("%s was told: %s", user, m.PlainText())
}

// checkOutageAlerts: every grant step (a revocation, or the giving of a grant approved during
// the outage) still not done JITBOT_ALERT_AFTER after it was due, well before Atlassian
// answered again, was alerted in the alerts channel before then (alerts), and its recovery was
// posted afterwards. (A step done sooner owes no alert: a revocation that leaves in place a
// membership held before the grant needs no call.)
func (w *crashWorld) checkOutageAlerts(grants []*access.Grant, alerts []bottest.Message, to time.Time) {
	// A step is due at its grant's end or, for one approved during the outage, at its approval;
	// allow it a minute of fake time (the outbox's delivery, a sweeper's sleep) past the alert.
	mentions := func(ms []bottest.Message, id, what string) bool {
		for _, m := range ms {
			if text := m.PlainText(); strings.Contains(text, id) && strings.Contains(text, what) {
				return true
			}
		}
		return false
	}
	after := w.slack.MessagesTo("C0ALERTS")
	checked := 0
	for _, g := range grants {
		due, done := g.EndsAt, g.EndedAt
		if g.GrantedAt.After(to) || g.GrantedAt.IsZero() { // approved during the outage
			due, done = g.CreatedAt, g.GrantedAt
		}
		if alertBy := due.Add(outageAlert + time.Minute); !alertBy.Before(to) || !done.After(alertBy) {
			continue
		}
		checked++
		if !mentions(alerts, g.ID, "keeps failing") {
			var trail []string
			for _, e := range w.auditEvents() {
				if e.Subject == g.ID {
					trail = append(trail, e.Time.Format(time.TimeOnly+".000")+" "+string(e.Action)+": "+e.Detail)
				}
			}
			w.t.Errorf("grant %s (%s for %s, step due %s) was late by more than %s during the outage and not alerted; its audit trail: %q; alerts: %q",
				g.ID, g.Role, g.Holder.SlackID, due.Format(time.TimeOnly), outageAlert, trail, plainTexts(alerts))
		}
		if !mentions(after, g.ID, "Resolved: grant "+g.ID) {
			w.t.Errorf("grant %s: its recovery was not posted to the alerts channel; alerts: %q", g.ID, plainTexts(after))
		}
	}
	if checked < 4 {
		w.t.Errorf("only %d grant steps were late during the outage; the test means four or more (two removals, two adds)", checked)
	}
}

func plainTexts(ms []bottest.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, firstLineOf(m.PlainText()))
	}
	return out
}

// checkOutageCalls bounds the calls Atlassian got during the outage by the outage probe design
// (NOTES.md, "Outage probe"): one grant probes every OutageProbe with one attempt a call and
// every other grant step is held, so grant steps cost one call per OutageProbe, plus, in each
// jitbot process, one first attempt per grant step before it has seen the outage. Besides
// them: each scheduled run (one per period per rule, plus one per process start) whose first
// call fails after the client's retries, and the start-up key check of each process, retried
// with backoff from verifyMinBackoff doubling to verifyMaxBackoff. (A jitbot started during
// the outage holds its client until the key is verified: each attempt of a call is then a key
// check instead, counted in the same terms.) At 150 times real speed the design allows 150
// probes a real second, more than the child can send (each attempt is paced by a store
// write), so at this speed the bound is not what fails when retries misbehave: with every
// held grant retrying at once it still held (about 900 calls against 3,894). checkOneProbe is
// the check that fails then.
func (w *crashWorld) checkOutageCalls(from, to time.Time) {
	var during []atlassiantest.Request
	for _, r := range w.org.Requests() {
		if !r.At.Before(from) && r.At.Before(to) {
			during = append(during, r)
		}
	}
	w.procMu.Lock()
	starts := 1 + len(w.kills) // processes that ran during the outage
	w.procMu.Unlock()
	steps := 6 // grants live during the outage: four ending, two approved
	d := to.Sub(from)
	probes := int(d/access.DefaultOutageProbe) + 1
	runs := 0
	for _, period := range outageRuns {
		runs += int(d/period) + starts
	}
	verify := 0
	for wait, waited := verifyMinBackoff, time.Duration(0); waited < d; wait = min(2*wait, verifyMaxBackoff) {
		verify++
		waited += wait
	}
	bound := probes + starts*steps + runs*(1+atlassian.DefaultMaxRetries) + (starts-1)*(verify+1)
	byRoute := map[string]int{}
	for _, r := range during {
		byRoute[r.Route]++
	}
	w.t.Logf("calls during the %s outage: %d %v; bound %d (%d probes, %d processes × %d grant steps, %d runs × %d attempts, %d key checks)",
		d, len(during), byRoute, bound, probes, starts, steps, runs, 1+atlassian.DefaultMaxRetries, (starts-1)*(verify+1))
	if len(during) > bound {
		w.t.Errorf("jitbot called Atlassian %d times during a %s outage; the outage probe design allows %d", len(during), d, bound)
	}
}

// checkOneProbe checks the outage probe design on the attempts jitbot recorded (every failed
// grant step is a grant.retry or grant.failed audit event): in each jitbot process, once a
// grant has made its first attempt, only one grant at a time keeps trying (the probe) and
// the others are held, so two retries of different grants in a row are at least
// 2 × OutageProbe apart (a probe that stops is taken over only after that long). It does not
// depend on how fast the accelerated clock runs: held grants that kept trying would retry
// alongside the probe.
func (w *crashWorld) checkOneProbe(from, to, killedAt time.Time) {
	evs := w.auditEvents()
	gap := 2 * access.DefaultOutageProbe
	for _, part := range [][2]time.Time{{from, killedAt}, {killedAt, to}} {
		tried := map[string]bool{}
		var last *access.AuditEvent
		retries, switches := 0, 0
		var both []string // retries that came right after another grant's
		for i := range evs {
			e := &evs[i]
			if (e.Action != access.ActionGrantRetry && e.Action != access.ActionGrantFailed) || e.Time.Before(part[0]) || !e.Time.Before(part[1]) {
				continue
			}
			if !tried[e.Subject] { // its first attempt in this process
				tried[e.Subject] = true
				continue
			}
			retries++
			if last != nil && last.Subject != e.Subject {
				switches++
				if e.Time.Sub(last.Time) < gap {
					both = append(both, fmt.Sprintf("%s at %s, %s after %s", e.Subject, e.Time.Format(time.TimeOnly+".000"), e.Time.Sub(last.Time), last.Subject))
				}
			}
			last = e
		}
		w.t.Logf("outage %s–%s: %d grants tried, %d retries, the probe changed grant %d times", part[0].Format(time.TimeOnly), part[1].Format(time.TimeOnly), len(tried), retries, switches)
		if len(both) > 0 {
			w.t.Errorf("%d retries came less than %s after another grant's: several grants kept trying during the outage, where the design holds all but one probe; the first: %q",
				len(both), gap, both[:min(len(both), 3)])
		}
	}
}

// auditEvents reads the whole audit chain from the store (jitbot is stopped).
func (w *crashWorld) auditEvents() []access.AuditEvent {
	db, err := store.Open(filepath.Join(w.dir, "jitbot.db"), store.Options{AuditKey: []byte(crashAuditKey)})
	if err != nil {
		w.t.Fatalf("open the store: %v", err)
	}
	defer db.Close()
	var evs []access.AuditEvent
	if err := db.View(context.Background(), func(tx access.Tx) (err error) {
		evs, err = tx.AuditEvents(access.AuditFilter{})
		return err
	}); err != nil {
		w.t.Fatalf("read the audit chain: %v", err)
	}
	return evs
}
