package access

// Read queries of requests, grants and the history.

import (
	"context"
)

// Request returns request id.
func (s *Service) Request(ctx context.Context, id string) (*Request, error) {
	return read(ctx, s, requestRecords, "request", id)
}

// Grant returns grant id.
func (s *Service) Grant(ctx context.Context, id string) (*Grant, error) {
	return read(ctx, s, grantRecords, "grant", id)
}

// read returns record id of kind k, or ENOTFOUND naming the kind (what) and the ID.
func read[T any](ctx context.Context, s *Service, k records[T], what, id string) (*T, error) {
	id = NormalizeID(id)
	var rec *T
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		rec, err = k.get(tx, id)
		return err
	})
	if ErrorCode(err) == ENOTFOUND {
		return nil, NoRecord(what, id).WithUsage("list")
	}
	return rec, err
}

// Mine returns slackID's pending requests and live grants.
func (s *Service) Mine(ctx context.Context, slackID string) ([]*Request, []*Grant, error) {
	var rs []*Request
	var gs []*Grant
	err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		if rs, err = tx.PendingRequests(RequestFilter{Requester: slackID}); err != nil {
			return err
		}
		gs, err = tx.LiveGrants(GrantFilter{Holder: slackID})
		return err
	})
	return rs, gs, err
}

// Awaiting returns pending requests slackID may decide: never their own, whichever of their
// Slack identities filed it (their stored binding's account, else their Slack e-mail, is the
// request's account).
func (s *Service) Awaiting(ctx context.Context, slackID string) ([]*Request, error) {
	p, err := s.policy()
	if err != nil {
		return nil, err
	}
	var (
		rs   []*Request
		self *Binding
	)
	if err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		if rs, err = tx.PendingRequests(RequestFilter{}); err != nil {
			return err
		}
		if self, err = tx.Binding(slackID); ErrorCode(err) == ENOTFOUND {
			self, err = nil, nil
		}
		return err
	}); err != nil {
		return nil, err
	}
	var me Account // who slackID is: their stored binding, else their Slack e-mail
	switch {
	case self != nil:
		me = self.Account
	case s.Identity != nil && len(rs) > 0:
		if email, err := s.Identity.Email(ctx, slackID); err == nil {
			me.Email = email
		}
	}
	var out []*Request
	approves := map[string]bool{} // role name -> slackID may approve it; resolved once per role
	for _, r := range rs {
		role := p.Role(r.Role)
		if role == nil || r.Requester.SlackID == slackID || contains(r.Approvers(), slackID) || r.Account.Same(me) {
			continue
		}
		ok, seen := approves[role.Name]
		if !seen {
			ok, _ = s.member(ctx, slackID, role.Approvers)
			approves[role.Name] = ok
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// Active returns every live grant, of role when set. Only auditors may ask.
func (s *Service) Active(ctx context.Context, by Actor, role string) ([]*Grant, error) {
	if ok, err := s.IsAuditor(ctx, by); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return nil, Errorf(EFORBIDDEN, "Only auditors can see every active grant; list shows yours.").WithUsage("list")
	}
	var gs []*Grant
	err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		gs, err = tx.LiveGrants(GrantFilter{Role: role})
		return err
	})
	return gs, err
}

// History returns recent audit events. Only auditors may ask.
func (s *Service) History(ctx context.Context, by Actor, f AuditFilter) ([]AuditEvent, error) {
	if ok, err := s.IsAuditor(ctx, by); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return nil, Errorf(EFORBIDDEN, "Only auditors can read the history.")
	}
	var es []AuditEvent
	err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		es, err = tx.AuditEvents(f)
		return err
	})
	return es, err
}
