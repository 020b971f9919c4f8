package bot

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

// everyone is a sync rule condition that holds for every user.
type everyone struct{}

func (everyone) Eval(access.Input) (bool, error) { return true, nil }
func (everyone) String() string                  { return "true" }

// heldOrg holds the first org read of a run until release is closed.
type heldOrg struct {
	access.Org
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (o *heldOrg) hold() {
	o.once.Do(func() {
		close(o.entered)
		<-o.release
	})
}

func (o *heldOrg) Groups(ctx context.Context, names []string) ([]access.Group, error) {
	o.hold()
	return o.Org.Groups(ctx, names)
}

func (o *heldOrg) Users(ctx context.Context, q access.UserQuery, fn func(*access.User) error) error {
	o.hold()
	return o.Org.Users(ctx, q, fn)
}

// TestBot_SyncAlreadyRunning: `/access sync X` while X is running answers "already running
// since …" and does not start a second run.
func TestBot_SyncAlreadyRunning(t *testing.T) {
	h := newHarness(t)
	h.pol.Sync = []access.SyncRule{{Name: "engineering-jira", Match: everyone{}, AddTo: []string{"jira-admins"}}}
	org := &heldOrg{Org: h.org, entered: make(chan struct{}), release: make(chan struct{})}
	h.svc.Engine = &access.Engine{Store: h.store, Org: org, Provisioner: h.org, Policy: func() *access.Policy { return h.pol }}

	ctx, cancel := h.wait()
	defer cancel()
	if _, err := h.fake.SlashCommand(ctx, frank, "/access", "sync engineering-jira"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-org.entered:
	case <-ctx.Done():
		t.Fatal("the first sync never reached the org")
	}
	_, m := h.slash(frank, "sync engineering-jira")
	if !strings.Contains(m.PlainText(), "already running since") {
		t.Errorf("second /access sync answered %q, want 'already running since …'", m.PlainText())
	}
	close(org.release)
	first := h.next("the first run's answer", bottest.And(bottest.EphemeralTo(frank), bottest.Containing("engineering-jira")))
	if strings.Contains(first.PlainText(), "already running") {
		t.Errorf("the first run was refused too: %q", first.PlainText())
	}
	var runs []*access.Run
	if err := h.store.View(h.ctx, func(tx access.Tx) (err error) { runs, err = tx.Runs("engineering-jira", 0); return err }); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Errorf("%d runs stored, want 1", len(runs))
	}
}
