package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/store/etcdstore/etcdtest"
)

// TestOpenState_etcdTLSAndAuth: the JITBOT_ETCD_* variables reach a cluster that requires a
// client certificate and a password, and each missing or wrong piece fails the open.
func TestOpenState_etcdTLSAndAuth(t *testing.T) {
	srv, files := etcdtest.StartTLS(t)
	ctx := context.Background()
	enableAuth(t, srv.Endpoints(), files, "/tls/")
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("jitbot-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := slices.Concat(goodEnv(), []string{"JITBOT_STORE=etcd", "JITBOT_ETCD_ENDPOINTS=" + srv.Endpoints()[0], "JITBOT_ETCD_PREFIX=/tls/",
		"JITBOT_ETCD_CA_FILE=" + files.CA, "JITBOT_ETCD_CERT_FILE=" + files.ClientCert, "JITBOT_ETCD_KEY_FILE=" + files.ClientKey,
		"JITBOT_ETCD_USERNAME=jitbot", "JITBOT_ETCD_PASSWORD_FILE=" + pw})
	// open dials with timeout: the cases that end in no answer (a TLS handshake refused) wait
	// all of it, the others should not run out of it (etcd checks a password with bcrypt,
	// which takes a second under -race on a loaded machine).
	open := func(env []string, timeout time.Duration) (stateStore, error) {
		cfg, err := LoadConfig(env)
		if err != nil {
			t.Fatal(err)
		}
		sc := cfg.Store
		sc.Etcd.DialTimeout = timeout
		return openState(ctx, sc, []byte("k"), 0)
	}
	db, err := open(env, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(ctx, func(tx access.Tx) error {
		return tx.PutBinding(&access.Binding{SlackID: "U1", Email: "a@example.com", At: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	// without returns env less the named variables, plus add.
	without := func(drop []string, add ...string) []string {
		out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
			name, _, _ := strings.Cut(kv, "=")
			return slices.Contains(drop, name)
		})
		return append(out, add...)
	}
	wrongPW := filepath.Join(dir, "wrong")
	if err := os.WriteFile(wrongPW, []byte("guess"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		env        []string
		want       string
		unanswered bool // the TLS handshake fails: jitbot waits out the dial timeout
	}{
		{"no_client_certificate", without([]string{"JITBOT_ETCD_CERT_FILE", "JITBOT_ETCD_KEY_FILE"}), "JITBOT_ETCD_CA_FILE", true},
		{"wrong_password", without([]string{"JITBOT_ETCD_PASSWORD_FILE"}, "JITBOT_ETCD_PASSWORD_FILE="+wrongPW), "authentication failed", false},
		{"no_ca", without([]string{"JITBOT_ETCD_CA_FILE"}), "JITBOT_ETCD_CA_FILE", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			timeout := 30 * time.Second
			if tt.unanswered {
				timeout = 2 * time.Second
			}
			db, err := open(tt.env, timeout)
			if err == nil {
				_ = db.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "guess") || strings.Contains(err.Error(), "jitbot-pw") {
				t.Fatalf("the error shows a password: %v", err)
			}
		})
	}
}

// enableAuth turns on etcd authentication with a root user and a jitbot user that may read
// and write prefix only.
func enableAuth(t *testing.T, endpoints []string, files etcdtest.TLSFiles, prefix string) {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(files.ClientCert, files.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		TLS: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	steps := []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", "root-pw"); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.RoleAdd(ctx, "jitbot"); return err },
		func() error {
			_, err := cli.RoleGrantPermission(ctx, "jitbot", prefix, clientv3.GetPrefixRangeEnd(prefix), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := cli.UserAdd(ctx, "jitbot", "jitbot-pw"); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "jitbot", "jitbot"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("auth step %d: %v", i, err)
		}
	}
}
