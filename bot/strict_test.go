package bot

import (
	"strings"
	"testing"

	"github.com/jitbot/jitbot/bot/bottest"
)

// `list` from someone holding an active grant is accepted by Slack (no repeated block_id).
func TestBot_List_withGrant(t *testing.T) {
	h := newHarness(t)
	g := h.granted()
	_, m := h.slash(alice, "list")
	if !strings.Contains(m.PlainText(), g.ID) {
		t.Fatalf("list answer = %q; want grant %s", m.PlainText(), g.ID)
	}
	if b, ok := m.Button(actionRevoke); !ok || b.Value != g.ID {
		t.Errorf("list answer has no Revoke now for %s: %v", g.ID, m.Buttons())
	}
}

// `history @alice` as Slack sends it for the manifest's should_escape answers with alice's
// events; a name nobody has gets an answer saying how to mention.
func TestBot_History_mention(t *testing.T) {
	h := newHarness(t)
	g := h.granted()
	_, m := h.slash(erin, "history @alice")
	if !strings.Contains(m.PlainText(), g.ID) || !strings.Contains(m.PlainText(), "about <@"+alice+">") {
		t.Errorf("history @alice = %q; want alice's events (grant %s)", m.PlainText(), g.ID)
	}
	_, m = h.slash(erin, "history @zed")
	if !strings.Contains(m.PlainText(), "pick the person from the list") {
		t.Errorf("history @zed = %q", m.PlainText())
	}
	// With should_escape false Slack sends the plain text: it is looked up by name.
	ctx, cancel := h.wait()
	defer cancel()
	if _, err := h.fake.SlashCommandSent(ctx, erin, h.fake.DMChannel(erin), "/access", "history @alice"); err != nil {
		t.Fatal(err)
	}
	m = h.next("plain history", bottest.EphemeralTo(erin))
	if !strings.Contains(m.PlainText(), g.ID) {
		t.Errorf("plain history @alice = %q", m.PlainText())
	}
}
