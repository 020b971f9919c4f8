package bot

import (
	"strings"
	"testing"

	"github.com/jitbot/jitbot/bot/bottest"
)

// TestBot_ForeignRefusedWhenAuthTestFailedAtStart: auth.test failed when jitbot started (a
// passing Slack error), so it does not know its workspace. A Slack Connect user, whose profile
// e-mail their own organization sets at will (here an address of ours), must still be refused,
// not matched to the Atlassian account of that address: while Slack still cannot say which
// workspace is jitbot's, nothing is filed; once it can, the user is refused as foreign.
func TestBot_ForeignRefusedWhenAuthTestFailedAtStart(t *testing.T) {
	h := newHarness(t)
	h.bot.team.Store("") // as Run leaves it when auth.test failed at start
	h.fake.PutUser(bottest.User{ID: "U0GUEST", Name: "guest", Email: "dave@example.com", TeamID: "T0PARTNER"})
	reqs, audit := h.counts()

	h.fake.Fail("auth.test", 1, "internal_error")
	if _, m := h.slash("U0GUEST", "request jira-admin 1h need it"); strings.Contains(m.PlainText(), "was sent to") {
		t.Errorf("while jitbot's workspace is unknown the Slack Connect user was told %q", m.PlainText())
	}
	h.assertUnchanged("a request while jitbot's workspace is unknown", reqs, audit)

	_, m := h.slash("U0GUEST", "request jira-admin 1h need it")
	if !strings.Contains(m.PlainText(), "members of this Slack workspace only") {
		t.Errorf("the Slack Connect user was told %q", m.PlainText())
	}
	h.assertUnchanged("a request by a Slack Connect user", reqs, audit)
	if _, m := h.slash(alice, "request jira-admin 1h need it"); !strings.Contains(m.PlainText(), "was sent to") {
		t.Errorf("alice, of this workspace, was told %q", m.PlainText())
	}
}
