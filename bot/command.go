package bot

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jitbot/jitbot/access"
)

// Subcommands of the slash command (docs/slack.md).
const (
	cmdOpen    = "open" // empty text or a bare "request": the request modal
	cmdRequest = "request"
	cmdRoles   = "roles"
	cmdList    = "list"
	cmdCancel  = "cancel"
	cmdRevoke  = "revoke"
	cmdExtend  = "extend"
	cmdActive  = "active"
	cmdHistory = "history"
	cmdSync    = "sync"
	cmdSweep   = "sweep"
	cmdHelp    = "help"
)

// defaultHistoryDays is how far back `history` looks without DAYS.
const defaultHistoryDays = 7

// command is a parsed slash command.
type command struct {
	Name     string
	Role     string
	Duration time.Duration
	Reason   string
	ID       string
	User     string // history: Slack user ID
	UserName string // history: a plain @name to look up (Slack sent no ID)
	Days     int    // history
	RunName  string // sync, sweep
	DryRun   bool
}

// usage is the one-line syntax of each subcommand, for help and error messages.
var usage = map[string]string{
	cmdRequest: "request ROLE DURATION REASON…",
	cmdRoles:   "roles",
	cmdList:    "list",
	cmdCancel:  "cancel ID",
	cmdRevoke:  "revoke ID",
	cmdExtend:  "extend ID DURATION [REASON…]",
	cmdActive:  "active [ROLE]",
	cmdHistory: "history [@user|ROLE] [DAYS]",
	cmdSync:    "sync NAME [dry-run]",
	cmdSweep:   "sweep NAME [dry-run]",
	cmdHelp:    "help",
}

var mentionRE = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(\|[^>]*)?>$`)

// invalid returns an EINVALID error that shows how to write sub.
func invalid(sub, format string, args ...any) error {
	return access.Errorf(access.EINVALID, "%s Write it as `%s`.", fmt.Sprintf(format, args...), usage[sub])
}

// parseCommand reads the text after the slash command. Errors are EINVALID and say what was
// wrong and how to write it.
func parseCommand(text string) (command, error) {
	f := strings.Fields(text)
	if len(f) == 0 {
		return command{Name: cmdOpen}, nil
	}
	sub, args := strings.ToLower(f[0]), f[1:]
	c := command{Name: sub}
	switch sub {
	case cmdRequest:
		if len(args) == 0 {
			return command{Name: cmdOpen}, nil
		}
		c.Role = args[0]
		if len(args) < 2 {
			return c, invalid(sub, "A duration is missing after the role.")
		}
		d, err := access.ParseDuration(args[1])
		if err != nil {
			return c, invalid(sub, "%s", access.ErrorMessage(err))
		}
		c.Duration, c.Reason = d, plainText(strings.Join(args[2:], " "))
	case cmdRoles, cmdList, cmdHelp:
		if len(args) > 0 {
			return c, invalid(sub, "`%s` takes no arguments.", sub)
		}
	case cmdCancel, cmdRevoke:
		if len(args) != 1 {
			return c, invalid(sub, "Say which one by its ID.")
		}
		c.ID = access.NormalizeID(args[0])
	case cmdExtend:
		if len(args) < 2 {
			return c, invalid(sub, "Say which grant and by how much.")
		}
		c.ID = access.NormalizeID(args[0])
		d, err := access.ParseDuration(args[1])
		if err != nil {
			return c, invalid(sub, "%s", access.ErrorMessage(err))
		}
		c.Duration, c.Reason = d, plainText(strings.Join(args[2:], " "))
	case cmdActive:
		if len(args) > 1 {
			return c, invalid(sub, "`active` takes at most one role.")
		}
		if len(args) == 1 {
			c.Role = args[0]
		}
	case cmdHistory:
		c.Days = defaultHistoryDays
		if n := len(args); n > 0 {
			if d, ok := parseDays(args[n-1]); ok {
				c.Days, args = d, args[:n-1]
			}
		}
		switch {
		case len(args) == 0:
		case len(args) == 1 && mentionRE.MatchString(args[0]):
			c.User = mentionRE.FindStringSubmatch(args[0])[1]
		case strings.HasPrefix(args[0], "@") && len(args[0]) > 1:
			// A plain @name (Slack sends no ID when the name was typed rather than picked);
			// names may have spaces.
			c.UserName = strings.TrimPrefix(plainText(strings.Join(args, " ")), "@")
		case len(args) == 1 && (strings.HasPrefix(args[0], "<") || strings.HasPrefix(args[0], "&lt;") || args[0] == "@"):
			return c, invalid(sub, "%q is not a Slack user: mention them with @ and pick them from the list.", plainText(args[0]))
		case len(args) == 1:
			c.Role = args[0]
		case len(args) == 2:
			return c, invalid(sub, "%q is not a number of days.", args[1])
		default:
			return c, invalid(sub, "Too many arguments.")
		}
	case cmdSync, cmdSweep:
		if len(args) == 0 || len(args) > 2 {
			return c, invalid(sub, "Say which %s to run.", map[string]string{cmdSync: "sync rule", cmdSweep: "sweep"}[sub])
		}
		c.RunName = args[0]
		if len(args) == 2 {
			if a := strings.ToLower(args[1]); a != "dry-run" && a != "--dry-run" && a != "dryrun" {
				return c, invalid(sub, "%q is not an option; the only one is dry-run.", args[1])
			}
			c.DryRun = true
		}
	default:
		return c, access.Errorf(access.EINVALID, "There is no subcommand `%s`.\n%s", truncate(f[0], 40), usageText())
	}
	return c, nil
}

// slackMarkupRE matches Slack's escaped references in command text: <@U…|name>, <#C…|name>,
// <!subteam^S…|@handle>, <!here>, <https://…|label>.
var slackMarkupRE = regexp.MustCompile(`<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>`)

// plainText turns command text as Slack sends it (escaped references, &amp; &lt; &gt;) back into
// what the person typed, so that it is stored and shown as they wrote it.
func plainText(s string) string {
	s = slackMarkupRE.ReplaceAllStringFunc(s, func(m string) string {
		p := slackMarkupRE.FindStringSubmatch(m)
		sigil, ref, label := p[1], p[2], p[3]
		switch {
		case sigil == "@" && label != "":
			return "@" + strings.TrimPrefix(label, "@")
		case sigil == "@":
			return "@" + ref
		case sigil == "#" && label != "":
			return "#" + label
		case sigil == "#":
			return "#" + ref
		case sigil == "!" && label != "":
			return "@" + strings.TrimPrefix(label, "@")
		case sigil == "!":
			return "@" + strings.TrimPrefix(ref, "subteam^")
		case label != "":
			return label + " (" + ref + ")"
		}
		return ref
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// parseDays reads "7" or "7d".
func parseDays(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.ToLower(s), "d"))
	if err != nil || n <= 0 || n > 3650 {
		return 0, false
	}
	return n, true
}

// usageText lists every subcommand.
func usageText() string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	for _, sub := range []string{cmdRequest, cmdRoles, cmdList, cmdCancel, cmdRevoke, cmdExtend, cmdActive, cmdHistory, cmdSync, cmdSweep, cmdHelp} {
		fmt.Fprintf(&b, "• `%s`\n", usage[sub])
	}
	b.WriteString("With no arguments, or a bare `request`, a form opens.")
	return b.String()
}
