package main

import (
	"fmt"
	"io"

	"github.com/jitbot/jitbot/policies"
)

func cmdPolicy(args []string, stdout, stderr io.Writer) error {
	if len(args) != 2 || args[0] != "check" {
		return fmt.Errorf("%w: write `jitbot policy check FILE`", errUsage)
	}
	p, warnings, err := policies.LoadWithWarnings(args[1])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &exitError{code: 1, err: fmt.Errorf("%s: invalid policy", args[1])}
	}
	for _, w := range warnings {
		w.Message = "warning: " + w.Message
		fmt.Fprintln(stderr, w)
	}
	fmt.Fprintf(stdout, "%s: ok (%d roles, %d sync rules, %d sweeps, %d reviews)\n", args[1], len(p.Roles), len(p.Sync), len(p.Sweeps), len(p.Reviews))
	return nil
}
