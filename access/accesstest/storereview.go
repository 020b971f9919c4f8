package accesstest

import (
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// contractReviewItem returns a pending item of run for slackID in group, created at at.
func contractReviewItem(id, run, group, slackID string, at time.Time) *access.ReviewItem {
	return &access.ReviewItem{
		ID: id, Review: "quarterly", Run: run, Group: group, Account: contractAccount(slackID),
		Status: access.ReviewPending, OnNoResponse: access.ReviewOnNoResponseKeep, CreatedAt: at, Deadline: at.Add(24 * time.Hour),
	}
}

func reviewIDs(its []*access.ReviewItem) []string {
	var ids []string
	for _, it := range its {
		ids = append(ids, it.ID)
	}
	return ids
}

func contractReviewItems(t *testing.T, s access.Store) {
	a := contractReviewItem("RA", "run1", "site-admins", "UALICE", contractT0)
	b := contractReviewItem("RB", "run1", "jira-admins", "UBOB", contractT0)
	c := contractReviewItem("RC", "run2", "site-admins", "UCAROL", contractT0.Add(time.Hour))
	c.Review = "monthly"
	a.SelfReviewers = []string{"UALICE"} // read back as stored: who is not sent the item
	contractPut(t, s, c, b, a, a)        // putting twice leaves one index entry

	var got *access.ReviewItem
	contractView(t, s, func(tx access.Tx) (err error) { got, err = tx.ReviewItem("RA"); return err })
	contractSame(t, "ReviewItem(RA)", got, a)
	contractView(t, s, func(tx access.Tx) error {
		_, err := tx.ReviewItem("NOPE")
		contractCode(t, "ReviewItem(NOPE)", err, access.ENOTFOUND)
		return nil
	})

	list := func(f access.ReviewFilter) []string {
		t.Helper()
		var its []*access.ReviewItem
		contractView(t, s, func(tx access.Tx) (err error) { its, err = tx.ReviewItems(f); return err })
		return reviewIDs(its)
	}
	due := func(now time.Time, limit int) []string {
		t.Helper()
		var its []*access.ReviewItem
		contractView(t, s, func(tx access.Tx) (err error) { its, err = tx.DueReviewItems(now, limit); return err })
		for _, it := range its {
			if it.Due().IsZero() || it.Due().After(now) {
				t.Errorf("DueReviewItems(%s) returned %s due %s", now, it.ID, it.Due())
			}
		}
		return reviewIDs(its)
	}
	contractIDs(t, "all, oldest first, ties by ID", list(access.ReviewFilter{}), []string{"RA", "RB", "RC"})
	contractIDs(t, "by run", list(access.ReviewFilter{Run: "run1"}), []string{"RA", "RB"})
	contractIDs(t, "by run prefix is not a match", list(access.ReviewFilter{Run: "run"}), nil)
	contractIDs(t, "by review", list(access.ReviewFilter{Review: "monthly"}), []string{"RC"})

	contractIDs(t, "nothing due before the deadline", due(contractT0.Add(23*time.Hour), 0), nil)
	contractIDs(t, "due at the deadline", due(contractT0.Add(24*time.Hour), 0), []string{"RA", "RB"})
	contractIDs(t, "due, earliest first", due(contractT0.Add(48*time.Hour), 0), []string{"RA", "RB", "RC"})
	contractIDs(t, "due, limit", due(contractT0.Add(48*time.Hour), 1), []string{"RA"})

	// Removing: due at the lease's end, not the deadline; decided: never due.
	now := contractT0.Add(time.Hour)
	if _, err := a.BeginRemove(access.UserActor("USEC"), now, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Keep(access.UserActor("USEC"), now); err != nil {
		t.Fatal(err)
	}
	contractPut(t, s, a, b)
	contractIDs(t, "removing, leased", due(now.Add(4*time.Minute), 0), nil)
	contractIDs(t, "removing, lease over", due(now.Add(5*time.Minute), 0), []string{"RA"})
	contractIDs(t, "old deadline leaves no stale entry", due(contractT0.Add(24*time.Hour), 0), []string{"RA"})
	contractIDs(t, "pending filter", list(access.ReviewFilter{Status: []access.ReviewStatus{access.ReviewPending}}), []string{"RC"})
	contractIDs(t, "open items of run1",
		list(access.ReviewFilter{Run: "run1", Status: []access.ReviewStatus{access.ReviewPending, access.ReviewRemoving}}), []string{"RA"})

	if _, err := a.FinishRemove(true, "", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	contractPut(t, s, a)
	contractIDs(t, "removed", due(contractT0.Add(1000*time.Hour), 0), []string{"RC"})
	contractView(t, s, func(tx access.Tx) (err error) { got, err = tx.ReviewItem("RA"); return err })
	contractSame(t, "ReviewItem(RA) removed", got, a)
	contractView(t, s, func(tx access.Tx) error {
		contractCode(t, "PutReviewItem in a view", tx.PutReviewItem(c), access.EINTERNAL)
		return nil
	})
}
