package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig_store(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("etcd-secret-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	etcd := func(kv ...string) []string { return slices.Concat(goodEnv(), []string{"JITBOT_STORE=etcd"}, kv) }
	tests := []struct {
		name    string
		env     []string
		wantErr []string
		check   func(t *testing.T, c StoreConfig)
	}{
		{name: "bbolt_default", env: goodEnv(), check: func(t *testing.T, c StoreConfig) {
			if c.Kind != storeBolt || c.DBPath != "jitbot.db" || c.LeaderTTL != 10*time.Second {
				t.Fatalf("defaults: %+v", c)
			}
		}},
		{name: "etcd_defaults", env: etcd("JITBOT_ETCD_ENDPOINTS=https://etcd-0:2379, etcd-1:2379"), check: func(t *testing.T, c StoreConfig) {
			if c.Kind != storeEtcd || c.Etcd.Prefix != "/jitbot/" || c.LeaderTTL != 10*time.Second ||
				!slices.Equal(c.Etcd.Endpoints, []string{"https://etcd-0:2379", "etcd-1:2379"}) || c.Etcd.TLS != nil {
				t.Fatalf("etcd defaults: %+v", c)
			}
		}},
		{name: "etcd_settings", env: etcd("JITBOT_ETCD_ENDPOINTS=http://127.0.0.1:2379", "JITBOT_ETCD_PREFIX=/prod/jitbot/",
			"JITBOT_LEADER_TTL=5s", "JITBOT_ETCD_USERNAME=jitbot", "JITBOT_ETCD_PASSWORD_FILE="+pw), check: func(t *testing.T, c StoreConfig) {
			if c.Etcd.Prefix != "/prod/jitbot/" || c.LeaderTTL != 5*time.Second || c.Etcd.Username != "jitbot" || c.Password.Reveal() != "etcd-secret-pw" {
				t.Fatalf("etcd settings: %+v", c)
			}
		}},
		{name: "unknown_kind", env: append(goodEnv(), "JITBOT_STORE=zookeeper"), wantErr: []string{"JITBOT_STORE"}},
		{name: "etcd_without_endpoints", env: etcd(), wantErr: []string{"JITBOT_ETCD_ENDPOINTS"}},
		{name: "etcd_bad_values", env: etcd("JITBOT_ETCD_ENDPOINTS=ftp://x", "JITBOT_ETCD_PREFIX=/jitbot", "JITBOT_LEADER_TTL=1s",
			"JITBOT_ETCD_USERNAME=jitbot", "JITBOT_ETCD_CERT_FILE="+notPEM, "JITBOT_ETCD_CA_FILE="+notPEM, "JITBOT_ETCD_MAX_TXN_OPS=-1"),
			wantErr: []string{"JITBOT_ETCD_ENDPOINTS", "JITBOT_ETCD_PREFIX", "JITBOT_LEADER_TTL", "JITBOT_ETCD_USERNAME", "JITBOT_ETCD_CERT_FILE", "JITBOT_ETCD_CA_FILE", "JITBOT_ETCD_MAX_TXN_OPS"}},
		{name: "etcd_password_file_missing", env: etcd("JITBOT_ETCD_ENDPOINTS=etcd:2379", "JITBOT_ETCD_USERNAME=u", "JITBOT_ETCD_PASSWORD_FILE="+filepath.Join(dir, "nope")),
			wantErr: []string{"JITBOT_ETCD_PASSWORD_FILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(tt.env)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, c.Store)
				if s := fmt.Sprintf("%+v %s", c, c.Store.describe()); strings.Contains(s, "etcd-secret-pw") {
					t.Fatalf("the etcd password prints: %s", s)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, name := range tt.wantErr {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error does not name %s:\n%v", name, err)
				}
			}
		})
	}
}
