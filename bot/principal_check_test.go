package bot

import (
	"context"
	"testing"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

// TestPrincipalChecker: each principal is looked up by what access.ParsePrincipal says it is,
// so an e-mail that begins with U, W or S is looked up as an e-mail, and a word that only
// begins like an ID is refused as malformed rather than asked of Slack.
func TestPrincipalChecker(t *testing.T) {
	fake := bottest.NewServer(t)
	fake.AddUser("U0UNA", "una", "Una@example.com")
	fake.AddUser("W0SAM", "sam", "sam@example.com")
	fake.AddUserGroup("S0SEC", "U0UNA")
	c := NewPrincipalChecker(bottest.DefaultBotToken, fake.APIURL())
	tests := []struct {
		p    string
		want access.Code
	}{
		{"Una@example.com", ""},
		{"Sam@example.com", ""},
		{"Sue@example.com", access.ENOTFOUND},
		{"U0UNA", ""},
		{"W0SAM", ""},
		{"S0SEC", ""},
		{"U0NOBODY", access.ENOTFOUND},
		{"S0NONE", access.ENOTFOUND},
		{"Sales", access.EINVALID},
		{"Una", access.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.p, func(t *testing.T) {
			if got := access.ErrorCode(c.CheckPrincipal(context.Background(), tt.p)); got != tt.want {
				t.Errorf("CheckPrincipal(%q) code %q, want %q", tt.p, got, tt.want)
			}
		})
	}
}
