package access_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

func approvedGrant(t *testing.T) *access.Grant {
	t.Helper()
	r := pending(t, siteAdmin())
	if _, err := r.Approve(sec1, t0, siteAdmin(), []string{"U0SEC1"}); err != nil {
		t.Fatal(err)
	}
	g, ev, err := access.NewGrant(r, siteAdmin(), t0, time.Minute)
	if err != nil || ev.Action != access.ActionGrantProvisioning {
		t.Fatal(err)
	}
	return g
}

func activeGrant(t *testing.T) *access.Grant {
	g := approvedGrant(t)
	g.RecordPrior(0, false, "", t0)
	g.ItemAdded(0, t0)
	if _, err := g.Activate(t0); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestNewGrant(t *testing.T) {
	r := pending(t, siteAdmin())
	if _, _, err := access.NewGrant(r, siteAdmin(), t0, time.Minute); access.ErrorCode(err) != access.ECONFLICT {
		t.Fatalf("pending request became a grant: %v", err)
	}
	g := approvedGrant(t)
	if g.Status != access.GrantProvisioning || g.ID != "R1" || len(g.Items) != 1 || !g.Due().Equal(t0.Add(time.Minute)) {
		t.Fatalf("got %+v", g)
	}
	if len(g.ApprovedBy) != 1 || g.ApprovedBy[0] != sec1 {
		t.Fatalf("approved by %v", g.ApprovedBy)
	}
}

func TestGrant_Activate(t *testing.T) {
	tests := []struct {
		name     string
		prep     func(g *access.Grant)
		wantCode access.Code
	}{
		{"unchecked", func(g *access.Grant) {}, access.EINTERNAL},
		{"checked_not_added", func(g *access.Grant) { g.RecordPrior(0, false, "", t0) }, access.EINTERNAL},
		{"added", func(g *access.Grant) { g.RecordPrior(0, false, "", t0); g.ItemAdded(0, t0) }, ""},
		{"already_had", func(g *access.Grant) { g.RecordPrior(0, true, "present", t0) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := approvedGrant(t)
			tt.prep(g)
			at := t0.Add(5 * time.Second)
			_, err := g.Activate(at)
			if got := access.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code %q want %q (%v)", got, tt.wantCode, err)
			}
			if err == nil && (g.Status != access.GrantActive || !g.EndsAt.Equal(at.Add(time.Hour))) {
				t.Fatalf("got %+v", g)
			}
		})
	}
	g := activeGrant(t)
	if _, err := g.Activate(t0); access.ErrorCode(err) != access.ECONFLICT {
		t.Fatalf("activate twice: %v", err)
	}
}

func TestGrant_Due(t *testing.T) {
	g := activeGrant(t) // 1h grant from t0: warn 10m before the end
	if want := t0.Add(50 * time.Minute); !g.Due().Equal(want) {
		t.Fatalf("due %v want %v", g.Due(), want)
	}
	g.MarkWarned(t0)
	if !g.Due().Equal(t0.Add(time.Hour)) {
		t.Fatalf("due after warning %v", g.Due())
	}
	short := activeGrant(t)
	short.EndsAt = t0.Add(10 * time.Minute) // 10m grant: warn at a fifth, 2m before
	if want := t0.Add(8 * time.Minute); !short.Due().Equal(want) {
		t.Fatalf("short grant due %v want %v", short.Due(), want)
	}
	if _, err := g.BeginRevoke(access.SystemActor, false, "expired", t0.Add(time.Hour), time.Minute); err != nil {
		t.Fatal(err)
	}
	g.ItemRemoved(0, true, t0.Add(time.Hour))
	if _, err := g.MarkRevoked(t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !g.Due().IsZero() {
		t.Fatalf("revoked grant due %v", g.Due())
	}
}

func TestGrant_BeginRevoke(t *testing.T) {
	op := access.UserActor("U0IT1")
	tests := []struct {
		name     string
		by       access.Actor
		operator bool
		at       time.Time
		prep     func(g *access.Grant)
		wantCode access.Code
	}{
		{"holder_early", alice, false, t0.Add(time.Minute), nil, ""},
		{"operator", op, true, t0.Add(time.Minute), nil, ""},
		{"stranger", bob, false, t0.Add(time.Minute), nil, access.EFORBIDDEN},
		{"system_before_end", access.SystemActor, false, t0.Add(time.Minute), nil, access.ECONFLICT},
		{"system_at_end", access.SystemActor, false, t0.Add(time.Hour), nil, ""},
		{"already_revoking", alice, false, t0.Add(time.Minute), func(g *access.Grant) {
			_, _ = g.BeginRevoke(alice, false, "x", t0, time.Minute)
		}, access.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := activeGrant(t)
			if tt.prep != nil {
				tt.prep(g)
			}
			_, err := g.BeginRevoke(tt.by, tt.operator, "why", tt.at, time.Minute)
			if got := access.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code %q want %q (%v)", got, tt.wantCode, err)
			}
			if err == nil && (g.Status != access.GrantRevoking || g.EndsAt.After(tt.at)) {
				t.Fatalf("got %+v", g)
			}
		})
	}
}

