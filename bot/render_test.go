package bot

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// golden compares v as indented JSON with testdata/<TestName>/<case>.golden.json.
func golden(t *testing.T, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", filepath.FromSlash(t.Name())+".golden.json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file; run go test ./bot -update and review the diff.\ngot:\n%s", path, got)
	}
}

// checkLimits fails when blocks break Slack's limits.
func checkLimits(t *testing.T, blocks []slack.Block, max int) {
	t.Helper()
	if len(blocks) > max {
		t.Errorf("%d blocks; the limit is %d", len(blocks), max)
	}
	ids := map[string]bool{}
	for _, b := range blocks {
		raw, _ := json.Marshal(b)
		var o struct {
			BlockID string `json:"block_id"`
			Text    *struct {
				Text string `json:"text"`
			} `json:"text"`
			Elements []struct {
				Value string `json:"value"`
			} `json:"elements"`
		}
		_ = json.Unmarshal(raw, &o)
		if o.BlockID != "" && ids[o.BlockID] {
			t.Errorf("duplicate block_id %s", o.BlockID)
		}
		ids[o.BlockID] = true
		if o.Text != nil && len([]rune(o.Text.Text)) > sectionTextLimit {
			t.Errorf("block %s text has %d characters", o.BlockID, len([]rune(o.Text.Text)))
		}
		for _, e := range o.Elements {
			if len(e.Value) > buttonValueLimit {
				t.Errorf("button value of %d characters", len(e.Value))
			}
		}
	}
}

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func fixtureRequest(status access.RequestStatus) *access.Request {
	r := &access.Request{
		ID: "K7M2QX9P", Kind: access.KindAccess, Role: "jira-admin", Requester: access.UserActor(alice),
		Account: access.Account{ID: "acc-alice", Email: "alice@example.com"}, Duration: 2 * time.Hour,
		Reason: "upgrade the SSO plugin", Status: status, CreatedAt: t0, PendingUntil: t0.Add(24 * time.Hour),
	}
	switch status {
	case access.RequestApproved:
		r.Approvals = []access.Decision{{By: access.UserActor(bob), At: t0.Add(5 * time.Minute)}}
		r.Decision = &access.Decision{By: access.UserActor(bob), At: t0.Add(5 * time.Minute)}
	case access.RequestDenied:
		r.Decision = &access.Decision{By: access.UserActor(bob), At: t0.Add(5 * time.Minute), Reason: "change freeze"}
	case access.RequestExpired:
		r.Decision = &access.Decision{By: access.SystemActor, At: t0.Add(24 * time.Hour)}
	}
	return r
}

func fixtureGrant() *access.Grant {
	return &access.Grant{
		ID: "K7M2QX9P", Role: "jira-admin", Holder: access.UserActor(alice),
		Account: access.Account{ID: "acc-alice", Email: "alice@example.com"},
		Items:   []access.GrantItem{{Target: access.GroupTarget("jira-admins")}},
		Status:  access.GrantActive, Duration: 2 * time.Hour, ApprovedBy: []access.Actor{access.UserActor(bob)},
		GrantedAt: t0.Add(6 * time.Minute), EndsAt: t0.Add(2*time.Hour + 6*time.Minute),
	}
}

func TestRenderRequest(t *testing.T) {
	role := &testPolicy().Roles[0]
	for _, st := range []access.RequestStatus{access.RequestPending, access.RequestApproved, access.RequestDenied, access.RequestExpired} {
		t.Run(string(st), func(t *testing.T) {
			m := requestMessage(fixtureRequest(st), role, true)
			checkLimits(t, m.Blocks, messageBlocks)
			golden(t, m)
		})
	}
	t.Run("long_reason", func(t *testing.T) {
		r := fixtureRequest(access.RequestPending)
		r.Reason = strings.Repeat("very long reason ", 400)
		m := requestMessage(r, role, true)
		checkLimits(t, m.Blocks, messageBlocks)
	})
}

func TestRenderGrant(t *testing.T) {
	for _, k := range []access.NoticeKind{access.NoticeGranted, access.NoticeExpiring, access.NoticeEnded} {
		t.Run(string(k), func(t *testing.T) {
			g := fixtureGrant()
			if k == access.NoticeEnded {
				g.Status, g.EndedAt = access.GrantRevoked, g.EndsAt.Add(3*time.Second)
			}
			m := grantMessage(g, k)
			checkLimits(t, m.Blocks, messageBlocks)
			golden(t, m)
		})
	}
}

