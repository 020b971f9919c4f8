package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/jitbot/jitbot/access"
)

// Config is jitbot's configuration from the environment (docs/configuration.md).
type Config struct {
	SlackBotToken   Secret
	SlackAppToken   Secret
	SlackAPIURL     string
	AtlassianURL    string
	AtlassianOrgID  string
	AtlassianAPIKey Secret
	DirectoryID     string
	PolicyFile      string
	DBPath          string
	Store           StoreConfig // JITBOT_STORE, JITBOT_ETCD_*, JITBOT_LEADER_TTL (DBPath is Store.DBPath)
	HTTPAddr        string
	SweepInterval   time.Duration
	RunRetention    time.Duration // how long stored sync/sweep/guard runs are kept
	KeepHistory     time.Duration // how long ended grants, requests, review items and audit events are kept; 0: for good
	AlertAfter      time.Duration // a grant step still failing this long after it was due is alerted
	SlashCommand    string
	AuditKey        Secret
	LogLevel        zerolog.Level
	LogFormat       string
	Backup          backupConfig // JITBOT_BACKUP_*
}

// env reads variables from a KEY=VALUE list, with NAME_FILE variants for secrets.
type env struct {
	vars map[string]string
	errs []error
}

func newEnv(environ []string) *env {
	e := &env{vars: map[string]string{}}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			e.vars[k] = v
		}
	}
	return e
}

