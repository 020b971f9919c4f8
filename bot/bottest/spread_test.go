package bottest_test

import (
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/jitbot/jitbot/bot/bottest"
)

// TestServer_WithSpread: with three links (three replicas), envelopes go to each in turn.
func TestServer_WithSpread(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, bottest.WithSpread())
	got := make(chan int, 9)
	for i := range 3 {
		startBot(t, fake, func(b *bot, evt socketmode.Event) {
			if evt.Type == socketmode.EventTypeSlashCommand {
				_ = b.sm.Ack(*evt.Request, map[string]any{"text": evt.Data.(slack.SlashCommand).Text})
				got <- i
			}
		})
	}
	if err := fake.WaitCalls(ctx, "apps.connections.open", 3); err != nil {
		t.Fatal(err)
	}
	for fake.Connections() < 3 {
		if err := ctx.Err(); err != nil {
			t.Fatal("three links did not connect")
		}
		time.Sleep(5 * time.Millisecond)
	}
	seen := map[int]int{}
	for range 9 {
		if _, err := fake.SlashCommand(ctx, "U1", "/access", "list"); err != nil {
			t.Fatal(err)
		}
		seen[<-got]++
	}
	if len(seen) != 3 || seen[0] != 3 || seen[1] != 3 || seen[2] != 3 {
		t.Fatalf("envelopes per link = %v, want 3 each", seen)
	}
}
