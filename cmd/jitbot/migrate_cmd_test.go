package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jitbot/jitbot/store/etcdstore/etcdtest"
)

// TestMigrate_demoDatabase plays the demo story, copies its database into an embedded etcd
// with `jitbot migrate --to etcd` (in Txns of 16 keys, so the copy takes many), and checks that
// `jitbot audit verify` on etcd agrees with the file; a second migrate into the same prefix is
// refused and changes nothing.
func TestMigrate_demoDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ctx := context.Background()
	s, err := newSandbox(ctx, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	dir := s.dir
	if problems := s.story(ctx); len(problems) > 0 {
		t.Fatalf("demo story: %v", problems)
	}
	s.cancel()
	<-s.done
	_ = s.app.Close()
	s.slack.Close()
	s.org.Close()
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	path := filepath.Join(dir, "jitbot.db")

	srv := etcdtest.Start(t)
	etcdEnv := []string{"JITBOT_DB_PATH=" + path, "JITBOT_ETCD_ENDPOINTS=" + srv.Endpoints()[0], "JITBOT_ETCD_PREFIX=/demo/", "JITBOT_ETCD_MAX_TXN_OPS=16"}
	code, out, errOut := runMain([]string{"migrate", "--to", "etcd"}, etcdEnv...)
	if code != 0 || !strings.Contains(out, "audit chain intact") || !strings.Contains(out, "to etcd ") {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	t.Log(strings.TrimSpace(out))

	events := regexp.MustCompile(`(\d+) events`)
	code, fileOut, errOut := runMain([]string{"audit", "verify"}, "JITBOT_DB_PATH="+path)
	if code != 0 {
		t.Fatalf("audit verify on the file: exit %d %s", code, errOut)
	}
	code, etcdOut, errOut := runMain([]string{"audit", "verify"}, append(etcdEnv, "JITBOT_STORE=etcd")...)
	if code != 0 {
		t.Fatalf("audit verify on etcd: exit %d %s", code, errOut)
	}
	if f, e := events.FindString(fileOut), events.FindString(etcdOut); f == "" || f != e {
		t.Fatalf("audit verify: file says %q, etcd says %q", fileOut, etcdOut)
	}
	code, fileExport, _ := runMain([]string{"audit", "export"}, "JITBOT_DB_PATH="+path)
	_, etcdExport, _ := runMain([]string{"audit", "export"}, append(etcdEnv, "JITBOT_STORE=etcd")...)
	if code != 0 || fileExport == "" || fileExport != etcdExport {
		t.Fatalf("audit export differs between the file and etcd")
	}

	code, _, errOut = runMain([]string{"migrate", "--to", "etcd"}, etcdEnv...)
	if code != 1 || !strings.Contains(errOut, "already holds jitbot data") {
		t.Fatalf("second migrate into the same prefix: exit %d %s", code, errOut)
	}
	code, again, _ := runMain([]string{"audit", "verify"}, append(etcdEnv, "JITBOT_STORE=etcd")...)
	if code != 0 || events.FindString(again) != events.FindString(etcdOut) {
		t.Fatalf("the refused migrate changed etcd: %s", again)
	}
}

func TestMigrate_usageAndConfig(t *testing.T) {
	if code, _, _ := runMain([]string{"migrate"}); code != 2 {
		t.Fatalf("migrate without --to: exit %d, want 2", code)
	}
	if code, _, _ := runMain([]string{"migrate", "--to", "zookeeper"}); code != 2 {
		t.Fatalf("migrate --to zookeeper: exit %d, want 2", code)
	}
	code, _, errOut := runMain([]string{"migrate", "--to", "etcd"}, "JITBOT_DB_PATH="+filepath.Join(t.TempDir(), "x.db"))
	if code != 1 || !strings.Contains(errOut, "JITBOT_ETCD_ENDPOINTS") {
		t.Fatalf("migrate without endpoints: exit %d %s", code, errOut)
	}
}
