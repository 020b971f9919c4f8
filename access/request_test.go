package access_test

import (
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func siteAdmin() *access.Role {
	return &access.Role{
		Name: "site-admin", Grants: []access.Target{access.RoleTarget("site-admin", "example.atlassian.net")},
		MaxDuration: 4 * time.Hour, DefaultDuration: time.Hour, Approvers: []string{"U0SEC1", "U0SEC2"},
		Approvals: 1, ReasonRequired: true, PendingTimeout: 24 * time.Hour,
	}
}

var (
	alice = access.UserActor("U0ALICE")
	sec1  = access.UserActor("U0SEC1")
	sec2  = access.UserActor("U0SEC2")
	bob   = access.UserActor("U0BOB")
	acct  = access.Account{ID: "acc-alice", Email: "alice@example.com"}
)

func pending(t *testing.T, role *access.Role) *access.Request {
	t.Helper()
	r, _, err := access.NewRequest("R1", role, alice, acct, time.Hour, "fixing SSO", t0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNewRequest(t *testing.T) {
	optional := siteAdmin()
	optional.ReasonRequired = false
	bg := siteAdmin()
	bg.BreakGlass, bg.ReasonRequired = true, false
	tests := []struct {
		name     string
		role     *access.Role
		d        time.Duration
		reason   string
		wantCode access.Code
	}{
		{"ok", siteAdmin(), 2 * time.Hour, "fixing SSO", ""},
		{"at_max", siteAdmin(), 4 * time.Hour, "x", ""},
		{"over_max", siteAdmin(), 5 * time.Hour, "x", access.EINVALID},
		{"zero_duration", siteAdmin(), 0, "x", access.EINVALID},
		{"negative_duration", siteAdmin(), -time.Minute, "x", access.EINVALID},
		{"reason_missing", siteAdmin(), time.Hour, "  ", access.EINVALID},
		{"reason_optional", optional, time.Hour, "", ""},
		{"break_glass_needs_reason", bg, time.Hour, "", access.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ev, err := access.NewRequest("R1", tt.role, alice, acct, tt.d, tt.reason, t0)
			if got := access.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q (%v)", got, tt.wantCode, err)
			}
			if err != nil {
				return
			}
			if r.Status != access.RequestPending || ev.Action != access.ActionRequestSubmitted || ev.Subject != "R1" {
				t.Fatalf("got %+v / %+v", r, ev)
			}
			if !r.PendingUntil.Equal(t0.Add(24 * time.Hour)) {
				t.Fatalf("pending until %v", r.PendingUntil)
			}
		})
	}
}

func TestRequest_Approve(t *testing.T) {
	two := siteAdmin()
	two.Approvals = 2
	approvers := []string{"U0SEC1", "U0SEC2"}
	tests := []struct {
		name       string
		role       *access.Role
		setup      func(r *access.Request)
		by         access.Actor
		wantStatus access.RequestStatus
		wantCode   access.Code
	}{
		{"approver", siteAdmin(), nil, sec1, access.RequestApproved, ""},
		{"requester_refused", siteAdmin(), nil, alice, access.RequestPending, access.EFORBIDDEN},
		{"requester_refused_even_if_listed", siteAdmin(), func(r *access.Request) { r.Requester = sec1 }, sec1, access.RequestPending, access.EFORBIDDEN},
		{"non_approver_refused", siteAdmin(), nil, bob, access.RequestPending, access.EFORBIDDEN},
		{"policy_actor_refused", siteAdmin(), nil, access.PolicyActor, access.RequestPending, access.EFORBIDDEN},
		{"first_of_two", two, nil, sec1, access.RequestPending, ""},
		{"second_of_two", two, func(r *access.Request) { _, _ = r.Approve(sec1, t0, two, approvers) }, sec2, access.RequestApproved, ""},
		{"same_approver_twice", two, func(r *access.Request) { _, _ = r.Approve(sec1, t0, two, approvers) }, sec1, access.RequestPending, access.ECONFLICT},
		{"already_approved", siteAdmin(), func(r *access.Request) { _, _ = r.Approve(sec1, t0, siteAdmin(), approvers) }, sec2, access.RequestApproved, access.ECONFLICT},
		{"already_denied", siteAdmin(), func(r *access.Request) { _, _ = r.Deny(sec1, t0, "no", approvers) }, sec2, access.RequestDenied, access.ECONFLICT},
		{"cancelled", siteAdmin(), func(r *access.Request) { _, _ = r.Cancel(alice, t0) }, sec1, access.RequestCancelled, access.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pending(t, tt.role)
			if tt.setup != nil {
				tt.setup(r)
			}
			ev, err := r.Approve(tt.by, t0.Add(time.Minute), tt.role, approvers)
			if got := access.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q (%v)", got, tt.wantCode, err)
			}
			if r.Status != tt.wantStatus {
				t.Fatalf("status = %s, want %s", r.Status, tt.wantStatus)
			}
			if err == nil && ev.Actor != tt.by {
				t.Fatalf("event actor = %v", ev.Actor)
			}
		})
	}
}

