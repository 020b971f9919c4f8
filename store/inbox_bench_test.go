package store

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// BenchmarkInbox measures recording a Slack envelope before its ack, with fsync on: the time
// it adds to every ack (Slack allows 3 s).
func BenchmarkInbox(b *testing.B) {
	db := mustOpenAt(b, filepath.Join(b.TempDir(), "jitbot.db"), Options{})
	payload := json.RawMessage(`{"command":"/access","text":"request jira-admin 1h fixing SSO","user_id":"U0ALICE","response_url":"https://hooks.slack.com/commands/T0/1/x","trigger_id":"1.2.3"}`)
	i := 0
	var worst time.Duration
	for b.Loop() {
		start := time.Now()
		e := &access.InboxItem{ID: "env-" + strconv.Itoa(i), Type: "slash_commands", Payload: payload, At: t0}
		if err := db.Update(b.Context(), func(tx access.Tx) error { return tx.PutInbox(e) }); err != nil {
			b.Fatal(err)
		}
		worst = max(worst, time.Since(start))
		i++
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
}