func (e *env) problem(name, format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (e *env) str(name, def string) string {
	if v, ok := e.vars[name]; ok {
		return strings.TrimSpace(v)
	}
	return def
}

// secret reads name or, when set, the file named by name_FILE. It never echoes the value.
func (e *env) secret(name string, required bool) Secret {
	v, ok := e.vars[name]
	if path, fok := e.vars[name+"_FILE"]; fok && path != "" {
		if ok && v != "" {
			e.problem(name, "set both %s and %s_FILE; set only one", name, name)
			return ""
		}
		b, err := os.ReadFile(path)
		if err != nil {
			e.problem(name+"_FILE", "cannot read %s: %v", path, errors.Unwrap(err))
			return ""
		}
		v = string(b)
	}
	v = strings.TrimSpace(v)
	if v == "" && required {
		e.problem(name, "is required (or give a file with %s_FILE)", name)
	}
	return Secret(v)
}

func (e *env) url(name, def string) string {
	v := e.str(name, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		e.problem(name, "%q is not an http(s) URL", v)
	}
	return v
}

// LoadConfig reads every variable and reports every problem at once.
func LoadConfig(environ []string) (*Config, error) {
	e := newEnv(environ)
	c := &Config{
		SlackBotToken:   e.secret("JITBOT_SLACK_BOT_TOKEN", true),
		SlackAppToken:   e.secret("JITBOT_SLACK_APP_TOKEN", true),
		SlackAPIURL:     e.url("JITBOT_SLACK_API_URL", "https://slack.com/api/"),
		AtlassianURL:    e.url("JITBOT_ATLASSIAN_API_URL", "https://api.atlassian.com"),
		AtlassianOrgID:  e.str("JITBOT_ATLASSIAN_ORG_ID", ""),
		AtlassianAPIKey: e.secret("JITBOT_ATLASSIAN_API_KEY", true),
		DirectoryID:     e.str("JITBOT_ATLASSIAN_DIRECTORY_ID", "-"),
		PolicyFile:      e.str("JITBOT_POLICY_FILE", "policy.yaml"),
		Store:           e.storeConfig(),
		HTTPAddr:        e.str("JITBOT_HTTP_ADDR", ":8080"),
		SlashCommand:    e.str("JITBOT_SLASH_COMMAND", "/access"),
		AuditKey:        e.secret("JITBOT_AUDIT_KEY", false),
		LogFormat:       e.str("JITBOT_LOG_FORMAT", "json"),
	}
	if !strings.HasSuffix(c.SlackAPIURL, "/") {
		c.SlackAPIURL += "/"
	}
	c.AtlassianURL = strings.TrimSuffix(c.AtlassianURL, "/")
	if t := c.SlackBotToken.Reveal(); t != "" && !strings.HasPrefix(t, "xoxb-") {
		e.problem("JITBOT_SLACK_BOT_TOKEN", "must be a bot token starting with xoxb-")
	}
	if t := c.SlackAppToken.Reveal(); t != "" && !strings.HasPrefix(t, "xapp-") {
		e.problem("JITBOT_SLACK_APP_TOKEN", "must be an app-level token starting with xapp- (with connections:write)")
	}
	if c.AtlassianOrgID == "" {
		e.problem("JITBOT_ATLASSIAN_ORG_ID", "is required: the organization ID from admin.atlassian.com")
	}
	if c.DirectoryID == "" {
		e.problem("JITBOT_ATLASSIAN_DIRECTORY_ID", "must not be empty; use - for all directories")
	}
	if c.PolicyFile == "" {
		e.problem("JITBOT_POLICY_FILE", "must not be empty")
	}
	c.DBPath = c.Store.DBPath
	if !strings.HasPrefix(c.SlashCommand, "/") || strings.ContainsAny(c.SlashCommand, " \t") {
		e.problem("JITBOT_SLASH_COMMAND", "%q must be a slash command such as /access", c.SlashCommand)
	}
	c.SweepInterval = 15 * time.Second
	if v := e.str("JITBOT_SWEEP_INTERVAL", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > time.Hour {
			e.problem("JITBOT_SWEEP_INTERVAL", "%q must be a duration between 1s and 1h, such as 15s", v)
		}
		if err == nil {
			c.SweepInterval = d
		}
	}
	c.RunRetention = 30 * 24 * time.Hour
	if v := e.str("JITBOT_RUN_RETENTION", ""); v != "" {
		d, err := access.ParseDuration(v)
		if err != nil || d < time.Hour {
			e.problem("JITBOT_RUN_RETENTION", "%q must be a duration of at least 1h, such as 30d", v)
		} else {
			c.RunRetention = d
		}
	}
	c.KeepHistory = loadHistoryRetention(e)
	c.AlertAfter = access.DefaultAlertAfter
	if v := e.str("JITBOT_ALERT_AFTER", ""); v != "" {
		d, err := access.ParseDuration(v)
		if err != nil || d < time.Second {
			e.problem("JITBOT_ALERT_AFTER", "%q must be a duration of at least 1s, such as 1m", v)
		} else {
			c.AlertAfter = d
		}
	}
	lvl, err := zerolog.ParseLevel(strings.ToLower(e.str("JITBOT_LOG_LEVEL", "info")))
	if err != nil || lvl == zerolog.NoLevel {
		e.problem("JITBOT_LOG_LEVEL", "%q is not one of trace, debug, info, warn, error", e.str("JITBOT_LOG_LEVEL", ""))
		lvl = zerolog.InfoLevel
	}
	c.LogLevel = lvl
	if c.LogFormat != "json" && c.LogFormat != "console" {
		e.problem("JITBOT_LOG_FORMAT", "%q must be json or console", c.LogFormat)
	}
	c.Backup = loadBackup(e)
	if c.Store.Kind == storeEtcd && c.Backup.Dir != "" {
		e.problem("JITBOT_BACKUP_DIR", "copies the bbolt store; with JITBOT_STORE=etcd leave it empty and snapshot the etcd cluster (etcdctl snapshot save)")
	}
	if len(e.errs) > 0 {
		return nil, fmt.Errorf("bad configuration:\n%w", errors.Join(e.errs...))
	}
	return c, nil
}

// loadHistoryRetention reads JITBOT_HISTORY_RETENTION: a duration of at least
// access.MinHistoryRetention, or 0/off to keep history for good.
func loadHistoryRetention(e *env) time.Duration {
	v := e.str("JITBOT_HISTORY_RETENTION", "400d")
	if v == "0" || strings.EqualFold(v, "off") {
		return 0
	}
	d, err := access.ParseDuration(v)
	switch {
	case err != nil:
		e.problem("JITBOT_HISTORY_RETENTION", "%q is not a duration: write days such as 400d, or 0 (or off) to keep history for good", v)
	case d < access.MinHistoryRetention:
		e.problem("JITBOT_HISTORY_RETENTION", "%q is too short: the minimum is %s, because the policy's limits (break_glass_per_day) and the daily digest look back 24 h; write 0 (or off) to keep history for good", v, access.FormatDuration(access.MinHistoryRetention))
	default:
		return d
	}
	return access.DefaultHistoryRetention
}
