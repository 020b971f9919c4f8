package policies

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

func TestLoad_Example(t *testing.T) {
	p, err := Load("example.yaml")
	if err != nil {
		t.Fatalf("Load(example.yaml): %v", err)
	}
	if p.Version != 1 || p.Organization.Timezone.String() != "Europe/London" {
		t.Errorf("version %d, timezone %v", p.Version, p.Organization.Timezone)
	}
	if p.Channels.Audit != "C0AUDIT" || p.AlertsChannel() != "C0ALERTS" {
		t.Errorf("channels = %+v", p.Channels)
	}
	if want := []string{"U0SEC1", "U0SEC2"}; !reflect.DeepEqual(p.Permissions.Auditors, want) {
		t.Errorf("auditors = %v, want %v", p.Permissions.Auditors, want)
	}
	if want := []string{"U0IT1"}; !reflect.DeepEqual(p.Permissions.Operators, want) {
		t.Errorf("operators = %v, want %v", p.Permissions.Operators, want)
	}

	js := p.Role("jira-software")
	if js == nil {
		t.Fatal("no role jira-software")
	}
	wantJS := access.Role{
		Name: "jira-software", Description: js.Description,
		Grants:      []access.Target{access.GroupTarget("jira-software-users-example")},
		MaxDuration: 7 * 24 * time.Hour, DefaultDuration: 24 * time.Hour,
		Approvers: []string{"U0LEAD"}, Approvals: 1, ReasonRequired: false, PendingTimeout: 24 * time.Hour,
	}
	if !reflect.DeepEqual(*js, wantJS) {
		t.Errorf("jira-software = %+v\nwant %+v", *js, wantJS)
	}

	sa := p.Role("site-admin")
	if sa == nil {
		t.Fatal("no role site-admin")
	}
	if got, want := sa.Grants, []access.Target{access.RoleTarget("site-admin", "example.atlassian.net")}; !reflect.DeepEqual(got, want) {
		t.Errorf("site-admin grants = %v, want %v", got, want)
	}
	if sa.MaxDuration != 4*time.Hour || sa.DefaultDuration != time.Hour || !sa.ReasonRequired ||
		!reflect.DeepEqual(sa.Approvers, []string{"U0SEC1", "U0SEC2"}) || sa.AutoApprove == nil {
		t.Errorf("site-admin = %+v", *sa)
	}
	bg := p.Role("site-admin-breakglass")
	if bg == nil || !bg.BreakGlass || !bg.ReasonRequired || bg.DefaultDuration != 30*time.Minute || bg.Approvals != 1 {
		t.Errorf("site-admin-breakglass = %+v", bg)
	}
	if oa := p.Role("org-admin"); oa == nil || oa.Approvals != 2 || len(oa.Approvers) != 3 ||
		!reflect.DeepEqual(oa.Grants, []access.Target{access.RoleTarget("org-admin", "")}) {
		t.Errorf("org-admin = %+v", oa)
	}
	if ja := p.Role("jira-admin"); ja == nil || ja.Grants[0].Role != "admin" {
		t.Errorf("jira-admin = %+v", ja)
	}

	eng := p.SyncRule("engineering-jira")
	if eng == nil || eng.Schedule != "@every 15m" || !eng.RemoveUnmatched ||
		!reflect.DeepEqual(eng.AddTo, []string{"jira-software-users-example"}) || eng.Match == nil {
		t.Errorf("engineering-jira = %+v", eng)
	}
	ext := p.Sweep("external-users")
	if ext == nil || ext.Action != access.SweepSuspend || ext.Grace != 72*time.Hour ||
		!reflect.DeepEqual(ext.Exclude, []string{"partner@agency.example"}) {
		t.Errorf("external-users = %+v", ext)
	}
	if in := p.Sweep("inactive-users"); in == nil || in.Action != access.SweepRemoveFromGroups || len(in.Groups) != 2 {
		t.Errorf("inactive-users = %+v", in)
	}
	if len(p.Reviews) != 1 || p.Reviews[0].Deadline != 7*24*time.Hour || p.Reviews[0].OnNoResponse != "remove" {
		t.Errorf("reviews = %+v", p.Reviews)
	}
	g := p.Guard
	if !p.IsProtected("site-admins") || !p.IsStanding("site-admins", access.Account{Email: "breakglass@example.com"}) ||
		g.MinMembers["site-admins"] != 1 || g.OnDrift != access.DriftReport || g.MaxChanges != 25 || g.Schedule != "@every 30m" {
		t.Errorf("guard = %+v", g)
	}
	if p.Digest != (access.Digest{Channel: "C0AUDIT", Schedule: "0 9 * * *"}) {
		t.Errorf("digest = %+v", p.Digest)
	}
}

