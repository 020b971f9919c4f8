package access

// Message bookkeeping: the Slack messages that show a request or grant, to update later.

import "context"

// AddMessages remembers Slack messages that show request id (or its grant), to update later.
func (s *Service) AddMessages(ctx context.Context, id string, refs ...MessageRef) error {
	return mark(ctx, s, requestRecords, id, func(r *Request) { r.Messages = append(r.Messages, refs...) })
}

// AddGrantMessages remembers Slack messages that show grant id.
func (s *Service) AddGrantMessages(ctx context.Context, id string, refs ...MessageRef) error {
	return mark(ctx, s, grantRecords, id, func(g *Grant) { g.Messages = append(g.Messages, refs...) })
}

// AddReviewMessages remembers a Slack message that shows the items with the given IDs.
func (s *Service) AddReviewMessages(ctx context.Context, ref MessageRef, ids ...string) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		for _, id := range ids {
			it, err := tx.ReviewItem(id)
			if err != nil {
				return err
			}
			it.Messages = append(it.Messages, ref)
			if err := tx.PutReviewItem(it); err != nil {
				return err
			}
		}
		return nil
	})
}
