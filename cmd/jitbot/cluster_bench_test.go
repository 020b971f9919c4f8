package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// BenchmarkFailover measures failover on three `jitbot run` replicas: 20 times, a grant is
// made to end just as the leader is SIGKILLed (a replacement starts, as a Deployment would);
// the figure is the time from the kill to that grant's revocation by the new leader
// (JITBOT_LEADER_TTL 2s, JITBOT_SWEEP_INTERVAL 1s). Run it with -benchtime 1x.
func BenchmarkFailover(b *testing.B) {
	const kills = 20
	c := newCluster(b, kills)
	for slot := range 3 {
		c.start(slot)
	}
	role := &access.Role{Name: "jira-software", Grants: []access.Target{access.GroupTarget(jiraGroup)}, MaxDuration: time.Hour, Approvers: []string{"U0LEAD"}, Approvals: 1, PendingTimeout: time.Hour}
	var samples []time.Duration
	for range b.N {
		for k := range kills {
			c.waitFor(30*time.Second, "one leader", func() bool { return len(c.leaders()) == 1 })
			leader := c.leaders()[0]
			email := fmt.Sprintf("user%03d@example.com", k)
			id := fmt.Sprintf("FAILOVER%02d", k)
			ends := c.activeGrant(role, id, email, 300*time.Millisecond)
			time.Sleep(time.Until(ends)) // the grant is due now
			killed := time.Now()
			if err := leader.cmd.Process.Kill(); err != nil {
				b.Fatal(err)
			}
			<-leader.done
			c.start(leader.slot)
			c.waitFor(30*time.Second, "the grant revoked after the kill", func() bool {
				g, err := c.grant(id)
				return err == nil && g.Status == access.GrantRevoked
			})
			for _, e := range c.audit() {
				if e.Subject == id && e.Action == access.ActionGrantRevoked {
					if e.Time.Before(killed) {
						b.Logf("kill %d: the old leader revoked the grant just before it died; sample left out", k)
						break
					}
					samples = append(samples, e.Time.Sub(killed))
				}
			}
		}
	}
	slices.Sort(samples)
	if len(samples) == 0 {
		b.Fatal("no samples")
	}
	b.ReportMetric(samples[len(samples)/2].Seconds(), "p50_failover_s")
	b.ReportMetric(samples[len(samples)-1].Seconds(), "max_failover_s")
	b.ReportMetric(float64(len(samples)), "kills")
	b.Logf("failover (kill -> revocation by the new leader) over %d kills: %v", len(samples), samples)
}

// activeGrant stores an active grant of the jira group for email, ending in d, and adds the
// membership in the fake org, as a provisioned grant would have.
func (c *cluster) activeGrant(role *access.Role, id, email string, d time.Duration) time.Time {
	c.t.Helper()
	acc := access.Account{ID: c.accounts[email], Email: email}
	c.org.AddMember(jiraGroup, acc.ID)
	var ends time.Time
	err := c.db.Update(context.Background(), func(tx access.Tx) error {
		now := time.Now()
		r, _, err := access.NewRequest(id, role, access.UserActor("U000"), acc, d, "failover", now)
		if err != nil {
			return err
		}
		if _, err := r.ApproveByPolicy(now, "failover benchmark"); err != nil {
			return err
		}
		g, _, err := access.NewGrant(r, role, now, time.Minute)
		if err != nil {
			return err
		}
		for i := range g.Items {
			g.RecordPrior(i, false, "", now)
			g.Items[i].Added = true
		}
		ev, err := g.Activate(now)
		if err != nil {
			return err
		}
		ends = g.EndsAt
		if err := tx.PutRequest(r); err != nil {
			return err
		}
		if err := tx.PutGrant(g); err != nil {
			return err
		}
		return tx.AppendAudit(&ev)
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return ends
}

func (c *cluster) grant(id string) (*access.Grant, error) {
	var g *access.Grant
	err := c.db.View(context.Background(), func(tx access.Tx) error {
		var err error
		g, err = tx.Grant(id)
		return err
	})
	return g, err
}