func TestRequest_Deny(t *testing.T) {
	approvers := []string{"U0SEC1"}
	tests := []struct {
		name     string
		by       access.Actor
		wantCode access.Code
	}{
		{"approver", sec1, ""},
		{"requester", alice, access.EFORBIDDEN},
		{"stranger", bob, access.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pending(t, siteAdmin())
			ev, err := r.Deny(tt.by, t0, " not now ", approvers)
			if got := access.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q", got, tt.wantCode)
			}
			if err == nil && (r.Status != access.RequestDenied || r.Decision.Reason != "not now" || ev.Action != access.ActionRequestDenied) {
				t.Fatalf("got %+v", r)
			}
		})
	}
}

func TestRequest_Cancel(t *testing.T) {
	tests := []struct {
		name     string
		by       access.Actor
		decided  bool
		wantCode access.Code
	}{
		{"requester", alice, false, ""},
		{"other", bob, false, access.EFORBIDDEN},
		{"decided", alice, true, access.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pending(t, siteAdmin())
			if tt.decided {
				_, _ = r.Approve(sec1, t0, siteAdmin(), []string{"U0SEC1"})
			}
			_, err := r.Cancel(tt.by, t0)
			if got := access.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q", got, tt.wantCode)
			}
		})
	}
}

func TestRequest_Expire(t *testing.T) {
	tests := []struct {
		name     string
		at       time.Time
		wantCode access.Code
	}{
		{"before_timeout", t0.Add(23 * time.Hour), access.ECONFLICT},
		{"at_timeout", t0.Add(24 * time.Hour), ""},
		{"after_timeout", t0.Add(48 * time.Hour), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pending(t, siteAdmin())
			_, err := r.Expire(tt.at)
			if got := access.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q", got, tt.wantCode)
			}
			if err == nil && r.Status != access.RequestExpired {
				t.Fatalf("status %s", r.Status)
			}
		})
	}
}

func TestRequest_ApproveByPolicy(t *testing.T) {
	r := pending(t, siteAdmin())
	ev, err := r.ApproveByPolicy(t0, "auto")
	if err != nil || r.Status != access.RequestApproved || !r.AutoApproved || ev.Actor != access.PolicyActor {
		t.Fatalf("got %+v %v", r, err)
	}
	if len(ev.Tags) != 1 || ev.Tags[0] != access.TagAutoApproved {
		t.Fatalf("tags %v", ev.Tags)
	}
	if _, err := r.ApproveByPolicy(t0, "again"); access.ErrorCode(err) != access.ECONFLICT {
		t.Fatalf("second approval: %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"90s", 90 * time.Second, false},
		{"30m", 30 * time.Minute, false},
		{"1h30m", 90 * time.Minute, false},
		{"1d", 24 * time.Hour, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"", 0, true},
		{"2 hours", 0, true},
		{"-1h", 0, true},
		{"xd", 0, true},
	}
	for _, tt := range tests {
		got, err := access.ParseDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v", tt.in, got, err)
		}
		if err == nil && access.FormatDuration(got) != tt.in && tt.in != "90s" {
			t.Errorf("FormatDuration(%v) = %s", got, access.FormatDuration(got))
		}
	}
}

