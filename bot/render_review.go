package bot

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// Review button labels, fixed (docs/slack.md).
const (
	labelKeep   = "Keep"
	labelRemove = "Remove"
)

// reviewItemsPerMessage is how many members one review message shows: a header, then two blocks
// per member (the member, and its buttons or outcome), well within messageBlocks.
const reviewItemsPerMessage = 20

// sortReviewItems orders items as reviewers see them: by group, then member.
func sortReviewItems(items []*access.ReviewItem) {
	slices.SortFunc(items, func(a, b *access.ReviewItem) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Group), strings.ToLower(b.Group)),
			cmp.Compare(strings.ToLower(a.Member()), strings.ToLower(b.Member())), cmp.Compare(a.ID, b.ID))
	})
}

// reviewChunks splits items (sorted) into the groups one message each shows.
func reviewChunks(items []*access.ReviewItem) [][]*access.ReviewItem {
	items = slices.Clone(items)
	sortReviewItems(items)
	var out [][]*access.ReviewItem
	for len(items) > 0 {
		n := min(len(items), reviewItemsPerMessage)
		out = append(out, items[:n])
		items = items[n:]
	}
	return out
}

// reviewMessage renders review items as their reviewers see them: each member with Keep and
// Remove buttons while pending, and the outcome with who decided once decided. items must be
// of one review; they are shown sorted.
func reviewMessage(items []*access.ReviewItem) message {
	if len(items) == 0 {
		return textMessage("This access review has no members left to certify.")
	}
	items = slices.Clone(items)
	sortReviewItems(items)
	first := items[0]
	pending := 0
	for _, it := range items {
		if it.Status == access.ReviewPending {
			pending++
		}
	}
	then := "kept"
	if first.OnNoResponse == access.ReviewOnNoResponseRemove {
		then = "removed (through the guard)"
	}
	head := fmt.Sprintf("*Access review `%s`*\nPlease certify who should keep these memberships: *Keep* or *Remove* each member before %s. Members nobody decides by then are %s.",
		first.Review, when(first.Deadline), then)
	blocks := []slack.Block{
		section("review_head", head),
	}
	for _, it := range items {
		blocks = append(blocks, section("ritem_"+it.ID, reviewMember(it)))
		if it.Status == access.ReviewPending {
			blocks = append(blocks, slack.NewActionBlock("review_"+it.ID,
				button(actionReviewKeep, labelKeep, it.ID, slack.StylePrimary),
				button(actionReviewDrop, labelRemove, it.ID, slack.StyleDanger),
			))
			continue
		}
		blocks = append(blocks, contextBlock("rstatus_"+it.ID+"_"+string(it.Status), reviewOutcome(it)))
	}
	text := fmt.Sprintf("Access review %s: %d of %d memberships still to certify", first.Review, pending, len(items))
	return message{Text: truncate(text, fallbackLimit), Blocks: blocks}
}

// reviewMember is one member line: who, in which group.
func reviewMember(it *access.ReviewItem) string {
	s := "*" + escape(it.Member()) + "*"
	if it.Account.Name != "" && it.Account.Name != it.Member() {
		s += " (" + escape(it.Account.Name) + ")"
	}
	return s + " in *" + escape(it.Group) + "*"
}

// reviewOutcome says what became of a decided item, who decided and when.
func reviewOutcome(it *access.ReviewItem) string {
	by, at := "nobody", ""
	policy := it.Decision == nil || it.Decision.By.Kind != access.ActorUser
	if it.Decision != nil {
		by, at = who(it.Decision.By), when(it.Decision.At)
	}
	switch it.Status {
	case access.ReviewKept:
		if policy {
			return fmt.Sprintf(":hourglass: No response by the deadline: kept (on_no_response keep), %s.", when(it.EndedAt))
		}
		return fmt.Sprintf(":white_check_mark: Kept by %s at %s.", by, at)
	case access.ReviewRemoving:
		if policy {
			return ":hourglass_flowing_sand: No response by the deadline: being removed (on_no_response remove)."
		}
		return fmt.Sprintf(":hourglass_flowing_sand: Removal asked by %s at %s; in progress.", by, at)
	case access.ReviewRemoved:
		s := fmt.Sprintf(":wastebasket: Removed by %s at %s.", by, at)
		if policy {
			s = fmt.Sprintf(":wastebasket: No response by the deadline: removed (on_no_response remove), %s.", when(it.EndedAt))
		}
		if it.Note != "" {
			s += " (" + escape(it.Note) + ")"
		}
		return s
	case access.ReviewRefused:
		asked := "Removal asked by " + by
		if policy {
			asked = "Removal at the deadline (on_no_response remove)"
		}
		return fmt.Sprintf(":no_entry: %s was refused by the guard: %s. The membership stays.", asked, escape(it.Note))
	}
	return string(it.Status)
}

// reviewAuditLine is the audit channel's line for a decided item.
func reviewAuditLine(it *access.ReviewItem) message {
	return textMessage(fmt.Sprintf("Access review `%s`: %s — %s", it.Review, reviewMember(it), reviewOutcome(it)))
}
