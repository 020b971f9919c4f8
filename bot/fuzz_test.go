package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/jitbot/jitbot/access"
)

// FuzzParseCommand checks that no slash-command text makes the parser panic, that every
// refusal is EINVALID with a message, and that what it accepts is a known subcommand.
// `go test` runs the seeds (and testdata/fuzz/FuzzParseCommand); fuzz with
// `go test -fuzz=FuzzParseCommand ./bot/`.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"", "request", "request jira-admin 2h fixing SSO", "request jira-admin", "request jira-admin 1d",
		"request jira-admin 99999999999h x", "request jira-admin -1h x", "request x 1h30m y",
		"roles", "roles x", "list", "help", "cancel R-ABC", "cancel", "revoke r-abc", "revoke a b",
		"extend R-1 30m more", "extend R-1", "extend R-1 zz", "active", "active jira-admin", "active a b",
		"history", "history 7", "history 7d", "history <@U0ALICE|alice> 3", "history @alice", "history <#C1>",
		"history jira-admin 0", "history 1 2 3", "sync engineering-jira", "sync x dry-run", "sync x --DRY-RUN",
		"sync x wet", "sweep", "sweep a b c", "REQUEST JIRA-ADMIN 2H", "nope", "\u00a0request\u2003x 1h r",
		strings.Repeat("request ", 1000), "history 3650", "history 3651", "history 9999999999999999999999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := parseCommand(text)
		if err != nil {
			if access.ErrorCode(err) != access.EINVALID {
				t.Fatalf("parseCommand(%q) error code %s, want EINVALID: %v", text, access.ErrorCode(err), err)
			}
			if strings.TrimSpace(access.ErrorMessage(err)) == "" {
				t.Fatalf("parseCommand(%q) refused without saying why", text)
			}
			return
		}
		if _, known := usage[c.Name]; !known && c.Name != cmdOpen {
			t.Fatalf("parseCommand(%q) accepted unknown subcommand %q", text, c.Name)
		}
		if c.Duration < 0 {
			t.Fatalf("parseCommand(%q) accepted a negative duration %s", text, c.Duration)
		}
		if c.Name == cmdHistory && (c.Days <= 0 || c.Days > 3650) {
			t.Fatalf("parseCommand(%q) accepted %d days", text, c.Days)
		}
	})
}

// FuzzEnvelope decodes Socket Mode payloads the way slack-go does (slash commands and
// interactions, with modal state) and runs them through the bot's routing, its modal
// validation and, for button clicks, the click handling, against the fake Slack and an
// in-memory domain. No payload may panic or take the bot down, and a view submission is
// either accepted or answered with errors on its fields.
// `go test` runs the seeds; fuzz with `go test -fuzz=FuzzEnvelope ./bot/`.
func FuzzEnvelope(f *testing.F) {
	seeds := []struct {
		kind    string
		payload string
	}{
		{"slash_commands", `{"command":"/access","text":"request jira-admin 2h fixing SSO","user_id":"U0ALICE","channel_id":"C0AUDIT","trigger_id":"t1"}`},
		{"slash_commands", `{"command":"/access","text":"history <@U0ALICE> 3","user_id":"U0ERIN"}`},
		{"slash_commands", `{"command":"/access","text":"","user_id":"U0NOBODY","trigger_id":""}`},
		{"interactive", `{"type":"block_actions","user":{"id":"U0BOB"},"trigger_id":"t","actions":[{"action_id":"approve_request","value":"R-NOPE"}]}`},
		{"interactive", `{"type":"block_actions","user":{"id":"U0ALICE"},"actions":[{"action_id":"revoke_grant","value":""},{"action_id":"extend_grant","value":"G|x"},null]}`},
		{"interactive", `{"type":"block_actions","user":{"id":"U0BOB"},"actions":[{"action_id":"review_keep","value":"RV-1|acc|g"}],"view":{"type":"home"}}`},
		{"interactive", `{"type":"block_actions","user":{"id":"U0BOB"},"container":{"type":"message","channel_id":"D1","message_ts":"1.2"},"actions":[{"action_id":"deny_request","value":"R-1"}]}`},
		{"interactive", `{"type":"view_submission","user":{"id":"U0ALICE"},"view":{"callback_id":"request_modal","state":{"values":{"role":{"role_select":{"type":"static_select","selected_option":{"value":"jira-admin"}}},"duration":{"duration_input":{"type":"plain_text_input","value":"2h"}},"reason":{"reason_input":{"type":"plain_text_input","value":"x"}}}}}}`},
		{"interactive", `{"type":"view_submission","user":{"id":"U0ALICE"},"view":{"callback_id":"request_modal","state":{"values":{"role":{"role_select":{"selected_option":{"value":"nope"}}},"duration":{"duration_input":{"value":"-5m"}}}}}}`},
		{"interactive", `{"type":"view_submission","user":{"id":"U0ALICE"},"view":{"callback_id":"extend_modal","private_metadata":"R-1|jira-admin","state":{"values":{"duration":{"duration_input":{"value":"99999h"}}}}}}`},
		{"interactive", `{"type":"view_submission","user":{"id":"U0BOB"},"view":{"callback_id":"deny_modal","private_metadata":"|","state":null}}`},
		{"interactive", `{"type":"view_submission","user":{"id":"U0BOB"},"view":{"callback_id":"extend_modal","private_metadata":"no-pipe","state":{"values":{}}}}`},
		{"interactive", `{"type":"shortcut"}`},
		{"interactive", `[]`},
	}
	for _, s := range seeds {
		f.Add(s.kind, []byte(s.payload))
	}
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, kind string, payload []byte) {
		var evt socketmode.Event
		switch kind {
		case "slash_commands":
			var sc slack.SlashCommand
			if json.Unmarshal(payload, &sc) != nil {
				return // slack-go drops an envelope it cannot decode
			}
			evt = socketmode.Event{Type: socketmode.EventTypeSlashCommand, Data: sc}
		case "interactive":
			var cb slack.InteractionCallback
			if json.Unmarshal(payload, &cb) != nil {
				return
			}
			evt = socketmode.Event{Type: socketmode.EventTypeInteractive, Data: cb}
		default:
			return
		}
		ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
		defer cancel()
		ack, work, _ := h.bot.route(ctx, evt)
		if ack != nil {
			raw, err := json.Marshal(ack)
			if err != nil {
				t.Fatalf("ack payload does not encode: %v", err)
			}
			if !utf8.Valid(raw) {
				t.Fatalf("ack payload is not UTF-8: %q", raw)
			}
			if r, ok := ack.(*slack.ViewSubmissionResponse); ok && r.ResponseAction == slack.RAErrors && len(r.Errors) == 0 {
				t.Fatal("a view submission was refused without saying which field was wrong")
			}
		}
		if work != nil {
			work(ctx) // not through Bot.work: a panic here must fail the fuzz target
		}
	})
}
