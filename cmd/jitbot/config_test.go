package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func goodEnv() []string {
	return []string{
		"JITBOT_SLACK_BOT_TOKEN=xoxb-secret-bot",
		"JITBOT_SLACK_APP_TOKEN=xapp-secret-app",
		"JITBOT_ATLASSIAN_ORG_ID=org-1",
		"JITBOT_ATLASSIAN_API_KEY=atl-secret-key",
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("atl-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     []string
		wantErr []string // every variable named in the error
		check   func(t *testing.T, c *Config)
	}{
		{name: "defaults", env: goodEnv(), check: func(t *testing.T, c *Config) {
			if c.SlackAPIURL != "https://slack.com/api/" || c.DirectoryID != "-" || c.SweepInterval.String() != "15s" || c.SlashCommand != "/access" || c.DBPath != "jitbot.db" || c.HTTPAddr != ":8080" || c.AlertAfter != time.Minute {
				t.Fatalf("defaults: %+v", c)
			}
		}},
		{name: "all_missing", env: nil, wantErr: []string{"JITBOT_SLACK_BOT_TOKEN", "JITBOT_SLACK_APP_TOKEN", "JITBOT_ATLASSIAN_ORG_ID", "JITBOT_ATLASSIAN_API_KEY"}},
		{name: "bad_values", env: append(goodEnv(), "JITBOT_SWEEP_INTERVAL=soon", "JITBOT_LOG_LEVEL=loud", "JITBOT_SLACK_API_URL=ftp://x", "JITBOT_LOG_FORMAT=xml", "JITBOT_RUN_RETENTION=5m", "JITBOT_ALERT_AFTER=soon"),
			wantErr: []string{"JITBOT_SWEEP_INTERVAL", "JITBOT_LOG_LEVEL", "JITBOT_SLACK_API_URL", "JITBOT_LOG_FORMAT", "JITBOT_RUN_RETENTION", "JITBOT_ALERT_AFTER"}},
		{name: "wrong_token_kinds", env: []string{"JITBOT_SLACK_BOT_TOKEN=xapp-1", "JITBOT_SLACK_APP_TOKEN=xoxb-1", "JITBOT_ATLASSIAN_ORG_ID=o", "JITBOT_ATLASSIAN_API_KEY=k"},
			wantErr: []string{"JITBOT_SLACK_BOT_TOKEN", "JITBOT_SLACK_APP_TOKEN"}},
		{name: "secret_from_file", env: append(goodEnv()[:3], "JITBOT_ATLASSIAN_API_KEY_FILE="+keyFile), check: func(t *testing.T, c *Config) {
			if c.AtlassianAPIKey.Reveal() != "atl-from-file" {
				t.Fatalf("key from file: %q", c.AtlassianAPIKey.Reveal())
			}
		}},
		{name: "secret_file_missing", env: append(goodEnv()[:3], "JITBOT_ATLASSIAN_API_KEY_FILE="+filepath.Join(dir, "nope")), wantErr: []string{"JITBOT_ATLASSIAN_API_KEY_FILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(tt.env)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, c)
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
			for _, secret := range []string{"secret-bot", "secret-app", "secret-key"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks a secret: %v", err)
				}
			}
		})
	}
}

func TestSecret_neverPrints(t *testing.T) {
	c, err := LoadConfig(goodEnv())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{c.SlackBotToken.String(), c.AtlassianAPIKey.GoString()} {
		if s != redacted {
			t.Fatalf("secret printed as %q", s)
		}
	}
}