func TestGrant_MarkRevoked(t *testing.T) {
	g := activeGrant(t)
	if _, err := g.MarkRevoked(t0); access.ErrorCode(err) != access.ECONFLICT {
		t.Fatalf("revoked while active: %v", err)
	}
	_, _ = g.BeginRevoke(alice, false, "done", t0.Add(time.Minute), time.Minute)
	g.ItemRemoved(0, false, t0.Add(time.Minute)) // still visible
	if _, err := g.MarkRevoked(t0.Add(time.Minute)); access.ErrorCode(err) != access.EINTERNAL {
		t.Fatalf("revoked before verification: %v", err)
	}
	g.ItemRemoved(0, true, t0.Add(2*time.Minute))
	ev, err := g.MarkRevoked(t0.Add(2 * time.Minute))
	if err != nil || g.Status != access.GrantRevoked || ev.Action != access.ActionGrantRevoked {
		t.Fatalf("got %+v %v", g, err)
	}
	kept := activeGrant(t)
	_, _ = kept.BeginRevoke(alice, false, "done", t0.Add(time.Minute), time.Minute)
	kept.ItemKept(0, "held before", t0)
	if _, err := kept.MarkRevoked(t0.Add(time.Minute)); err != nil {
		t.Fatalf("kept item blocks revocation: %v", err)
	}
}

func TestGrant_Retry(t *testing.T) {
	g := activeGrant(t)
	_, _ = g.BeginRevoke(access.SystemActor, false, "expired", t0.Add(time.Hour), time.Minute)
	cause := access.Errorf(access.EUNAVAILABLE, "Atlassian is unavailable.")
	for i := 1; i < 3; i++ {
		ev, alert := g.Retry(cause, t0.Add(time.Duration(i)*time.Hour), 3, t0)
		if alert || ev.Action != access.ActionGrantRetry || g.Status != access.GrantRevoking {
			t.Fatalf("attempt %d: %+v alert=%v", i, g, alert)
		}
	}
	ev, alert := g.Retry(cause, t0.Add(5*time.Hour), 3, t0)
	if !alert || ev.Action != access.ActionGrantFailed || g.Status != access.GrantFailed || g.FailedOp != access.OpRevoke {
		t.Fatalf("after max attempts: %+v alert=%v", g, alert)
	}
	if !g.Ending() || g.Live() || !g.Due().Equal(t0.Add(5*time.Hour)) {
		t.Fatalf("failed revoke must stay due: %+v", g)
	}
	if _, alert := g.Retry(errors.New("boom"), t0.Add(6*time.Hour), 3, t0); alert {
		t.Fatal("alerted twice")
	}
	g.ItemRemoved(0, true, t0)
	if _, err := g.MarkRevoked(t0.Add(6 * time.Hour)); err != nil {
		t.Fatalf("failed grant cannot finish: %v", err)
	}
}

func TestNewExtension(t *testing.T) {
	tests := []struct {
		name     string
		by       access.Actor
		d        time.Duration
		role     func() *access.Role
		wantCode access.Code
	}{
		{"ok", alice, time.Hour, siteAdmin, ""},
		{"up_to_max", alice, 3 * time.Hour, siteAdmin, ""},
		{"beyond_max", alice, 3*time.Hour + time.Minute, siteAdmin, access.EINVALID},
		{"not_holder", bob, time.Hour, siteAdmin, access.EFORBIDDEN},
		{"zero", alice, 0, siteAdmin, access.EINVALID},
		{"break_glass", alice, time.Minute, func() *access.Role { r := siteAdmin(); r.BreakGlass = true; return r }, access.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := activeGrant(t)
			r, _, err := access.NewExtension("X1", tt.role(), g, tt.by, tt.d, "more", t0.Add(time.Minute))
			if got := access.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code %q want %q (%v)", got, tt.wantCode, err)
			}
			if err != nil {
				return
			}
			if _, err := r.Approve(sec1, t0, siteAdmin(), []string{"U0SEC1"}); err != nil {
				t.Fatal(err)
			}
			if _, err := g.Extend(r, tt.d, tt.role(), t0.Add(2*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if want := t0.Add(time.Hour + tt.d); !g.EndsAt.Equal(want) {
				t.Fatalf("ends %v want %v", g.EndsAt, want)
			}
		})
	}
}

func TestVerifyChain(t *testing.T) {
	key := []byte("k")
	var evs []access.AuditEvent
	prev := ""
	for i := 1; i <= 3; i++ {
		e := access.AuditEvent{Seq: uint64(i), Time: t0, Action: "a", Detail: "d"}
		e.Seal(prev, key)
		prev = e.Hash
		evs = append(evs, e)
	}
	if b := access.VerifyChain(evs, key); b != nil {
		t.Fatalf("intact chain broken: %+v", b)
	}
	if b := access.VerifyChain(evs, []byte("other")); b == nil || b.Seq != 1 {
		t.Fatalf("wrong key not detected: %+v", b)
	}
	evs[1].Detail = "edited"
	if b := access.VerifyChain(evs, key); b == nil || b.Seq != 2 {
		t.Fatalf("edit not detected: %+v", b)
	}
}

// TestGrant_twoDrivers: two drivers of one provisioning intent (two replicas) record in any
// order; the second's later look never turns what the grant gave into "held before", which
// would leave the access in place at the end.
func TestGrant_twoDrivers(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	t.Run("prior_recorded_twice", func(t *testing.T) {
		g := approvedGrant(t)
		g.RecordPrior(0, false, "", now) // the first driver, before any add
		g.MarkAddSent(0)
		g.ItemAdded(0, now)
		g.RecordPrior(0, true, "seen after the first driver's add", now) // the second, late
		if it := g.Items[0]; it.Had || !it.Added || !it.Checked {
			t.Fatalf("item %+v: the grant's own add became prior access", it)
		}
	})
	t.Run("read_back_after_the_add", func(t *testing.T) {
		g := approvedGrant(t)
		g.RecordPrior(0, false, "", now)
		g.MarkAddSent(0)
		g.ItemAdded(0, now)
		g.RecordReadBack(0, true, now) // the second driver reads back what the first added
		if it := g.Items[0]; it.Had || !it.Added {
			t.Fatalf("item %+v: the grant's own add became prior access", it)
		}
	})
}
