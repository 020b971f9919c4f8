package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

const usage = `usage: jitbot [command]

commands:
  run                      the bot: Socket Mode, revocation sweeper, scheduled jobs, HTTP (default)
  demo [--interactive]     the whole product against an embedded fake Slack and Atlassian
  policy check [--online] FILE
                           validate a policy file; --online also checks groups, resources
                           and principals against the live org and Slack workspace
  plan [--rule NAME]       print what sync rules, sweeps and the guard would change, changing nothing
  audit verify             check the audit log's hash chain (bot stopped)
  audit export [--since DURATION] [--format json|csv]
                           write audit events to stdout (bot stopped)
  migrate --to etcd        copy the bbolt file into etcd (JITBOT_ETCD_*), verified (bot stopped)
  backup FILE              write a consistent copy of the store to FILE (bot running or stopped)
  version                  version, commit and Go version
  help [COMMAND]           this text, or one command's

'jitbot COMMAND --help' describes one command. Configuration comes from the environment:
every variable is listed in docs/configuration.md.
`

// commandUsage is what `jitbot COMMAND --help` prints, one entry per command of usage.
var commandUsage = map[string]string{
	"run": `usage: jitbot run

Runs the bot: the Slack Socket Mode connection, the revocation sweeper, the scheduled sync
rules, sweeps, guard, reviews, backups and digest, and the HTTP endpoints (/healthz, /readyz,
/metrics, /backup). Configuration comes from the environment (docs/configuration.md).
SIGINT or SIGTERM stops it cleanly; SIGHUP re-reads the policy file.

exit: 0 after a clean stop; 1 on bad configuration or a fatal Slack auth error; 2 on bad usage.
`,
	"demo": `usage: jitbot demo [--interactive]

Plays the whole product in one process with no credentials: an embedded fake Slack workspace
and fake Atlassian org, the real bot code and a bbolt file in a temporary directory.

  --interactive   type slash commands as a chosen user and press buttons by number

exit: 0 when the story ran as expected.
`,
	"policy": `usage: jitbot policy check [--online] FILE

Validates a policy file: structure, durations, schedules and CEL conditions. Every problem is
printed as FILE:LINE: field: message.

  --online   also check the file against the live org and Slack workspace (JITBOT_ATLASSIAN_*,
             JITBOT_SLACK_BOT_TOKEN, JITBOT_SLACK_API_URL): every group exists and jitbot may
             write it, every resource resolves to one site, every principal resolves in Slack

exit: 0 valid, 1 invalid, 2 bad usage.
`,
	"plan": `usage: jitbot plan [--rule NAME]

Evaluates sync rules, sweeps and the guard against the live org (JITBOT_ATLASSIAN_* and
JITBOT_POLICY_FILE) and prints the changes they would make. It changes nothing.

  --rule NAME   only the sync rule or sweep with this name (or "guard")

exit: 0.
`,
	"audit": `usage: jitbot audit verify
       jitbot audit export [--since DURATION] [--format json|csv]

verify checks the hash chain of the audit log in JITBOT_DB_PATH (with JITBOT_AUDIT_KEY when
the chain is keyed) and says where it breaks. export writes the audit events to stdout as
JSON lines or CSV with a header. With bbolt both need the bot stopped (bbolt allows one
process); with JITBOT_STORE=etcd they read the etcd prefix while the replicas run.

  --since DURATION   only events newer than this, such as 24h or 7d
  --format FORMAT    json (JSON lines, the default) or csv

exit: 0 intact, 1 broken or unreadable, 2 bad usage.
`,
	"backup": `usage: jitbot backup FILE

Writes a consistent copy of the store to FILE. With the bot running, the copy comes from its
HTTP address (GET /backup on JITBOT_HTTP_ADDR, answered on loopback only); with it stopped,
from the bbolt file at JITBOT_DB_PATH. Restore by stopping the bot and putting the copy in
place of JITBOT_DB_PATH.

exit: 0 when FILE holds a complete copy.
`,
	"migrate": `usage: jitbot migrate --to etcd

Copies the bbolt file at JITBOT_DB_PATH into the etcd cluster of JITBOT_ETCD_ENDPOINTS under
JITBOT_ETCD_PREFIX (with JITBOT_ETCD_CA_FILE, _CERT_FILE, _KEY_FILE, _USERNAME, _PASSWORD),
audit chain included, then reads every key back and checks the audit chain there with
JITBOT_AUDIT_KEY. It refuses a prefix that holds data. Stop the bot first; afterwards run the
replicas with JITBOT_STORE=etcd.

  --to etcd   the store to copy into

exit: 0 when the copy is complete and verified; 1 otherwise; 2 bad usage.
`,
	"version": `usage: jitbot version

Prints the version and commit stamped at build time, and the Go version.
`,
}

