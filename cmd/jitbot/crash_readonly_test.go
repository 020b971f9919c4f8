package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jitbot/jitbot/store"
)

// nobody is the unprivileged user a test running as root starts jitbot as, so that file modes
// bind it (root ignores them).
const nobody = 65534

// TestCrash_storeReadOnlyAtStart: jitbot started on a store it cannot write (the file and its
// directory read-only, or a directory where the file cannot be created) stops at once with
// a non-zero exit and a line naming JITBOT_DB_PATH and what to do, is never ready, and sends
// Atlassian nothing. Run as root, the test starts jitbot as an unprivileged user, since root
// writes read-only files.
//
// A store that becomes read-only while jitbot runs cannot be made so by chmod: jitbot holds
// the file open for writing, and modes are checked only when a file is opened.
// TestCrash_storeFull (every write refused by a file size limit of 0) stands for it.
func TestCrash_storeReadOnlyAtStart(t *testing.T) {
	t.Parallel()
	bin, cred := childAsUnprivileged(t)
	tests := []struct {
		name     string
		existing bool // a store written before, now read-only; else none yet, in a read-only directory
	}{
		{"read_only_file", true},
		{"read_only_directory", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var tot crashTotals
			w := newCrashWorld(t, 1, &tot)
			// Everything jitbot must read is readable by the unprivileged user; the store is not
			// writable by it.
			base := worldReadableDir(t)
			policy := filepath.Join(base, "policy.yaml")
			if err := os.WriteFile(policy, []byte(crashPolicy), 0o644); err != nil {
				t.Fatal(err)
			}
			data := filepath.Join(base, "data")
			if err := os.Mkdir(data, 0o755); err != nil {
				t.Fatal(err)
			}
			dbPath := filepath.Join(data, "jitbot.db")
			if tt.existing {
				db, err := store.Open(dbPath, store.Options{AuditKey: []byte(crashAuditKey)})
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dbPath, 0o444); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(data, 0o555); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Chmod(data, 0o755) })
			addr := freeAddr(t)
			cmd := exec.Command(bin, "run")
			cmd.Env = append(append(os.Environ(), "JITBOT_TEST_CHILD=1"), w.env...)
			cmd.Env = append(cmd.Env, "JITBOT_POLICY_FILE="+policy, "JITBOT_DB_PATH="+dbPath, "JITBOT_HTTP_ADDR="+addr, "HOME="+base)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
			out := &syncBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Until it exits, /readyz is never 200.
			err := exitNeverReady(t, cmd, addr, out, "a read-only store")
			if code := cmd.ProcessState.ExitCode(); code != 1 {
				t.Errorf("exit %d (%v), want 1:\n%s", code, err, out)
			}
			log := out.String()
			for _, want := range []string{"JITBOT_DB_PATH", dbPath, "permission denied", "writable"} {
				if !strings.Contains(log, want) {
					t.Errorf("jitbot's output does not say %q:\n%s", want, log)
				}
			}
			if got := changes(w.org.Requests()); len(got) != 0 {
				t.Errorf("jitbot changed Atlassian with a read-only store: %v", got)
			}
			if n := w.org.Calls(); n != 0 {
				t.Errorf("jitbot called Atlassian %d times with a store it cannot write", n)
			}
			if _, err := os.Stat(dbPath); !tt.existing && err == nil {
				t.Error("a store file was created in the read-only directory")
			}
		})
	}
}

// exitNeverReady waits up to 30 s for the started jitbot cmd to exit, asking its /readyz at
// addr meanwhile, and reports an error if it kept running or /readyz ever answered 200 (on
// what, for the messages). It returns what cmd.Wait returned.
func exitNeverReady(t *testing.T, cmd *exec.Cmd, addr string, out *syncBuffer, on string) error {
	t.Helper()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	ready := false
	var err error
poll:
	for {
		select {
		case err = <-exited:
			break poll
		case <-deadline:
			_ = cmd.Process.Kill()
			err = <-exited
			t.Errorf("jitbot kept running on %s:\n%s", on, out)
			break poll
		case <-time.After(20 * time.Millisecond):
			if resp, herr := http.Get("http://" + addr + "/readyz"); herr == nil {
				ready = ready || resp.StatusCode == http.StatusOK
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}
	if ready {
		t.Errorf("/readyz answered 200 on %s", on)
	}
	return err
}

// childAsUnprivileged returns the binary to run jitbot from and the credential to run it
// with: as root, a copy of this test binary that the unprivileged user may run, and that
// user; otherwise this binary and no credential (file modes already bind the test's user).
func childAsUnprivileged(t *testing.T) (string, *syscall.Credential) {
	t.Helper()
	if os.Geteuid() != 0 {
		return os.Args[0], nil
	}
	dir := worldReadableDir(t)
	bin := filepath.Join(dir, "jitbot.test")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return bin, &syscall.Credential{Uid: nobody, Gid: nobody}
}

// worldReadableDir is a new directory that every user may read and enter (t.TempDir is the
// test user's alone), removed at the end of the test.
func worldReadableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "jitbot-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
