package access_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// bindingOnLookup is Identity that, when asked for trigger's e-mail, first stores a binding
// of bound to account: another process matching that Slack user while a request is filed.
type bindingOnLookup struct {
	people
	store   access.Store
	trigger string
	bound   string
	account access.Account
}

func (b bindingOnLookup) Email(ctx context.Context, slackID string) (string, error) {
	if slackID == b.trigger {
		err := b.store.Update(ctx, func(tx access.Tx) error {
			return tx.PutBinding(&access.Binding{SlackID: b.bound, Email: b.account.Email, Account: b.account, At: time.Now()})
		})
		if err != nil {
			return "", err
		}
	}
	return b.people.Email(ctx, slackID)
}

// The approvers a request is sent to leave out the requester in every Slack identity known to
// be theirs: by Slack ID, by a stored binding to their account, by a Slack e-mail that is their
// account's, and by a binding stored after approvers were looked up but before the request's
// transaction. A request nobody else may approve is filed and alerted.
func TestService_RequestApprovers_otherIdentities(t *testing.T) {
	for _, tt := range []struct {
		name      string
		approvers []string
		emails    map[string]string // Slack e-mails besides the harness's
		bindings  []string          // Slack users bound to alice's account before the request
		lateBind  string            // bound to alice's account while U0LEAD's e-mail is read
		want      []string
		alert     bool
	}{
		{name: "requester_by_slack_id", approvers: []string{"U0ALICE", "U0LEAD"}, want: []string{"U0LEAD"}},
		{name: "stored_binding", approvers: []string{"U0ALT", "U0LEAD"}, emails: map[string]string{"U0ALT": "alt@example.net"}, bindings: []string{"U0ALT"}, want: []string{"U0LEAD"}},
		{name: "same_email_never_matched", approvers: []string{"U0ALT", "U0LEAD"}, emails: map[string]string{"U0ALT": "Alice@Example.com"}, want: []string{"U0LEAD"}},
		{name: "other_email_never_matched", approvers: []string{"U0ALT", "U0LEAD"}, emails: map[string]string{"U0ALT": "alt@example.net"}, want: []string{"U0ALT", "U0LEAD"}},
		{name: "no_email_is_asked", approvers: []string{"U0NOMAIL", "U0LEAD"}, want: []string{"U0LEAD", "U0NOMAIL"}},
		{name: "bound_during_filing", approvers: []string{"U0ALT", "U0LEAD"}, emails: map[string]string{"U0ALT": "alt@example.net"}, lateBind: "U0ALT", want: []string{"U0LEAD"}},
		{name: "nobody_else", approvers: []string{"U0ALICE", "U0ALT"}, emails: map[string]string{"U0ALT": "alice@example.com"}, want: nil, alert: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.policy.Role("jira-software").Approvers = tt.approvers
			pp := people{emails: map[string]string{"U0ALICE": "alice@example.com", "U0LEAD": "lead@example.com", "U0NOMAIL": ""}}
			for id, e := range tt.emails {
				pp.emails[id] = e
			}
			alice, err := h.org.UserByEmail(h.ctx(), "alice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			h.svc.Identity = pp
			if tt.lateBind != "" {
				h.svc.Identity = bindingOnLookup{people: pp, store: h.store, trigger: "U0LEAD", bound: tt.lateBind, account: alice.Account()}
			}
			for _, id := range tt.bindings {
				if err := h.store.Update(h.ctx(), func(tx access.Tx) error {
					return tx.PutBinding(&access.Binding{SlackID: id, Email: "alice@example.com", Account: alice.Account(), At: t0})
				}); err != nil {
					t.Fatal(err)
				}
			}
			r := h.submit(access.UserActor("U0ALICE"), "jira-software", time.Hour)
			ns := h.notes.Of(access.NoticeRequested)
			if len(ns) != 1 {
				t.Fatalf("%d request notices", len(ns))
			}
			got := slices.Clone(ns[0].Approvers)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("request sent to %v; want %v", got, tt.want)
			}
			alerts := h.notes.Alerts()
			if tt.alert != strings.Contains(alerts, "cannot be approved") {
				t.Errorf("alerts %q; want an alert: %v", alerts, tt.alert)
			}
			if cur, err := h.svc.Request(h.ctx(), r.ID); err != nil || cur.Status != access.RequestPending {
				t.Errorf("request %v, %v; want it filed, pending", cur, err)
			}
		})
	}
}