// TestRequest_ApproveAs: every decision is judged on the state when it is made.
func TestRequest_ApproveAs(t *testing.T) {
	two := siteAdmin()
	two.Approvals = 2
	lowered := siteAdmin()
	lowered.MaxDuration = 30 * time.Minute
	sec1Acct := access.Account{ID: "acc-sec1", Email: "sec1@example.com"}
	tests := []struct {
		name       string
		role       *access.Role
		setup      func(r *access.Request)
		by         access.Actor
		account    access.Account
		approvers  []string
		at         time.Time
		wantStatus access.RequestStatus
		wantCode   access.Code
		wantCount  int
	}{
		{"current_approver", siteAdmin(), nil, sec1, sec1Acct, []string{"U0SEC1"}, t0.Add(time.Minute), access.RequestApproved, "", 1},
		{"requester_account_other_slack_id", siteAdmin(), nil, sec1, acct, []string{"U0SEC1"}, t0.Add(time.Minute), access.RequestPending, access.EFORBIDDEN, 0},
		{"requester_email_account_unknown", siteAdmin(), nil, sec1, access.Account{Email: "ALICE@example.com"}, []string{"U0SEC1"}, t0.Add(time.Minute), access.RequestPending, access.EFORBIDDEN, 0},
		{"past_pending_timeout", siteAdmin(), nil, sec1, sec1Acct, []string{"U0SEC1"}, t0.Add(24 * time.Hour), access.RequestPending, access.ECONFLICT, 0},
		{"max_duration_lowered", lowered, nil, sec1, sec1Acct, []string{"U0SEC1"}, t0.Add(time.Minute), access.RequestPending, access.EINVALID, 0},
		{"earlier_approver_removed", two, func(r *access.Request) {
			_, _ = r.Approve(sec2, t0, two, []string{"U0SEC1", "U0SEC2"})
		}, sec1, sec1Acct, []string{"U0SEC1", "U0SEC3"}, t0.Add(time.Minute), access.RequestPending, "", 1},
		{"earlier_approver_still_there", two, func(r *access.Request) {
			_, _ = r.Approve(sec2, t0, two, []string{"U0SEC1", "U0SEC2"})
		}, sec1, sec1Acct, []string{"U0SEC1", "U0SEC2"}, t0.Add(time.Minute), access.RequestApproved, "", 2},
		{"same_account_twice", two, func(r *access.Request) {
			_, _ = r.ApproveAs(sec2, sec1Acct, t0, two, []string{"U0SEC1", "U0SEC2"})
		}, sec1, sec1Acct, []string{"U0SEC1", "U0SEC2"}, t0.Add(time.Minute), access.RequestPending, access.ECONFLICT, 1},
		{"same_person_email_only_then_account", two, func(r *access.Request) {
			// sec1's other Slack identity, judged by its e-mail alone (Atlassian did not
			// answer, or has no account for it), approved first.
			_, _ = r.ApproveAs(sec2, access.Account{Email: "sec1@example.com"}, t0, two, []string{"U0SEC1", "U0SEC2"})
		}, sec1, sec1Acct, []string{"U0SEC1", "U0SEC2"}, t0.Add(time.Minute), access.RequestPending, access.ECONFLICT, 1},
		{"same_mailbox_plus_address", two, func(r *access.Request) {
			_, _ = r.ApproveAs(sec2, sec1Acct, t0, two, []string{"U0SEC1", "U0SEC2"})
		}, sec1, access.Account{Email: "Sec1+alt@example.com"}, []string{"U0SEC1", "U0SEC2"}, t0.Add(time.Minute), access.RequestPending, access.ECONFLICT, 1},
		{"decided_request_to_non_approver", siteAdmin(), func(r *access.Request) {
			_, _ = r.Approve(sec2, t0, siteAdmin(), []string{"U0SEC2"})
		}, bob, access.Account{}, []string{"U0SEC2"}, t0.Add(time.Minute), access.RequestApproved, access.EFORBIDDEN, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			filed := tt.role
			if tt.role == lowered {
				filed = siteAdmin() // filed under the old maximum
			}
			r := pending(t, filed)
			if tt.setup != nil {
				tt.setup(r)
			}
			_, err := r.ApproveAs(tt.by, tt.account, tt.at, tt.role, tt.approvers)
			if got := access.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q (%v)", got, tt.wantCode, err)
			}
			if r.Status != tt.wantStatus || len(r.Approvals) != tt.wantCount {
				t.Fatalf("status %s with %d approvals, want %s with %d", r.Status, len(r.Approvals), tt.wantStatus, tt.wantCount)
			}
		})
	}
}

// A request ID fixed by WithRequestID files once: filing again returns the first request, and
// an ID another requester's request holds is never overwritten.
func TestService_Submit_fixedID(t *testing.T) {
	h := newHarness(t)
	ctx := access.WithRequestID(h.ctx(), access.IDFor("env-1"))
	r1, err := h.svc.Submit(ctx, alice, "jira-software", time.Hour, "first")
	if err != nil {
		t.Fatal(err)
	}
	if r1.ID != access.IDFor("env-1") {
		t.Fatalf("ID %s; want %s", r1.ID, access.IDFor("env-1"))
	}
	r2, err := h.svc.Submit(ctx, alice, "jira-software", time.Hour, "first")
	if err != nil || r2.ID != r1.ID || r2.Reason != "first" {
		t.Fatalf("second Submit = %+v, %v; want the first request", r2, err)
	}
	r3, err := h.svc.Submit(ctx, bob, "jira-software", time.Hour, "someone else")
	if err != nil {
		t.Fatal(err)
	}
	if r3.ID == r1.ID {
		t.Fatal("another requester's request took the fixed ID")
	}
	if cur, _ := h.svc.Request(h.ctx(), r1.ID); !cur.Requester.Is(alice) || cur.Reason != "first" {
		t.Errorf("the first request was overwritten: %+v", cur)
	}
}
