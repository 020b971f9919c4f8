package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// A late revocation's or grant's audit line says how late and why instead of "at expiry".
func TestAuditMessage_late(t *testing.T) {
	at := time.Date(2026, 3, 2, 14, 2, 38, 0, time.UTC)
	g := &access.Grant{ID: "G1", Role: "site-admin", Holder: access.UserActor("U0ALICE"), EndedAt: at, EndsAt: at.Add(-27 * time.Second)}
	note := "revoked 27 s after expiry: Atlassian answered 503 from 14:02:11 to 14:02:26 UTC (revoked 27 s late)"
	tests := []struct {
		name string
		n    access.Notice
		want []string
		not  []string
	}{
		{"ended_on_time", access.Notice{Kind: access.NoticeEnded, Grant: g}, []string{"revoked at expiry"}, []string{"late"}},
		{"ended_late", access.Notice{Kind: access.NoticeEnded, Grant: g, Text: note}, []string{note}, []string{"at expiry,"}},
		{"granted_late", access.Notice{Kind: access.NoticeGranted, Grant: g, Text: "granted 75 s after approval: Atlassian answered 500 at 14:01:00 UTC (granted 75 s late)"}, []string{"holds *site-admin*", "granted 75 s after approval"}, nil},
		{"text_is_escaped", access.Notice{Kind: access.NoticeEnded, Grant: g, Text: "revoked <!channel>"}, []string{"&lt;!channel&gt;"}, []string{"<!channel>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := auditMessage(tt.n).Text
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("%q has %q", got, w)
				}
			}
		})
	}
}
