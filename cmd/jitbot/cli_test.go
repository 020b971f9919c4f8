package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestMain_help: help in every spelling prints usage once, to stdout, and exits 0; a command
// line jitbot cannot understand exits 2 with one line saying what was wrong, then the usage.
func TestMain_help(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    string // usage expected on stdout ("" for none)
		stderrMsg string // first line expected on stderr ("" for nothing on stderr)
	}{
		{"help", []string{"help"}, 0, "usage: jitbot [command]", ""},
		{"dash_dash_help", []string{"--help"}, 0, "usage: jitbot [command]", ""},
		{"dash_h", []string{"-h"}, 0, "usage: jitbot [command]", ""},
		{"help_plan", []string{"help", "plan"}, 0, "usage: jitbot plan", ""},
		{"plan_help", []string{"plan", "--help"}, 0, "usage: jitbot plan", ""},
		{"run_help", []string{"run", "-h"}, 0, "usage: jitbot run", ""},
		{"demo_help", []string{"demo", "--help"}, 0, "usage: jitbot demo", ""},
		{"audit_help", []string{"audit", "--help"}, 0, "usage: jitbot audit", ""},
		{"audit_verify_help", []string{"audit", "verify", "--help"}, 0, "usage: jitbot audit", ""},
		{"policy_check_help", []string{"policy", "check", "--help"}, 0, "usage: jitbot policy", ""},
		{"backup_help", []string{"backup", "--help"}, 0, "usage: jitbot backup", ""},
		{"version_help", []string{"version", "--help"}, 0, "usage: jitbot version", ""},
		{"unknown_command", []string{"frobnicate"}, 2, "", `jitbot: unknown command "frobnicate"`},
		{"help_unknown", []string{"help", "frobnicate"}, 2, "", `jitbot: no help for "frobnicate"`},
		{"bad_flag", []string{"plan", "--bogus"}, 2, "", "jitbot plan: flag provided but not defined: -bogus"},
		{"extra_argument", []string{"version", "now"}, 2, "", "jitbot version: unexpected now"},
		{"backup_without_file", []string{"backup"}, 2, "", "jitbot backup: write `jitbot backup FILE`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(context.Background(), tt.args, nil, &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errOut.String())
			}
			if tt.stdout != "" {
				if !strings.HasPrefix(out.String(), tt.stdout) || strings.Count(out.String(), "usage:") != 1 || errOut.Len() != 0 {
					t.Fatalf("want %q once on stdout and nothing on stderr\nstdout:\n%s\nstderr:\n%s", tt.stdout, out.String(), errOut.String())
				}
				return
			}
			first, rest, _ := strings.Cut(errOut.String(), "\n")
			if out.Len() != 0 || first != tt.stderrMsg || strings.Count(rest, "usage:") != 1 {
				t.Fatalf("want %q, then the usage once, on stderr\nstdout:\n%s\nstderr:\n%s", tt.stderrMsg, out.String(), errOut.String())
			}
		})
	}
}

// TestMain_usageListsEveryCommand: every command has its help, and the overview names it.
func TestMain_usageListsEveryCommand(t *testing.T) {
	for cmd, text := range commandUsage {
		if !strings.Contains(usage, "\n  "+cmd+" ") {
			t.Errorf("jitbot help does not list %s", cmd)
		}
		if !strings.HasPrefix(text, "usage: jitbot "+cmd) {
			t.Errorf("help for %s starts %q", cmd, strings.SplitN(text, "\n", 2)[0])
		}
	}
}

// TestVersion_stamped: the version and commit given with -ldflags -X are what `jitbot version`
// shows.
func TestVersion_stamped(t *testing.T) {
	oldV, oldC := version, commit
	t.Cleanup(func() { version, commit = oldV, oldC })
	version, commit = "v1.2.3", "0123456789abcdef"
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"version"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if got := out.String(); !strings.HasPrefix(got, "jitbot v1.2.3\ncommit 0123456789abcdef\ngo") {
		t.Fatalf("version output:\n%s", got)
	}
}