func TestParse_Defaults(t *testing.T) {
	src := `version: 1
channels: {audit: C0AUDIT}
roles:
  - name: short
    grants: [{group: g}]
    max_duration: 30m
    approvers: [U0A]
  - name: long
    grants: [{role: org-admin}]
    max_duration: 7d
    approvers: [S0GROUP]
sync:
  - {name: s, schedule: "@every 1d", match: "true", add_to: [g]}
reviews:
  - {name: r, schedule: "@monthly", groups: [g], reviewers: [U0A]}
digest: {schedule: "@daily"}
`
	p, err := Parse("defaults.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	short, long := p.Roles[0], p.Roles[1]
	if short.DefaultDuration != 30*time.Minute || long.DefaultDuration != time.Hour {
		t.Errorf("default durations = %v, %v; want 30m, 1h", short.DefaultDuration, long.DefaultDuration)
	}
	if short.Approvals != 1 || !short.ReasonRequired || short.PendingTimeout != 24*time.Hour {
		t.Errorf("short = %+v", short)
	}
	if p.Organization.Timezone != time.UTC || p.AlertsChannel() != "C0AUDIT" || p.Channels.Alerts != "C0AUDIT" {
		t.Errorf("organization %+v channels %+v", p.Organization, p.Channels)
	}
	if p.Sync[0].RemoveUnmatched || p.Sync[0].Schedule != "@every 24h0m0s" {
		t.Errorf("sync = %+v", p.Sync[0])
	}
	if r := p.Reviews[0]; r.Deadline != 7*24*time.Hour || r.OnNoResponse != "keep" {
		t.Errorf("review = %+v", r)
	}
	if g := p.Guard; g.OnDrift != access.DriftReport || g.Schedule != "@every 1h" || g.MaxChanges != 50 {
		t.Errorf("guard = %+v", g)
	}
	if p.Digest.Channel != "C0AUDIT" {
		t.Errorf("digest = %+v", p.Digest)
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		file string
		want string // prefix of the first problem: FILE:LINE: field:
	}{
		{"unknown_key.yaml", "testdata/unknown_key.yaml:12: roles[0].colour: unknown field"},
		{"bad_duration.yaml", "testdata/bad_duration.yaml:10: roles[0].max_duration:"},
		{"default_over_max.yaml", "testdata/default_over_max.yaml:11: roles[0].default_duration:"},
		{"approvals_over_approvers.yaml", "testdata/approvals_over_approvers.yaml:12: roles[0].approvals:"},
		{"unknown_team.yaml", `testdata/unknown_team.yaml:11: roles[0].approvers[1]: unknown team "secuirty"`},
		{"bad_cron.yaml", "testdata/bad_cron.yaml:8: sync[0].schedule:"},
		{"cel_syntax.yaml", "testdata/cel_syntax.yaml:9: sweeps[0].match:"},
		{"cel_not_bool.yaml", "testdata/cel_not_bool.yaml:9: sweeps[0].match: the expression gives string, not bool"},
		{"cel_unknown_field.yaml", "testdata/cel_unknown_field.yaml:9: sweeps[0].match:"},
		{"duplicate_role.yaml", "testdata/duplicate_role.yaml:12: roles[1].name: duplicate role name"},
		{"missing_required.yaml", "testdata/missing_required.yaml:7: roles[0].max_duration: is required"},
		{"bad_enum.yaml", "testdata/bad_enum.yaml:10: sweeps[0].action:"},
		{"grant_both.yaml", "testdata/grant_both.yaml:10: roles[0].grants[0]:"},
		{"grant_unknown_role.yaml", "testdata/grant_unknown_role.yaml:9: roles[0].grants[0].role:"},
		{"bad_timezone.yaml", "testdata/bad_timezone.yaml:4: organization.timezone:"},
		{"bad_version.yaml", "testdata/bad_version.yaml:1: version:"},
		{"syntax.yaml", "testdata/syntax.yaml:2: invalid YAML:"},
		{"breakglass_no_requesters.yaml", "testdata/breakglass_no_requesters.yaml:9: roles[0].requesters: is required for a break_glass role"},
		{"breakglass_auto_approve.yaml", "testdata/breakglass_auto_approve.yaml:11: roles[0].auto_approve: has no effect on a break_glass role"},
		{"sync_protected.yaml", "testdata/sync_protected.yaml:8: sync[0].add_to[1]: sync rule everyone-admin adds to protected group site-admins: set allow_protected: true"},
		{"bad_limits.yaml", "testdata/bad_limits.yaml:5: limits.pending_per_user: must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".yaml"), func(t *testing.T) {
			p, err := Load(filepath.Join("testdata", tt.file))
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Load = %v, %v; want *Errors", p, err)
			}
			if p != nil {
				t.Errorf("Load returned a policy with errors")
			}
			if len(errs.Problems) != 1 {
				t.Errorf("got %d problems, want 1:\n%v", len(errs.Problems), err)
			}
			if got := errs.Problems[0].String(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("problem = %q\nwant prefix %q", got, tt.want)
			}
		})
	}
}

