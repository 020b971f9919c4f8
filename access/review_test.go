package access_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
)

const (
	reviewer1 = "U0SEC1"
	reviewer2 = "U0SEC2"
	outsider  = "U0DAVE"
)

// reviewFixture is the engine fixture with a review in the policy and a Service on top.
type reviewFixture struct {
	*fixture
	svc *access.Service
}

// newReviewFixture: site-admins holds alice, sec1 (a reviewer), bob (live grant) and
// breakglass (standing member); jira-users holds carol.
func newReviewFixture(t *testing.T, onNoResponse string) *reviewFixture {
	t.Helper()
	f := newFixture(t)
	f.pol.Reviews = []access.Review{{
		Name: "quarterly", Groups: []string{"site-admins", "jira-users"}, Reviewers: []string{reviewer1, reviewer2},
		Deadline: 7 * 24 * time.Hour, OnNoResponse: onNoResponse,
	}}
	f.user("alice", true, "site-admins")
	f.user("sec1", true, "site-admins")
	f.user("bob", true, "site-admins")
	f.user("breakglass", true, "site-admins")
	f.user("carol", true, "jira-users")
	f.user("dave", true)
	f.grant(t, "bob", "site-admins")
	pp := people{emails: map[string]string{reviewer1: "sec1@example.com", reviewer2: "sec2@example.com", outsider: "dave@example.com"}}
	svc := &access.Service{
		Store: accesstest.Twice(f.store), Identity: pp, Principals: pp, Notifier: f.notes, Engine: f.eng,
		Policy: func() *access.Policy { return f.pol }, Now: func() time.Time { return f.now },
	}
	return &reviewFixture{fixture: f, svc: svc}
}

func (f *reviewFixture) start(t *testing.T) map[string]*access.ReviewItem {
	t.Helper()
	items, err := f.svc.StartReview(context.Background(), "quarterly")
	if err != nil {
		t.Fatalf("StartReview: %v", err)
	}
	byMember := map[string]*access.ReviewItem{}
	for _, it := range items {
		byMember[it.Account.ID+"@"+it.Group] = it
	}
	return byMember
}

func (f *reviewFixture) item(t *testing.T, id string) *access.ReviewItem {
	t.Helper()
	it, err := f.svc.ReviewItem(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// completeSummaries are the audit channel's lines saying a review is complete.
func (f *reviewFixture) completeSummaries() []string {
	var out []string
	for _, s := range f.notes.Texts(access.NoticeAudit) {
		if strings.Contains(s, "complete") {
			out = append(out, s)
		}
	}
	return out
}

func TestService_StartReview(t *testing.T) {
	f := newReviewFixture(t, "")
	items := f.start(t)
	var got []string
	for k, it := range items {
		got = append(got, k)
		if it.Status != access.ReviewPending || !it.Deadline.Equal(engineT0.Add(7*24*time.Hour)) || it.OnNoResponse != access.ReviewOnNoResponseKeep {
			t.Errorf("item %s: status %s, deadline %s, on_no_response %q", k, it.Status, it.Deadline, it.OnNoResponse)
		}
	}
	slices.Sort(got)
	// bob (live grant) and breakglass (standing member) are left out.
	if want := []string{"alice@site-admins", "carol@jira-users", "sec1@site-admins"}; !slices.Equal(got, want) {
		t.Fatalf("items = %q, want %q", got, want)
	}
	if n := len(f.audit(t, access.ActionReviewStarted)); n != 3 {
		t.Errorf("%d review.started events, want 3", n)
	}
	var sent *access.Notice
	if rs := f.notes.Of(access.NoticeReview); len(rs) > 0 {
		sent = &rs[len(rs)-1]
	}
	if sent == nil || len(sent.Items) != 3 || !slices.Equal(sent.Reviewers, []string{reviewer1, reviewer2}) || !strings.Contains(sent.Text, "2 left out") {
		t.Fatalf("review notice = %+v", sent)
	}

	// Starting again while items are open creates no duplicates.
	if again := f.start(t); len(again) != 0 {
		t.Errorf("second start created %d items", len(again))
	}
}

func TestService_Review(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *reviewFixture)
		by         string
		member     string // item key
		keep       bool
		wantCode   access.Code
		wantStatus access.ReviewStatus
		wantNote   string
		stillIn    bool
	}{
		{name: "keep", by: reviewer1, member: "alice@site-admins", keep: true, wantStatus: access.ReviewKept, stillIn: true},
		{name: "remove", by: reviewer2, member: "alice@site-admins", wantStatus: access.ReviewRemoved},
		{name: "remove_other_group", by: reviewer1, member: "carol@jira-users", wantStatus: access.ReviewRemoved},
		{
			name:  "remove_refused_by_min_members",
			setup: func(f *reviewFixture) { f.pol.Guard.MinMembers = map[string]int{"site-admins": 4} },
			by:    reviewer1, member: "alice@site-admins",
			wantStatus: access.ReviewRefused, wantNote: "below min_members (4)", stillIn: true,
		},
		{
			name: "remove_refused_while_a_sync_rule_wants_it",
			setup: func(f *reviewFixture) {
				f.org.SetMember("scim-engineering", "carol", true)
			},
			by: reviewer1, member: "carol@jira-users",
			wantStatus: access.ReviewRefused, wantNote: "sync rule engineering-jira", stillIn: true,
		},
		{name: "non_reviewer_refused", by: outsider, member: "alice@site-admins", wantCode: access.EFORBIDDEN, wantStatus: access.ReviewPending, stillIn: true},
		{name: "non_reviewer_remove_refused", by: outsider, member: "alice@site-admins", keep: false, wantCode: access.EFORBIDDEN, wantStatus: access.ReviewPending, stillIn: true},
		{name: "self_certification_refused", by: reviewer1, member: "sec1@site-admins", keep: true, wantCode: access.EFORBIDDEN, wantStatus: access.ReviewPending, stillIn: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newReviewFixture(t, "")
			it := f.start(t)[tt.member]
			if tt.setup != nil {
				tt.setup(f)
			}
			before := f.store.AuditLen()
			got, err := f.svc.Review(context.Background(), access.UserActor(tt.by), it.ID, tt.keep)
			if code := access.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("Review: code %q (%v), want %q", code, err, tt.wantCode)
			}
			cur := f.item(t, it.ID)
			if cur.Status != tt.wantStatus || !strings.Contains(cur.Note, tt.wantNote) {
				t.Errorf("item: status %s note %q, want %s %q", cur.Status, cur.Note, tt.wantStatus, tt.wantNote)
			}
			if err == nil && (got.Status != cur.Status || cur.Decision == nil || cur.Decision.By.SlackID != tt.by) {
				t.Errorf("returned %+v, stored decision %+v", got, cur.Decision)
			}
			if err != nil && f.store.AuditLen() != before {
				t.Errorf("a refused decision wrote %d audit events", f.store.AuditLen()-before)
			}
			if in := f.org.Member(it.Group, it.Account.ID); in != tt.stillIn {
				t.Errorf("member of %s = %v, want %v", it.Group, in, tt.stillIn)
			}
		})
	}
}

