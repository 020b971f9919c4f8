package bot

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// Action IDs of buttons and inputs. The first six are fixed (docs/slack.md).
const (
	actionApprove     = "approve_request"
	actionDeny        = "deny_request"
	actionRevoke      = "revoke_grant"
	actionExtend      = "extend_grant"
	actionReviewKeep  = "review_keep"
	actionReviewDrop  = "review_remove"
	actionOpenRequest = "open_request_modal"
)

// Button labels, fixed (docs/slack.md).
const (
	labelApprove = "Approve"
	labelDeny    = "Deny"
	labelRevoke  = "Revoke now"
	labelExtend  = "Extend"
)

// Slack Block Kit limits.
const (
	sectionTextLimit = 3000
	messageBlocks    = 50
	viewBlocks       = 100
	buttonValueLimit = 2000
	fallbackLimit    = 3000
	// messageTextBudget is the most text jitbot puts in one message's blocks: Slack refuses a
	// message with much more (msg_blocks_too_long, around 12,000 characters).
	messageTextBudget = 10000
)

// message is what jitbot posts: fallback text and blocks.
type message struct {
	Text   string
	Blocks []slack.Block
}

// truncate shortens s to at most n characters, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, truncate(s, sectionTextLimit), false, false)
}

func plain(s string, n int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, truncate(s, n), false, false)
}

func section(blockID, text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(text), nil, nil, slack.SectionBlockOptionBlockID(blockID))
}

func contextBlock(blockID, text string) *slack.ContextBlock {
	return slack.NewContextBlock(blockID, mrkdwn(text))
}

func button(actionID, label, value string, style slack.Style) *slack.ButtonBlockElement {
	b := slack.NewButtonBlockElement(actionID, truncate(value, buttonValueLimit), plain(label, 75))
	if style != "" {
		b = b.WithStyle(style)
	}
	return b
}

// escape makes text a person typed safe inside mrkdwn: no mentions, links or broadcasts.
var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// inline is user text on one line: escaped, its line breaks folded into spaces, so it cannot
// start a line of its own.
func inline(s string) string { return strings.Join(strings.Fields(escape(s)), " ") }

// quote is user text of several lines as a block quote: escaped, every line marked as part of
// the quote, so nothing in it can pass for a line jitbot wrote.
func quote(s string) string {
	ls := strings.Split(strings.TrimSpace(escape(s)), "\n")
	for i, l := range ls {
		ls[i] = ">" + strings.TrimRight(l, " \t\r")
	}
	return strings.Join(ls, "\n")
}

// who is an actor as Slack shows it.
func who(a access.Actor) string {
	switch a.Kind {
	case access.ActorUser:
		return "<@" + a.SlackID + ">"
	case access.ActorPolicy:
		return "the policy"
	default:
		return "jitbot"
	}
}

// when is a time people read in their own time zone, with a UTC fallback.
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// principal is a policy principal as Slack shows it.
func principal(p string) string {
	switch access.ParsePrincipal(p) {
	case access.PrincipalUser:
		return "<@" + p + ">"
	case access.PrincipalGroup:
		return "<!subteam^" + p + ">"
	}
	return escape(p)
}

func principals(ps []string) string {
	if len(ps) == 0 {
		return "nobody"
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = principal(p)
	}
	return strings.Join(out, ", ")
}

func mentions(ids []string) string {
	if len(ids) == 0 {
		return "nobody"
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "<@" + id + ">"
	}
	return strings.Join(out, ", ")
}

// textMessage is a message of one section.
func textMessage(text string) message {
	return message{Text: truncate(text, fallbackLimit), Blocks: []slack.Block{section("text", text)}}
}

// unbounded is lines' max for answers that splitMessage splits into several messages.
const unbounded = 1 << 30

// lines packs lines into sections of at most sectionTextLimit characters, at most max blocks;
// what does not fit is summarized in a last context block.
func lines(prefix string, ls []string, max int) []slack.Block {
	var blocks []slack.Block
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			blocks = append(blocks, section(fmt.Sprintf("%s_%d", prefix, len(blocks)), cur.String()))
			cur.Reset()
		}
	}
	for i, l := range ls {
		l = truncate(l, sectionTextLimit)
		if cur.Len()+len(l)+1 > sectionTextLimit {
			flush()
		}
		if len(blocks) >= max-1 {
			blocks = append(blocks, contextBlock(prefix+"_more", fmt.Sprintf("… and %d more not shown.", len(ls)-i)))
			return blocks
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(l)
	}
	flush()
	return blocks
}

// helpMessage is the usage of command.
func helpMessage(command string) message {
	return textMessage(fmt.Sprintf("*%s* gives you time-boxed Atlassian access after approval.\n%s", command, usageText()))
}

// errorMessage is an answer to bad input or a refused action. text is plain (a domain
// message, which may quote what the user typed): it is escaped.
func errorMessage(text string) message {
	return textMessage(":warning: " + escape(text))
}
