package bot

import (
	"time"

	"github.com/jitbot/jitbot/bot/bottest"
	"strings"
	"testing"

	"github.com/jitbot/jitbot/access"
)

// Every command the bot cannot act on gets an answer saying what was wrong, and nothing is
// stored for it.
func TestBot_BadInput(t *testing.T) {
	h := newHarness(t)
	g := h.granted() // alice's active grant
	pending, err := h.svc.Submit(h.ctx, access.UserActor(alice), "jira-admin", 2*time.Hour, "more")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		user      string
		text      string
		want      []string
		immediate bool // answered in the ack
	}{
		{"unknown_subcommand", alice, "frobnicate", []string{"no subcommand `frobnicate`", "request ROLE DURATION REASON"}, true},
		{"unknown_role", alice, "request nope 1h x", []string{`no role "nope"`, "jira-admin (max 4h)", "breakglass"}, true},
		{"bare_request_opens_modal", alice, "request", nil, false},
		{"duration_missing", alice, "request jira-admin", []string{"A duration is missing", "request ROLE DURATION REASON"}, true},
		{"duration_missing_with_reason_word", alice, "request jira-admin soon please", []string{`"soon" is not a duration`, "request ROLE DURATION REASON"}, true},
		{"duration_malformed", alice, "request jira-admin 5parsecs why", []string{"is not a duration", "30m, 2h"}, true},
		{"duration_over_max", alice, "request jira-admin 5h why", []string{"the maximum is 4h"}, true},
		{"reason_missing", alice, "request jira-admin 1h", []string{"needs a reason"}, true},
		{"cancel_without_id", alice, "cancel", []string{"Say which one", "cancel ID"}, true},
		{"cancel_unknown_id", alice, "cancel ZZZZ2222", []string{"no request ZZZZ2222"}, false},
		{"cancel_someone_elses", dave, "cancel " + pending.ID, []string{"not yours"}, false},
		{"revoke_unknown_id", alice, "revoke ZZZZ2222", []string{"no grant ZZZZ2222"}, false},
		{"revoke_someone_elses", dave, "revoke " + g.ID, []string{"not yours"}, false},
		{"extend_someone_elses", dave, "extend " + g.ID + " 1h more", []string{"not yours"}, false},
		{"extend_over_max", alice, "extend " + g.ID + " 4h more", []string{"at most 4h"}, false},
		{"extend_bad_duration", alice, "extend " + g.ID + " lots", []string{"is not a duration", "extend ID DURATION"}, true},
		{"active_by_non_auditor", dave, "active", []string{"Only auditors"}, false},
		{"history_by_non_auditor", dave, "history", []string{"Only auditors"}, false},
		{"history_bad_days", erin, "history jira-admin lots", []string{"not a number of days"}, true},
		{"sync_by_non_operator", dave, "sync engineering-jira", []string{"Only operators"}, false},
		{"sweep_by_non_operator", dave, "sweep external dry-run", []string{"Only operators"}, false},
		{"sync_without_runner", frank, "sync engineering-jira", []string{"not available"}, false},
		{"sync_without_name", frank, "sync", []string{"Say which sync rule"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs, audit := h.counts()
			if tt.want == nil {
				ctx, cancel := h.wait()
				defer cancel()
				if _, err := h.fake.SlashCommand(ctx, tt.user, "/access", tt.text); err != nil {
					t.Fatal(err)
				}
				if _, err := h.fake.WaitView(ctx, func(v bottest.View) bool { return v.CallbackID == callbackRequest && v.User == tt.user }); err != nil {
					t.Fatalf("no request modal: %v", err)
				}
			} else {
				ack, m := h.slash(tt.user, tt.text)
				if got := ack.Text() != ""; got != tt.immediate {
					t.Errorf("answered in the ack: %v, want %v (ack %s)", got, tt.immediate, ack.Payload)
				}
				for _, w := range tt.want {
					if !strings.Contains(m.PlainText(), w) {
						t.Errorf("answer %q does not contain %q", m.PlainText(), w)
					}
				}
			}
			if r, a := h.counts(); r != reqs || a != audit {
				t.Errorf("store changed: requests %d→%d, audit events %d→%d", reqs, r, audit, a)
			}
		})
	}
}

// TestBot_usageOfDomainError: the domain says what was wrong with no Slack syntax, and names
// the command that fixes it; the bot shows that command with its own slash command.
func TestBot_usageOfDomainError(t *testing.T) {
	h := newHarness(t)
	_, m := h.slash(alice, "request jira-admin 1h")
	got := m.PlainText()
	for _, w := range []string{"Role jira-admin needs a reason", "Try `/access request jira-admin 1h fixing SSO`."} {
		if !strings.Contains(got, w) {
			t.Errorf("answer %q does not contain %q", got, w)
		}
	}
	role := &access.Role{Name: "jira-admin", MaxDuration: 4 * time.Hour, ReasonRequired: true}
	_, _, err := access.NewRequest("R1", role, access.UserActor(alice), access.Account{}, time.Hour, "", time.Now())
	if msg := access.ErrorMessage(err); strings.Contains(msg, "`") || access.ErrorUsage(err) != "request jira-admin 1h fixing SSO" {
		t.Errorf("domain error %q, usage %q: want plain words and the command apart", msg, access.ErrorUsage(err))
	}
}
