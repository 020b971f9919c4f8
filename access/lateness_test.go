package access

import (
	"strings"
	"testing"
	"time"
)

func TestGrant_lateAlert(t *testing.T) {
	end := time.Date(2026, 3, 2, 14, 2, 0, 0, time.UTC)
	revoking := func() *Grant {
		return &Grant{ID: "G1", Role: "site-admin", Account: Account{Email: "a@example.com"}, Status: GrantRevoking, EndsAt: end,
			Late: &Lateness{Since: end.Add(time.Second), Last: end.Add(time.Second), Cause: "Atlassian answered 503 (ADMIN-500)"}}
	}
	tests := []struct {
		name  string
		at    time.Duration // after the end
		force bool
		want  []string // "" for no alert
	}{
		{"not_yet", 59 * time.Second, false, nil},
		{"a_minute_late", time.Minute, false, []string{"Revocation of grant G1", "overdue by 60 s", "Atlassian answered 503 (ADMIN-500)", "Next attempt: soon"}},
		{"forced_early", time.Second, true, []string{"keeps failing", "503"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := revoking()
			text, ev := g.lateAlert(end.Add(tt.at), time.Minute, tt.force, "soon")
			if tt.want == nil {
				if text != "" || g.Late.Alerted {
					t.Fatalf("alert %q too early", text)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("alert %q lacks %q", text, w)
				}
			}
			if !g.Late.Alerted || !g.Overdue || ev.Action != ActionGrantOverdue {
				t.Errorf("not marked: alerted=%v overdue=%v action=%s", g.Late.Alerted, g.Overdue, ev.Action)
			}
			if again, _ := g.lateAlert(end.Add(tt.at+time.Hour), time.Minute, true, "soon"); again != "" {
				t.Errorf("alerted twice: %q", again)
			}
		})
	}
}

func TestGrant_lateNote(t *testing.T) {
	end := time.Date(2026, 3, 2, 14, 2, 0, 0, time.UTC)
	user := UserActor("U0ALICE")
	tests := []struct {
		name       string
		g          Grant
		outageLast time.Time
		want       string
	}{
		{"on_time", Grant{Status: GrantRevoking, EndsAt: end}, time.Time{}, ""},
		{"expiry", Grant{Status: GrantRevoking, EndsAt: end, EndedBy: &SystemActor, Late: &Lateness{Since: end.Add(11 * time.Second), Last: end.Add(20 * time.Second), Cause: "Atlassian answered 503"}},
			end.Add(26 * time.Second), "revoked 27 s after expiry: Atlassian answered 503 from 14:02:11 to 14:02:26 UTC (revoked 27 s late)"},
		{"ended_by_holder", Grant{Status: GrantRevoking, EndsAt: end, EndedBy: &user, Late: &Lateness{Since: end, Last: end.Add(5 * time.Second), Cause: "Atlassian could not be reached"}},
			time.Time{}, "revoked 27 s after it was ended: Atlassian could not be reached from 14:02:00 to 14:02:05 UTC (revoked 27 s late)"},
		{"granted", Grant{Status: GrantProvisioning, CreatedAt: end, Late: &Lateness{Since: end, Last: end, Cause: "Atlassian answered 429."}},
			time.Time{}, "granted 27 s after approval: Atlassian answered 429 at 14:02:00 UTC (granted 27 s late)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.g
			note, _ := g.lateNote(end.Add(27*time.Second), tt.outageLast)
			if note != tt.want || g.Late != nil {
				t.Errorf("note %q, want %q (late left: %v)", note, tt.want, g.Late)
			}
		})
	}
}

func TestOutage_probeThenRelease(t *testing.T) {
	var o outage
	now := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	stale := staleness{idle: 10 * time.Second, busy: 2 * time.Minute}
	if probe, hold := o.admit("a", now, stale); probe || hold {
		t.Fatal("no outage yet, yet not admitted as usual")
	}
	if !o.failed("a", "Atlassian answered 500", now, stale) {
		t.Fatal("the first failure is not the probe")
	}
	if o.failed("b", "Atlassian answered 500", now, stale) {
		t.Fatal("a second grant became the probe")
	}
	if _, hold := o.admit("b", now.Add(time.Second), stale); !hold {
		t.Fatal("another grant was not held while the probe runs")
	}
	if probe, _ := o.admit("a", now.Add(time.Second), stale); !probe {
		t.Fatal("the probe was held")
	}
	// a's attempt is slow: it is not taken over while it lasts, within the busy bound.
	if _, hold := o.admit("b", now.Add(time.Minute), stale); !hold {
		t.Fatal("a probe whose attempt is under way was taken over after the idle bound")
	}
	if o.failed("b", "Atlassian answered 500", now.Add(time.Minute), stale) {
		t.Fatal("another grant's failure took over a probe whose attempt is under way")
	}
	o.settle("a", now.Add(time.Minute))
	if _, hold := o.admit("c", now.Add(time.Minute+5*time.Second), stale); !hold {
		t.Fatal("a probe between attempts was taken over within the idle bound")
	}
	if probe, _ := o.admit("c", now.Add(time.Minute+11*time.Second), stale); !probe {
		t.Fatal("a stale probe was not replaced")
	}
	if !o.answered("c") || o.lastCause() != "Atlassian answered 500" {
		t.Fatal("the probe's answer did not end the outage")
	}
	if probe, hold := o.admit("b", now.Add(2*time.Minute), stale); probe || hold {
		t.Fatal("still held after the outage ended")
	}
}

// TestOutage_hungProbe: a probe whose attempt never ends is taken over after the busy bound.
func TestOutage_hungProbe(t *testing.T) {
	var o outage
	now := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	stale := staleness{idle: 10 * time.Second, busy: 2 * time.Minute}
	o.failed("a", "Atlassian did not answer", now, stale)
	if probe, _ := o.admit("a", now.Add(time.Second), stale); !probe {
		t.Fatal("the probe was held")
	}
	if _, hold := o.admit("b", now.Add(2*time.Minute), stale); !hold {
		t.Fatal("taken over within the busy bound")
	}
	if probe, _ := o.admit("b", now.Add(2*time.Minute+2*time.Second), stale); !probe {
		t.Fatal("a probe hung past the busy bound was not replaced")
	}
	if probe, hold := o.admit("a", now.Add(2*time.Minute+3*time.Second), stale); probe || !hold {
		t.Fatal("the hung probe, back, was not held behind its successor")
	}
}
