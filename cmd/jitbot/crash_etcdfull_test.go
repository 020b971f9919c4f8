package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestCrash_storeFullEtcdAtStart: jitbot is started on an etcd cluster whose NOSPACE alarm is
// already raised (its database reached its quota; etcd refuses every write). It must not
// start: it exits 1 with a log line that says what etcd refuses and how to fix it, /readyz is
// never 200, and Atlassian gets no call. Once the alarm is cleared it starts on the same prefix.
func TestCrash_storeFullEtcdAtStart(t *testing.T) {
	t.Parallel()
	w, e := etcdCrashWorld(t)
	tests := []struct {
		name     string
		existing bool // the prefix was written by a jitbot before the alarm
	}{
		{"new_prefix", false},
		{"existing_prefix", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.existing {
				w.procMu.Lock()
				w.start()
				w.procMu.Unlock()
				w.stop()
			}
			e.SetNoSpace(t, true)
			calls := w.org.Calls()
			addr := freeAddr(t)
			cmd := exec.Command(os.Args[0], "run")
			cmd.Env = append(append(os.Environ(), "JITBOT_TEST_CHILD=1"), w.env...)
			cmd.Env = append(cmd.Env, "JITBOT_HTTP_ADDR="+addr)
			out := &syncBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exitNeverReady(t, cmd, addr, out, "an etcd that refuses writes")
			if code := cmd.ProcessState.ExitCode(); code != 1 {
				t.Errorf("exit %d, want 1:\n%s", code, out)
			}
			for _, want := range []string{"JITBOT_ETCD_ENDPOINTS", "database space exceeded", "NOSPACE", "etcdctl defrag", "etcdctl alarm disarm"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("jitbot's output does not say %q:\n%s", want, out)
				}
			}
			if n := w.org.Calls() - calls; n != 0 {
				t.Errorf("jitbot called Atlassian %d times on a store it cannot write", n)
			}
			// The operator clears the alarm: jitbot starts on the same prefix.
			e.SetNoSpace(t, false)
			w.procMu.Lock()
			w.start()
			w.procMu.Unlock()
			w.stop()
			w.verifyAudit("after the alarm was cleared")
		})
	}
}
