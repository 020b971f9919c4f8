package main

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/jitbot/jitbot"

// importRule is docs/design.md's "who may import whom" for one package.
type importRule struct {
	pkg       string
	internal  []string // module packages it may depend on (besides itself)
	forbidden []string // import-path prefixes it must never depend on
}

var importRules = []importRule{
	{pkg: "access", forbidden: []string{"github.com/slack-go/", "go.etcd.io/bbolt", "github.com/robfig/cron", "net/http", "cel.dev/", "github.com/prometheus/", "go.yaml.in/"}},
	{pkg: "policies", internal: []string{"access"}, forbidden: []string{"github.com/slack-go/", "go.etcd.io/bbolt", "github.com/robfig/cron", "net/http"}},
	{pkg: "store", internal: []string{"access"}, forbidden: []string{"github.com/slack-go/", "github.com/robfig/cron", "net/http", "cel.dev/", "go.yaml.in/"}},
	{pkg: "store/etcdstore", internal: []string{"access", "store"}, forbidden: []string{"github.com/slack-go/", "github.com/robfig/cron", "cel.dev/", "go.yaml.in/"}},
	{pkg: "atlassian", internal: []string{"access"}, forbidden: []string{"github.com/slack-go/", "go.etcd.io/bbolt", "github.com/robfig/cron", "cel.dev/", "go.yaml.in/"}},
	{pkg: "bot", internal: []string{"access"}, forbidden: []string{"go.etcd.io/bbolt", "github.com/robfig/cron", "go.yaml.in/"}},
	{pkg: "access/accesstest", internal: []string{"access"}, forbidden: []string{"github.com/slack-go/", "go.etcd.io/bbolt", "net/http"}},
	{pkg: "atlassian/atlassiantest", internal: []string{"access", "atlassian"}, forbidden: []string{"github.com/slack-go/", "go.etcd.io/bbolt", "github.com/robfig/cron"}},
	{pkg: "bot/bottest", internal: []string{"access", "bot"}, forbidden: []string{"go.etcd.io/bbolt", "github.com/robfig/cron"}},
}

// violations returns every forbidden edge of rule r given pkg's dependency list.
func (r importRule) violations(deps []string) []string {
	var out []string
	self := module + "/" + r.pkg
	for _, d := range deps {
		if d == self {
			continue
		}
		if rest, ok := strings.CutPrefix(d, module+"/"); ok {
			allowed := false
			for _, in := range r.internal {
				if rest == in {
					allowed = true
				}
			}
			if !allowed {
				out = append(out, r.pkg+" depends on "+rest+", which docs/design.md does not allow")
			}
			continue
		}
		for _, f := range r.forbidden {
			if strings.HasPrefix(d, f) {
				out = append(out, r.pkg+" depends on "+d+" (forbidden: "+f+")")
			}
		}
	}
	return out
}

func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	return strings.Fields(string(out))
}

func TestImportRules(t *testing.T) {
	for _, r := range importRules {
		t.Run(strings.ReplaceAll(r.pkg, "/", "_"), func(t *testing.T) {
			for _, v := range r.violations(goListDeps(t, module+"/"+r.pkg)) {
				t.Error(v)
			}
		})
	}
}

// TestImportRules_detects shows the check fails on the edges it exists to stop.
func TestImportRules_detects(t *testing.T) {
	tests := []struct {
		name string
		rule string
		deps []string
	}{
		{"access_imports_bbolt", "access", []string{module + "/access", "go.etcd.io/bbolt"}},
		{"access_imports_slack", "access", []string{"github.com/slack-go/slack"}},
		{"access_imports_net_http", "access", []string{"net/http"}},
		{"bot_imports_store", "bot", []string{module + "/store"}},
		{"store_imports_atlassian", "store", []string{module + "/atlassian"}},
		{"policies_imports_cron", "policies", []string{"github.com/robfig/cron/v3"}},
		{"atlassian_imports_fake", "atlassian", []string{module + "/atlassian/atlassiantest"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range importRules {
				if r.pkg == tt.rule && len(r.violations(tt.deps)) == 0 {
					t.Fatalf("rule for %s accepted %v", r.pkg, tt.deps)
				}
			}
		})
	}
}

// TestImportRules_testPackagesOnlyInTestsAndDemo: production packages never depend on fakes.
func TestImportRules_testPackagesOnlyInTestsAndDemo(t *testing.T) {
	for _, pkg := range []string{"access", "policies", "store", "store/etcdstore", "atlassian", "bot"} {
		for _, d := range goListDeps(t, module+"/"+pkg) {
			if strings.HasSuffix(d, "test") && strings.HasPrefix(d, module) {
				t.Errorf("%s depends on %s; fakes are for tests and jitbot demo only", pkg, d)
			}
		}
	}
}
