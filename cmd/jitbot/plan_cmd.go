package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/atlassian"
	"github.com/jitbot/jitbot/policies"
)

// cmdPlan prints what sync rules, sweeps and the guard would change in the live org.
func cmdPlan(ctx context.Context, args, environ []string, stdout io.Writer) error {
	fs := newFlags("plan", stdout)
	rule := fs.String("rule", "", "only the sync rule or sweep with this name (or \"guard\")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	e := newEnv(environ)
	policyFile := e.str("JITBOT_POLICY_FILE", "policy.yaml")
	sc := e.storeConfig()
	cfg := atlassian.Config{
		BaseURL: e.url("JITBOT_ATLASSIAN_API_URL", "https://api.atlassian.com"), OrgID: e.str("JITBOT_ATLASSIAN_ORG_ID", ""),
		DirectoryID: e.str("JITBOT_ATLASSIAN_DIRECTORY_ID", "-"), APIKey: atlassian.Secret(e.secret("JITBOT_ATLASSIAN_API_KEY", true).Reveal()),
	}
	if cfg.OrgID == "" {
		e.problem("JITBOT_ATLASSIAN_ORG_ID", "is required")
	}
	if len(e.errs) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("bad configuration: %v", e.errs)}
	}
	p, err := policies.Load(policyFile)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("load policy (JITBOT_POLICY_FILE):\n%w", err)}
	}
	client, err := atlassian.New(cfg)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	// Live grants shape the desired state. The bot holds the database while it runs; then the
	// plan is made as if no grant were live, and says so.
	var st access.Store
	if db, err := openState(ctx, sc, nil, time.Second); err == nil {
		defer db.Close()
		st = db
	} else {
		fmt.Fprintf(stdout, "note: %v; planning as if no grant were live\n", err)
		st = accesstest.NewMemStore(nil)
	}
	eng := &access.Engine{Store: st, Org: client, Provisioner: client, Roles: client, Policy: func() *access.Policy { return p }}
	return printPlans(ctx, eng, p, *rule, stdout)
}

type planTarget struct {
	kind access.RunKind
	name string
}

func planTargets(p *access.Policy, only string) ([]planTarget, error) {
	var ts []planTarget
	for _, r := range p.Sync {
		ts = append(ts, planTarget{access.RunSync, r.Name})
	}
	for _, s := range p.Sweeps {
		ts = append(ts, planTarget{access.RunSweep, s.Name})
	}
	if p.Guard.Watches() {
		ts = append(ts, planTarget{access.RunGuard, access.GuardRunName})
	}
	if only == "" {
		return ts, nil
	}
	for _, t := range ts {
		if t.name == only {
			return []planTarget{t}, nil
		}
	}
	return nil, &exitError{code: 1, err: fmt.Errorf("the policy has no sync rule, sweep or guard named %q", only)}
}

func printPlans(ctx context.Context, eng *access.Engine, p *access.Policy, only string, w io.Writer) error {
	ts, err := planTargets(p, only)
	if err != nil {
		return err
	}
	for _, t := range ts {
		run, err := eng.Plan(ctx, t.kind, t.name)
		if err != nil {
			return &exitError{code: 1, err: fmt.Errorf("plan %s %s: %w", t.kind, t.name, err)}
		}
		fmt.Fprint(w, formatRun(run))
	}
	return nil
}

// formatRun prints a run's plan for people.
func formatRun(r *access.Run) string {
	title := string(r.Kind) + " " + r.Name
	if r.Kind == access.RunGuard {
		title = "protected-group guard"
	}
	s := fmt.Sprintf("%s: %s, %d change(s)\n", title, r.Outcome, len(r.Changes))
	if r.Error != "" {
		s += "  stopped: " + r.Error + "\n"
	}
	for _, c := range r.Changes {
		line := "  " + c.Describe()
		if c.Skipped != "" {
			line += " (skipped: " + c.Skipped + ")"
		}
		s += line + "\n"
	}
	if g := r.GraceNote(); g != "" {
		s += "  " + g + "\n"
	}
	return s
}