// errUsage marks a command line that cannot be understood (exit 2).
var errUsage = errors.New("bad usage")

// usageError is a command line that cannot be understood: what was wrong, and the usage of the
// command it was for ("" for jitbot's).
type usageError struct {
	cmd string
	msg string
}

func (e *usageError) Error() string { return e.msg }
func (e *usageError) Is(t error) bool {
	return t == errUsage
}

// Main runs the command in args and returns the process exit code.
func Main(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help", "-h", "-help", "--help":
		return help(args, stdout, stderr)
	case "version", "--version", "-v":
		cmd = "version"
	}
	if text, ok := commandUsage[cmd]; ok && wantsHelp(args) {
		fmt.Fprint(stdout, text)
		return 0
	}
	var err error
	switch cmd {
	case "run":
		err = cmdRun(ctx, args, environ, stderr)
	case "demo":
		err = cmdDemo(ctx, args, stdout, stderr)
	case "policy":
		err = cmdPolicy(ctx, args, environ, stdout, stderr)
	case "plan":
		err = cmdPlan(ctx, args, environ, stdout)
	case "audit":
		err = cmdAudit(args, environ, stdout)
	case "migrate":
		err = cmdMigrate(ctx, args, environ, stdout)
	case "backup":
		err = cmdBackup(ctx, args, environ, stdout)
	case "version":
		err = parseFlags(newFlags("version", stderr), args)
		if err == nil {
			printVersion(stdout)
		}
	default:
		return exitCode(&usageError{msg: fmt.Sprintf("unknown command %q", cmd)}, stderr)
	}
	var ue *usageError
	if errors.As(err, &ue) && ue.cmd == "" {
		ue.cmd = cmd
	} else if err != nil && errors.Is(err, errUsage) && !errors.As(err, &ue) {
		err = &usageError{cmd: cmd, msg: strings.TrimPrefix(err.Error(), errUsage.Error()+": ")}
	}
	return exitCode(err, stderr)
}

// help prints jitbot's usage, or one command's, to stdout.
func help(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(stdout, usage)
		return 0
	case len(args) == 1 && commandUsage[args[0]] != "":
		fmt.Fprint(stdout, commandUsage[args[0]])
		return 0
	}
	return exitCode(&usageError{msg: fmt.Sprintf("no help for %q", strings.Join(args, " "))}, stderr)
}

// wantsHelp says whether a command's arguments ask for its usage (before any "--").
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// exitError carries an exit code with an error already explained to the user.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, context.Canceled) {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		text, ok := commandUsage[ue.cmd]
		if !ok {
			text = usage
		}
		who := "jitbot"
		if ok {
			who += " " + ue.cmd
		}
		fmt.Fprintf(stderr, "%s: %s\n\n%s", who, ue.msg, text)
		return 2
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err.Error() != "" {
			fmt.Fprintf(stderr, "jitbot: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "jitbot: %v\n", err)
	return 1
}

// newFlags returns a flag set that reports nothing itself: a bad flag becomes a usage error
// that exitCode prints once, with the command's usage.
func newFlags(name string, _ io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected %s", errUsage, strings.Join(fs.Args(), " "))
	}
	return nil
}
