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
  policy check FILE        validate a policy file
  plan [--rule NAME]       print what sync rules, sweeps and the guard would change, changing nothing
  audit verify             check the audit log's hash chain (bot stopped)
  audit export [--since DURATION] [--format json|csv]
                           write audit events to stdout (bot stopped)
  migrate --to etcd        copy the bbolt file into etcd (JITBOT_ETCD_*), verified (bot stopped)
  version                  version, commit and Go version

configuration comes from the environment; see README.md.
`

// errUsage marks a command line that cannot be understood (exit 2).
var errUsage = errors.New("bad usage")

// Main runs the command in args and returns the process exit code.
func Main(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = cmdRun(ctx, args, environ, stderr)
	case "demo":
		err = cmdDemo(ctx, args, stdout, stderr)
	case "policy":
		err = cmdPolicy(args, stdout, stderr)
	case "plan":
		err = cmdPlan(ctx, args, environ, stdout)
	case "audit":
		err = cmdAudit(args, environ, stdout)
	case "migrate":
		err = cmdMigrate(ctx, args, environ, stdout)
	case "version", "--version", "-v":
		printVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
	return exitCode(err, stderr)
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
	if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "jitbot: %v\n\n", err)
		}
		fmt.Fprint(stderr, usage)
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

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected %s", errUsage, strings.Join(fs.Args(), " "))
	}
	return nil
}