func TestParse_ManyErrors(t *testing.T) {
	_, err := Load("testdata/many.yaml")
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load = %v; want *Errors", err)
	}
	want := []string{
		"testdata/many.yaml:2: organisation: unknown field",
		"testdata/many.yaml:5: teams.security[1]:",
		"testdata/many.yaml:9: roles[0].grants[0]: give a group or a role",
		"testdata/many.yaml:10: roles[0].max_duration:",
		`testdata/many.yaml:11: roles[0].approvers[0]: unknown team "securty"`,
		"testdata/many.yaml:12: roles[0].reason:",
		"testdata/many.yaml:13: roles[1].name: duplicate role name",
		"testdata/many.yaml:17: roles[1].default_duration:",
		"testdata/many.yaml:19: roles[1].approvals:",
		"testdata/many.yaml:22: sync[0].schedule:",
		"testdata/many.yaml:23: sync[0].match:",
		"testdata/many.yaml:24: sync[0].add_to: must not be empty",
		"testdata/many.yaml:26: sweeps[0].groups: is required",
		"testdata/many.yaml:27: sweeps[0].schedule:",
		"testdata/many.yaml:28: sweeps[0].match:",
		"testdata/many.yaml:31: reviews[0].groups: is required",
		"testdata/many.yaml:31: reviews[0].reviewers: is required",
		"testdata/many.yaml:34: guard.on_drift:",
		"testdata/many.yaml:35: guard.max_changes:",
		"testdata/many.yaml:37: digest.schedule:",
	}
	if len(errs.Problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(errs.Problems), len(want), err)
	}
	lines := strings.Split(err.Error(), "\n")
	for i := 0; i < min(len(want), len(lines)); i++ {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d = %q\nwant prefix %q", i, lines[i], want[i])
		}
	}
}

func TestParse_Empty(t *testing.T) {
	_, err := Parse("empty.yaml", nil)
	if err == nil || err.Error() != "empty.yaml:1: version: is required" {
		t.Errorf("Parse(empty) = %v", err)
	}
}

func TestLoad_Missing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v; want os.ErrNotExist", err)
	}
}

func BenchmarkLoadExample(b *testing.B) {
	for b.Loop() {
		if _, err := Load("example.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParse_Warnings(t *testing.T) {
	p, warns, err := LoadWithWarnings(filepath.Join("testdata", "valid", "warn_untrusted.yaml"))
	if err != nil {
		t.Fatalf("LoadWithWarnings: %v", err)
	}
	if !p.Sync[0].AllowProtected {
		t.Error("allow_protected was not read")
	}
	want := []string{
		"testdata/valid/warn_untrusted.yaml:12: roles[0].auto_approve: reads request.reason, which the requester controls",
		"testdata/valid/warn_untrusted.yaml:13: roles[0].request_if: reads requester.name, which the requester controls",
	}
	if len(warns) != len(want) {
		t.Fatalf("warnings = %v, want %d", warns, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(warns[i].String(), w) {
			t.Errorf("warning %d = %q\nwant prefix %q", i, warns[i], w)
		}
	}
	_, warns, err = ParseWithWarnings("p.yaml", []byte("version: 1\nroles:\n  - {name: x, grants: [{group: g}], max_duration: 1h, approvers: [U0LEAD]}\n"))
	if err != nil || len(warns) != 1 || !strings.HasPrefix(warns[0].String(), "p.yaml:1: organization.domains: is empty, so every user counts as external") {
		t.Errorf("no domains: warnings %v, err %v", warns, err)
	}
	if _, warns, err := LoadWithWarnings("example.yaml"); err != nil || len(warns) != 0 {
		t.Errorf("example.yaml: warnings %v, err %v; want none", warns, err)
	}
}

func TestLoad_ExampleWhoMayAsk(t *testing.T) {
	p, err := Load("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bg := p.Role("site-admin-breakglass")
	if !reflect.DeepEqual(bg.Requesters, []string{"U0IT1"}) || !reflect.DeepEqual(bg.RequesterNames, []string{"it"}) {
		t.Errorf("break-glass requesters = %v (%v)", bg.Requesters, bg.RequesterNames)
	}
	if oa := p.Role("org-admin"); oa.RequestIf == nil || len(oa.Requesters) != 3 {
		t.Errorf("org-admin requesters = %v, request_if %v", oa.Requesters, oa.RequestIf)
	}
	if p.Limits != (access.Limits{PendingPerUser: 5, BreakGlassPerDay: 2}) {
		t.Errorf("limits = %+v", p.Limits)
	}
	if d, err := Parse("d.yaml", []byte("version: 1\n")); err != nil || d.Limits.Pending() != 5 || d.Limits.BreakGlass() != 2 {
		t.Errorf("default limits = %+v, %v", d.Limits, err)
	}
}