func TestService_Review_twice(t *testing.T) {
	f := newReviewFixture(t, "")
	it := f.start(t)["alice@site-admins"]
	if _, err := f.svc.Review(context.Background(), access.UserActor(reviewer1), it.ID, true); err != nil {
		t.Fatal(err)
	}
	before := f.store.AuditLen()
	_, err := f.svc.Review(context.Background(), access.UserActor(reviewer2), it.ID, false)
	if access.ErrorCode(err) != access.ECONFLICT || !strings.Contains(access.ErrorMessage(err), reviewer1) {
		t.Fatalf("second decision: %v; want ECONFLICT naming %s", err, reviewer1)
	}
	if f.store.AuditLen() != before || !f.org.Member("site-admins", "alice") || f.item(t, it.ID).Status != access.ReviewKept {
		t.Error("the second decision changed something")
	}
	if n := len(f.audit(t, access.ActionReviewKept)); n != 1 {
		t.Errorf("%d review.kept events, want 1", n)
	}
}

func TestService_ExpireReviews(t *testing.T) {
	tests := []struct {
		name       string
		onNo       string
		minMembers int
		want       access.ReviewStatus
		stillIn    bool
	}{
		{name: "keep", onNo: "keep", want: access.ReviewKept, stillIn: true},
		{name: "default_keep", onNo: "", want: access.ReviewKept, stillIn: true},
		{name: "remove", onNo: "remove", want: access.ReviewRemoved},
		{name: "remove_refused_by_min_members", onNo: "remove", minMembers: 4, want: access.ReviewRefused, stillIn: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newReviewFixture(t, tt.onNo)
			items := f.start(t)
			alice := items["alice@site-admins"]
			// Two of three are decided in time; alice's is not.
			for _, k := range []string{"carol@jira-users", "sec1@site-admins"} {
				if _, err := f.svc.Review(context.Background(), access.UserActor(reviewer2), items[k].ID, true); err != nil {
					t.Fatal(err)
				}
			}
			if tt.minMembers > 0 {
				f.pol.Guard.MinMembers = map[string]int{"site-admins": tt.minMembers}
			}
			f.now = alice.Deadline.Add(-time.Second)
			if n, err := f.svc.ExpireReviews(context.Background()); n != 0 || err != nil {
				t.Fatalf("before the deadline: %d, %v", n, err)
			}
			f.now = alice.Deadline
			st, err := f.svc.Sweep(context.Background())
			if err != nil || st.Reviews != 1 {
				t.Fatalf("Sweep: %+v, %v", st, err)
			}
			cur := f.item(t, alice.ID)
			if cur.Status != tt.want || cur.Decision == nil || cur.Decision.By.Kind != access.ActorPolicy {
				t.Errorf("item: status %s decision %+v, want %s by the policy", cur.Status, cur.Decision, tt.want)
			}
			if in := f.org.Member("site-admins", "alice"); in != tt.stillIn {
				t.Errorf("alice in site-admins = %v, want %v", in, tt.stillIn)
			}
			if n := len(f.audit(t, access.ActionReviewExpired)); n != 1 {
				t.Errorf("%d review.expired events, want 1", n)
			}
			complete := f.completeSummaries()
			if len(complete) != 1 || !strings.Contains(complete[0], "3 memberships") {
				t.Errorf("completion summaries = %q", complete)
			}
			if n, _ := f.svc.ExpireReviews(context.Background()); n != 0 {
				t.Errorf("a second pass handled %d items", n)
			}
		})
	}
}