func TestRenderList(t *testing.T) {
	t.Run("roles", func(t *testing.T) { golden(t, rolesMessage(rolesOf(testPolicy()))) })
	t.Run("mine", func(t *testing.T) {
		golden(t, listMessage([]*access.Request{fixtureRequest(access.RequestPending)}, []*access.Grant{fixtureGrant()}))
	})
	t.Run("active_many", func(t *testing.T) {
		var gs []*access.Grant
		for range 300 {
			gs = append(gs, fixtureGrant())
		}
		m := activeMessage(gs, "")
		checkLimits(t, m.Blocks, messageBlocks)
	})
	t.Run("history", func(t *testing.T) {
		golden(t, historyMessage([]access.AuditEvent{
			{Seq: 1, Time: t0, Action: access.ActionRequestSubmitted, Actor: access.UserActor(alice), Subject: "K7M2QX9P", Role: "jira-admin", Member: "alice@example.com", Detail: "for 2h: upgrade"},
			{Seq: 2, Time: t0.Add(time.Minute), Action: access.ActionRequestApproved, Actor: access.UserActor(bob), Subject: "K7M2QX9P", Role: "jira-admin"},
		}, "in the last 7 days"))
	})
	t.Run("run", func(t *testing.T) {
		golden(t, runMessage(&access.Run{Kind: access.RunSync, Name: "engineering-jira", DryRun: true, Outcome: "dry-run",
			Changes: []access.Change{{Op: access.OpAdd, Account: access.Account{Email: "dave@example.com"}, Group: "jira-users", Reason: "matches rule"}}}, frank))
	})
	t.Run("sweep_in_grace", func(t *testing.T) {
		golden(t, runMessage(&access.Run{Kind: access.RunSweep, Name: "external-users", DryRun: true, Outcome: "dry-run",
			InGrace: 3, GraceEnd: t0.Add(72 * time.Hour)}, frank))
	})
}

func TestRenderView(t *testing.T) {
	t.Run("request_modal", func(t *testing.T) { golden(t, requestModal(rolesOf(testPolicy()), "jira-admin")) })
	t.Run("extend_modal", func(t *testing.T) { golden(t, extendModal(fixtureGrant(), &testPolicy().Roles[0])) })
	t.Run("deny_modal", func(t *testing.T) { golden(t, denyModal(fixtureRequest(access.RequestPending), "D0BOB")) })
	t.Run("home", func(t *testing.T) {
		v := homeView([]*access.Request{fixtureRequest(access.RequestPending)}, []*access.Grant{fixtureGrant()}, []*access.Request{fixtureRequest(access.RequestPending)}, testPolicy(), rolesOf(testPolicy()))
		checkLimits(t, v.Blocks.BlockSet, viewBlocks)
		golden(t, v)
	})
	t.Run("home_full", func(t *testing.T) {
		var rs []*access.Request
		var gs []*access.Grant
		for range 200 {
			rs, gs = append(rs, fixtureRequest(access.RequestPending)), append(gs, fixtureGrant())
		}
		v := homeView(rs, gs, rs, testPolicy(), rolesOf(testPolicy()))
		if len(v.Blocks.BlockSet) > viewBlocks {
			t.Errorf("%d blocks; the limit is %d", len(v.Blocks.BlockSet), viewBlocks)
		}
	})
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text string
		want command
		err  string
	}{
		{"", command{Name: cmdOpen}, ""},
		{"request", command{Name: cmdOpen}, ""},
		{"request jira-admin 1h30m fix  SSO", command{Name: cmdRequest, Role: "jira-admin", Duration: 90 * time.Minute, Reason: "fix SSO"}, ""},
		{"request jira-admin 2d", command{Name: cmdRequest, Role: "jira-admin", Duration: 48 * time.Hour}, ""},
		{"extend k7m2qx9p 30m", command{Name: cmdExtend, ID: "K7M2QX9P", Duration: 30 * time.Minute}, ""},
		{"history <@U0ALICE|alice> 3", command{Name: cmdHistory, User: alice, Days: 3}, ""},
		{"history jira-admin", command{Name: cmdHistory, Role: "jira-admin", Days: 7}, ""},
		{"history 14d", command{Name: cmdHistory, Days: 14}, ""},
		{"history <@U0ALICE>", command{Name: cmdHistory, User: alice, Days: 7}, ""},
		{"history @alice", command{Name: cmdHistory, UserName: "alice", Days: 7}, ""},
		{"history @Ann Lee 3", command{Name: cmdHistory, UserName: "Ann Lee", Days: 3}, ""},
		{"history &lt;nope&gt;", command{}, "not a Slack user"},
		{"request jira-admin 1h fix &lt;b&gt; &amp; <@U0BOB|bob> <#C1|ops>", command{Name: cmdRequest, Role: "jira-admin", Duration: time.Hour, Reason: "fix <b> & @bob #ops"}, ""},
		{"sweep external dry-run", command{Name: cmdSweep, RunName: "external", DryRun: true}, ""},
		{"sync rule now", command{}, "not an option"},
		{"LIST", command{Name: cmdList}, ""},
		{"list extra", command{}, "takes no arguments"},
		{"revoke", command{}, "Say which one"},
		{"bogus", command{}, "no subcommand"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := parseCommand(tt.text)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || access.ErrorCode(err) != access.EINVALID {
					t.Errorf("err = %v; want EINVALID containing %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestDedupe(t *testing.T) {
	now := t0
	d := newDedupe(time.Minute, 3)
	d.now = func() time.Time { return now }
	if d.Seen("a") || !d.Seen("a") {
		t.Fatal("second sighting not reported")
	}
	for _, k := range []string{"b", "c", "d", "e"} {
		d.Seen(k)
	}
	if d.Len() > 4 {
		t.Errorf("len %d: not bounded", d.Len())
	}
	now = now.Add(2 * time.Minute)
	if d.Seen("e") {
		t.Error("expired key still seen")
	}
}

// rolesOf is every role of p, as offered to someone who may request them all.
func rolesOf(p *access.Policy) []*access.Role {
	out := make([]*access.Role, len(p.Roles))
	for i := range p.Roles {
		out[i] = &p.Roles[i]
	}
	return out
}
