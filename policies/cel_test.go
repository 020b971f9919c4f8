package policies

import (
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

func TestCondition_Eval(t *testing.T) {
	p, err := Load("example.yaml")
	if err != nil {
		t.Fatalf("Load(example.yaml): %v", err)
	}
	now := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	domains := p.Organization.Domains
	engineer := &access.User{AccountID: "a1", Email: "ann@example.com", Managed: true, Status: "active",
		Groups: []string{"scim-engineering"}, LastActive: now.Add(-24 * time.Hour)}
	contractor := &access.User{AccountID: "a2", Email: "cal@example.com", Managed: true, Status: "active",
		Groups: []string{"scim-engineering", "contractors"}}
	partner := &access.User{AccountID: "a3", Email: "pat@agency.example", Managed: false, Status: "active"}
	suspendedPartner := &access.User{AccountID: "a4", Email: "sam@agency.example", Status: "suspended"}
	unmanaged := &access.User{AccountID: "a5", Email: "una@example.com", Managed: false, Status: "active"}
	idle := &access.User{AccountID: "a6", Email: "ida@example.com", Managed: true, Status: "active",
		LastActive: now.Add(-91 * 24 * time.Hour)}
	neverActive := &access.User{AccountID: "a7", Email: "nev@example.com", Managed: true, Status: "active",
		AddedToOrg: now.Add(-200 * 24 * time.Hour)}
	oncall := &access.User{AccountID: "a8", Email: "ola@example.com", Managed: true, Status: "active", Groups: []string{"oncall"}}

	sync := p.SyncRule("engineering-jira").Match
	external := p.Sweep("external-users").Match
	inactive := p.Sweep("inactive-users").Match
	auto := p.Role("site-admin").AutoApprove
	req := func(d time.Duration) *access.RequestInfo {
		return &access.RequestInfo{Role: "site-admin", Kind: access.InputKindRequest, Duration: d, Total: d, Reason: "incident"}
	}
	// An extension by 10m of a grant that has run 25m already: short alone, long in all.
	chained := &access.RequestInfo{Role: "site-admin", Kind: access.InputKindExtend, Duration: 10 * time.Minute, Total: 35 * time.Minute}

	tests := []struct {
		name string
		cond access.Condition
		in   access.Input
		want bool
	}{
		{"sync_engineer", sync, access.Input{User: engineer}, true},
		{"sync_contractor", sync, access.Input{User: contractor}, false},
		{"sync_no_groups", sync, access.Input{User: partner}, false},
		{"external_partner", external, access.Input{User: partner}, true},
		{"external_suspended", external, access.Input{User: suspendedPartner}, false},
		{"external_unmanaged_corporate", external, access.Input{User: unmanaged}, true},
		{"external_employee", external, access.Input{User: engineer}, false},
		{"inactive_91_days", inactive, access.Input{User: idle}, true},
		{"inactive_never_active", inactive, access.Input{User: neverActive}, true},
		{"inactive_recent", inactive, access.Input{User: engineer}, false},
		{"auto_oncall_short", auto, access.Input{Requester: oncall, Request: req(30 * time.Minute)}, true},
		{"auto_oncall_long", auto, access.Input{Requester: oncall, Request: req(time.Hour)}, false},
		{"auto_chained_extension", auto, access.Input{Requester: oncall, Request: chained}, false},
		{"auto_not_oncall", auto, access.Input{Requester: engineer, Request: req(10 * time.Minute)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Now, tt.in.Domains = now, domains
			got, err := tt.cond.Eval(tt.in)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if got != tt.want {
				t.Errorf("%s = %v, want %v", tt.cond, got, tt.want)
			}
		})
	}
}

func TestCondition_EvalMissingVariable(t *testing.T) {
	c, err := Compile(`user.external`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Eval(access.Input{Now: time.Now()})
	if err == nil || !strings.Contains(err.Error(), "user.external") {
		t.Errorf("Eval without user = %v; want an error naming the expression", err)
	}
}

func TestCompile(t *testing.T) {
	tests := []struct {
		name, expr, wantErr string
	}{
		{"bool", `user.status == "active"`, ""},
		{"timestamps", `now - user.last_active > duration("720h") && user.added_to_org < now`, ""},
		{"request", `request.role == "x" && request.reason != "" && request.duration < duration("1h")`, ""},
		{"request_kind_total", `request.kind == "extend" && request.total <= duration("2h")`, ""},
		{"requester", `requester.email_domain == "example.com" && requester.managed && requester.account_id != "" && requester.name != ""`, ""},
		{"misspelled_field", `user.emial == "x"`, "undefined field 'emial'"},
		{"unknown_variable", `usr.external`, "undeclared reference"},
		{"not_bool", `user.inactive_days`, "not bool"},
		{"syntax", `user.external &&`, "Syntax error"},
		{"wrong_type", `user.inactive_days == "90"`, "no matching overload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Compile(tt.expr)
			if tt.wantErr == "" {
				if err != nil || c.String() != tt.expr {
					t.Errorf("Compile(%q) = %v, %v", tt.expr, c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Compile(%q) error = %v, want %q", tt.expr, err, tt.wantErr)
			}
		})
	}
}

func TestCondition_Reads(t *testing.T) {
	c, err := Compile(`request.reason.contains("oncall") && requester.email != "" && "x" in user.groups`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		v, f string
		want bool
	}{{"request", "reason", true}, {"requester", "email", true}, {"user", "groups", true}, {"requester", "name", false}, {"request", "total", false}} {
		if got := c.Reads(tt.v, tt.f); got != tt.want {
			t.Errorf("Reads(%s.%s) = %v, want %v", tt.v, tt.f, got, tt.want)
		}
	}
}