// countingStore counts the review items transactions read.
type countingStore struct {
	access.Store
	items atomic.Int64
}

type countingTx struct {
	access.Tx
	n *atomic.Int64
}

func (s *countingStore) View(ctx context.Context, fn func(access.Tx) error) error {
	return s.Store.View(ctx, func(tx access.Tx) error { return fn(countingTx{tx, &s.items}) })
}

func (s *countingStore) Update(ctx context.Context, fn func(access.Tx) error) error {
	return s.Store.Update(ctx, func(tx access.Tx) error { return fn(countingTx{tx, &s.items}) })
}

func (t countingTx) ReviewItem(id string) (*access.ReviewItem, error) {
	t.n.Add(1)
	return t.Tx.ReviewItem(id)
}

func (t countingTx) ReviewItems(f access.ReviewFilter) ([]*access.ReviewItem, error) {
	its, err := t.Tx.ReviewItems(f)
	t.n.Add(int64(len(its)))
	return its, err
}

func (t countingTx) DueReviewItems(now time.Time, limit int) ([]*access.ReviewItem, error) {
	its, err := t.Tx.DueReviewItems(now, limit)
	t.n.Add(int64(len(its)))
	return its, err
}

func TestService_ExpireReviews_costsODue(t *testing.T) {
	f := newReviewFixture(t, "keep")
	cs := &countingStore{Store: f.store}
	f.svc.Store = cs
	var later []*access.ReviewItem
	for i := range 500 {
		later = append(later, &access.ReviewItem{ID: "LATER" + strings.Repeat("0", 4-len(itoa(i))) + itoa(i), Review: "quarterly", Run: "old-run",
			Group: "site-admins", Account: access.Account{ID: "x" + itoa(i)}, Status: access.ReviewPending, OnNoResponse: "keep",
			CreatedAt: engineT0, Deadline: engineT0.Add(30 * 24 * time.Hour)})
	}
	if err := f.store.Update(context.Background(), func(tx access.Tx) error {
		for _, it := range later {
			if err := tx.PutReviewItem(it); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.start(t) // three items due in 7 days
	f.org.ResetCalls()

	cs.items.Store(0)
	f.now = engineT0.Add(24 * time.Hour)
	if n, err := f.svc.ExpireReviews(context.Background()); n != 0 || err != nil || cs.items.Load() != 0 {
		t.Fatalf("nothing due: %d handled, %v, %d items read", n, err, cs.items.Load())
	}
	f.now = engineT0.Add(7 * 24 * time.Hour)
	n, err := f.svc.ExpireReviews(context.Background())
	if n != 3 || err != nil {
		t.Fatalf("ExpireReviews = %d, %v; want 3", n, err)
	}
	// Each due item: found, re-read, its run's open and (at the end) all items checked.
	if got := cs.items.Load(); got > 3*6 {
		t.Errorf("read %d review items for 3 due among 503", got)
	}
	if f.org.Reads() != 0 {
		t.Errorf("keeping by policy read Atlassian %d times", f.org.Reads())
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// TestService_ExpireReviews_oneRunThroughTheGuard: a deadline's removals are one run, bounded
// together by max_changes; a run over it removes nothing and is alerted.
func TestService_ExpireReviews_oneRunThroughTheGuard(t *testing.T) {
	for _, tt := range []struct {
		name       string
		maxChanges int
		removed    bool
	}{
		{"over_max_changes", 1, false},
		{"within_max_changes", 13, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newReviewFixture(t, "remove")
			for i := range 10 {
				f.user("admin"+itoa(i), true, "site-admins")
			}
			items := f.start(t) // 12 in site-admins (alice, sec1, admin0-9) and carol in jira-users
			if len(items) != 13 {
				t.Fatalf("%d items, want 13", len(items))
			}
			f.pol.Guard.MaxChanges = tt.maxChanges
			var deadline time.Time
			for _, it := range items {
				deadline = it.Deadline
			}
			f.now = deadline
			if n, err := f.svc.ExpireReviews(context.Background()); n != 13 || err != nil {
				t.Fatalf("ExpireReviews = %d, %v", n, err)
			}
			for k, it := range items {
				member, _, _ := strings.Cut(k, "@")
				if in := f.org.Member(it.Group, member); in == tt.removed {
					t.Errorf("%s in %s = %v after the deadline", member, it.Group, in)
				}
				want := access.ReviewRemoved
				if !tt.removed {
					want = access.ReviewRefused
				}
				if cur := f.item(t, it.ID); cur.Status != want {
					t.Errorf("item %s is %s, want %s", k, cur.Status, want)
				}
			}
			alerts := f.notes.Texts(access.NoticeAlert)
			if stopped := len(alerts) == 1 && strings.Contains(alerts[0], "13 removals") && strings.Contains(alerts[0], "max_changes"); stopped == tt.removed {
				t.Errorf("alerts = %q", alerts)
			}
		})
	}
}

// TestService_Review_decidedToOutsider: someone who may not review a decided item is refused
// as such, and not told how it was decided.
func TestService_Review_decidedToOutsider(t *testing.T) {
	f := newReviewFixture(t, "keep")
	items := f.start(t)
	id := items["alice@site-admins"].ID
	if _, err := f.svc.Review(context.Background(), access.UserActor(reviewer1), id, true); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Review(context.Background(), access.UserActor(outsider), id, false)
	if access.ErrorCode(err) != access.EFORBIDDEN || strings.Contains(access.ErrorMessage(err), reviewer1) {
		t.Errorf("outsider on a decided item: %v; want a plain refusal", err)
	}
	if _, err := f.svc.Review(context.Background(), access.UserActor(reviewer2), id, false); access.ErrorCode(err) != access.ECONFLICT {
		t.Errorf("second reviewer on a decided item: %v; want a conflict", err)
	}
}

// TestService_StartReview_manyMembers: a review of 80 members starts on a store that takes at
// most 60 writes in one transaction (etcd bounds a transaction): the items are stored in
// batches, all of them, before anyone is told.
func TestService_StartReview_manyMembers(t *testing.T) {
	f := newReviewFixture(t, "")
	for i := range 80 {
		f.user(fmt.Sprintf("member%02d", i), true, "jira-users")
	}
	f.svc.Store = accesstest.Bounded(accesstest.Twice(f.store), 60)
	items := f.start(t)
	if len(items) != 83 { // 80 + alice, sec1 in site-admins and carol in jira-users
		t.Fatalf("%d items, want 83", len(items))
	}
	stored, err := f.svc.ReviewItems(context.Background(), access.ReviewFilter{Review: "quarterly"})
	if err != nil || len(stored) != len(items) {
		t.Fatalf("%d items stored (%v), want %d", len(stored), err, len(items))
	}
}

// TestService_Review_retentionShorterThanDeadline: with the shortest history retention (24 h)
// and a review deadline of 7 days, the items decided on its first day are not pruned before
// the deadline, so the review's summary counts every membership; they go a retention after it.
func TestService_Review_retentionShorterThanDeadline(t *testing.T) {
	f := newReviewFixture(t, "keep")
	items := f.start(t)
	alice := items["alice@site-admins"]
	for _, k := range []string{"carol@jira-users", "sec1@site-admins"} {
		if _, err := f.svc.Review(context.Background(), access.UserActor(reviewer2), items[k].ID, true); err != nil {
			t.Fatal(err)
		}
	}
	const retention = 24 * time.Hour
	prune := func() access.HistoryPruned {
		t.Helper()
		p, err := access.PruneHistory(context.Background(), f.store, f.now, retention)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.now = alice.Deadline.Add(-time.Hour)
	if p := prune(); p.ReviewItems != 0 {
		t.Fatalf("%d review items pruned 6 days after they were decided, before their review's deadline", p.ReviewItems)
	}
	f.now = alice.Deadline
	if _, err := f.svc.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	complete := f.completeSummaries()
	if len(complete) != 1 || !strings.Contains(complete[0], "3 memberships certified: 3 kept") {
		t.Fatalf("completion summaries = %q, want one counting the 3 memberships", complete)
	}
	f.now = alice.Deadline.Add(retention - time.Minute)
	if p := prune(); p.ReviewItems != 0 {
		t.Fatalf("%d review items pruned within the retention after the deadline", p.ReviewItems)
	}
	f.now = alice.Deadline.Add(retention + time.Minute)
	if p := prune(); p.ReviewItems != 3 {
		t.Fatalf("%d review items pruned a retention after the deadline, want 3", p.ReviewItems)
	}
}
