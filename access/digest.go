package access

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Digest posts the daily summary to the digest channel: live grants, break-glass use, failures
// and runs of the last day. It returns the text posted.
func (s *Service) Digest(ctx context.Context) (string, error) {
	p, err := s.policy()
	if err != nil {
		return "", err
	}
	now := s.now()
	since := now.Add(-24 * time.Hour)
	var live []*Grant
	var events []AuditEvent
	if err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		if live, err = tx.LiveGrants(GrantFilter{}); err != nil {
			return err
		}
		events, err = tx.AuditEvents(AuditFilter{Since: since})
		return err
	}); err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	text := DigestText(live, events, now)
	ch := p.Digest.Channel
	if ch == "" {
		ch = p.Channels.Audit
	}
	if err := s.tellNew(ctx, Notice{Kind: NoticeAudit, Channel: ch, Text: text}); err != nil {
		return text, fmt.Errorf("digest: %w", err)
	}
	return text, nil
}

// DigestText renders the digest from live grants and the last day's events.
func DigestText(live []*Grant, events []AuditEvent, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "jitbot digest for the 24h to %s\n", now.UTC().Format("2006-01-02 15:04 MST"))
	sort.Slice(live, func(i, j int) bool { return live[i].EndsAt.Before(live[j].EndsAt) })
	fmt.Fprintf(&b, "Live grants: %d\n", len(live))
	for _, g := range live {
		tag := ""
		if g.BreakGlass {
			tag = " [break-glass]"
		}
		until := "not started"
		if !g.EndsAt.IsZero() {
			until = "until " + g.EndsAt.UTC().Format("15:04 MST Jan 2")
		}
		fmt.Fprintf(&b, "• %s %s for %s (%s), %s%s\n", g.ID, g.Role, g.Account.Email, g.Status, until, tag)
	}
	count := map[Action]int{}
	var breakGlass, failures, runs []string
	for _, e := range events {
		count[e.Action]++
		if e.Action == ActionRun && !slices.Contains(e.Tags, TagDryRun) {
			runs = append(runs, e.Detail)
		}
		for _, t := range e.Tags {
			if t == TagBreakGlass && e.Action == ActionRequestApproved {
				breakGlass = append(breakGlass, fmt.Sprintf("%s %s by %s: %s", e.Subject, e.Role, e.Member, e.Detail))
			}
		}
		if e.Action == ActionGrantFailed || e.Action == ActionGrantOverdue {
			failures = append(failures, fmt.Sprintf("%s %s: %s", e.Subject, e.Action, e.Detail))
		}
	}
	fmt.Fprintf(&b, "Requests: %d submitted, %d approved, %d denied, %d expired. Grants: %d given, %d revoked. Runs: %d.\n",
		count[ActionRequestSubmitted], count[ActionRequestApproved], count[ActionRequestDenied], count[ActionRequestExpired],
		count[ActionGrantActive], count[ActionGrantRevoked], count[ActionRun])
	if len(runs) > 0 {
		fmt.Fprintf(&b, "Sync, sweep and guard runs (%d):\n", len(runs))
		for _, l := range runs {
			b.WriteString("• " + l + "\n")
		}
	}
	if len(breakGlass) > 0 {
		fmt.Fprintf(&b, "Break-glass use (%d):\n", len(breakGlass))
		for _, l := range breakGlass {
			b.WriteString("• " + l + "\n")
		}
	}
	if len(failures) > 0 {
		fmt.Fprintf(&b, "Failures needing a look (%d):\n", len(failures))
		for _, l := range failures {
			b.WriteString("• " + l + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
