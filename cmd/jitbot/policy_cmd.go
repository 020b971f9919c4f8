package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jitbot/jitbot/atlassian"
	"github.com/jitbot/jitbot/bot"
	"github.com/jitbot/jitbot/policies"
)

func cmdPolicy(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("%w: write `jitbot policy check [--online] FILE`", errUsage)
	}
	online := false
	var files []string
	for _, a := range args[1:] {
		switch a {
		case "--online", "-online":
			online = true
		default:
			files = append(files, a)
		}
	}
	if len(files) != 1 {
		return fmt.Errorf("%w: write `jitbot policy check [--online] FILE`", errUsage)
	}
	file := files[0]
	p, refs, warnings, err := policies.LoadRefs(file)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &exitError{code: 1, err: fmt.Errorf("%s: invalid policy", file)}
	}
	for _, w := range warnings {
		w.Message = "warning: " + w.Message
		fmt.Fprintln(stderr, w)
	}
	if online {
		problems, err := checkOnline(ctx, environ, refs)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		if len(problems) > 0 {
			fmt.Fprintln(stderr, formatProblems(problems))
			return &exitError{code: 1, err: fmt.Errorf("%s: %d problem(s) against the live organization and workspace", file, len(problems))}
		}
	}
	what := ""
	if online {
		what = ", groups, resources and principals checked online"
	}
	fmt.Fprintf(stdout, "%s: ok (%d roles, %d sync rules, %d sweeps, %d reviews%s)\n", file, len(p.Roles), len(p.Sync), len(p.Sweeps), len(p.Reviews), what)
	return nil
}

// checkOnline checks refs against the org and workspace the environment names (CONTRACT
// section 2: the Atlassian settings and the Slack bot token and API URL).
func checkOnline(ctx context.Context, environ []string, refs []policies.Ref) ([]policies.Problem, error) {
	e := newEnv(environ)
	cfg := atlassian.Config{
		BaseURL: e.url("JITBOT_ATLASSIAN_API_URL", "https://api.atlassian.com"), OrgID: e.str("JITBOT_ATLASSIAN_ORG_ID", ""),
		DirectoryID: e.str("JITBOT_ATLASSIAN_DIRECTORY_ID", "-"), APIKey: atlassian.Secret(e.secret("JITBOT_ATLASSIAN_API_KEY", true).Reveal()),
	}
	if cfg.OrgID == "" {
		e.problem("JITBOT_ATLASSIAN_ORG_ID", "is required: the organization ID from admin.atlassian.com")
	}
	token := e.secret("JITBOT_SLACK_BOT_TOKEN", true).Reveal()
	slackURL := e.url("JITBOT_SLACK_API_URL", "https://slack.com/api/")
	if len(e.errs) > 0 {
		return nil, fmt.Errorf("bad configuration for --online:\n%w", errors.Join(e.errs...))
	}
	org, err := atlassian.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := org.Verify(ctx); err != nil {
		return nil, fmt.Errorf("check the Atlassian key: %w", err)
	}
	problems, err := checkTargets(ctx, org, refs)
	if err != nil {
		return nil, err
	}
	more, err := checkPrincipals(ctx, bot.NewPrincipalChecker(token, slackURL), refs)
	if err != nil {
		return nil, err
	}
	problems = append(problems, more...)
	sortProblems(problems)
	return problems, nil
}
