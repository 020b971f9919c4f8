package access

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// Submit files a request for roleName for d, by the requester. Auto-approved and break-glass
// requests are approved and provisioned before Submit returns.
func (s *Service) Submit(ctx context.Context, by Actor, roleName string, d time.Duration, reason string) (*Request, error) {
	p, err := s.policy()
	if err != nil {
		return nil, err
	}
	role, err := s.role(p, roleName)
	if err != nil {
		return nil, err
	}
	// Check what needs no I/O first, so bad input is answered without touching anything.
	if _, _, err := NewRequest("check", role, by, Account{}, d, reason, s.now()); err != nil {
		return nil, err
	}
	id, prior := s.newRequestID(ctx, by)
	if prior != nil {
		return prior, nil // filed already: the same Slack envelope, replayed
	}
	a, err := s.asker(ctx, by)
	if err != nil {
		return nil, err
	}
	now := s.now()
	info := &RequestInfo{Role: role.Name, Kind: InputKindRequest, Duration: d, Total: d, Reason: reason}
	r, ev, err := NewRequest(id, role, by, a.Account, d, reason, now)
	if err != nil {
		return nil, err
	}
	why := s.autoApprove(ctx, p, role, r, a.User, info)
	if err := s.mayRequest(ctx, p, role, a, info, now, why != ""); err != nil {
		return nil, err
	}
	approvers, aerr := s.RequestApprovers(ctx, role, r)
	if aerr != nil {
		zerolog.Ctx(ctx).Warn().Err(aerr).Msg("resolve approvers")
	}
	var g *Grant
	filed := r
	err = s.Store.Update(ctx, func(tx Tx) error {
		c := *r // Update may run fn again after a conflict: file a fresh copy each time
		filed = &c
		var err error
		if g, err = s.fileNew(ctx, tx, p, role, a, &c, ev, why, now, approvers, aerr == nil); err != nil {
			return err
		}
		if c.BreakGlass {
			alert := Notice{Kind: NoticeAlert, Request: &c, Grant: g, Role: role, Actor: by, Approvers: approvers,
				Text: fmt.Sprintf("Break-glass: %s granted %s to themselves for %s (request %s). Reason: %s", by.SlackID, role.Name, FormatDuration(c.Duration), c.ID, c.Reason)}
			if err := s.tell(ctx, tx, alert); err != nil {
				return err
			}
		}
		if g != nil {
			return s.tell(ctx, tx, Notice{Kind: NoticeApproved, Request: &c, Role: role, Actor: c.Decision.By})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("submit request for %s: %w", role.Name, err)
	}
	r = filed
	zerolog.Ctx(ctx).Info().Str("request", r.ID).Str("role", r.Role).Bool("auto", why != "").Msg("request submitted")
	if g != nil {
		s.drive(ctx, g.ID)
	}
	return r, nil
}

// autoApprove returns why r is approved by policy, or "" when it needs people. requester is
// the requester's Atlassian user (nil when unknown: then people decide).
func (s *Service) autoApprove(ctx context.Context, p *Policy, role *Role, r *Request, requester *User, info *RequestInfo) string {
	if role.BreakGlass {
		return "break-glass: approved on the requester's reason"
	}
	if role.AutoApprove == nil || requester == nil {
		return ""
	}
	in := Input{Request: info, Requester: requester, Now: r.CreatedAt, Domains: p.Organization.Domains}
	ok, err := role.AutoApprove.Eval(in)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("role", role.Name).Msg("auto_approve failed; asking approvers")
		return ""
	}
	if !ok {
		return ""
	}
	return "auto-approved by policy: " + role.AutoApprove.String()
}

// file stores new request r with its event inside tx and, when the policy approves it (why is
// set), approves it and starts its grant or extension in the same transaction.
func (s *Service) file(tx Tx, r *Request, ev AuditEvent, role *Role, why string, now time.Time) (*Grant, error) {
	if _, err := tx.Request(r.ID); err == nil {
		return nil, Errorf(ECONFLICT, "Request ID %s is taken; please try again.", r.ID)
	}
	if err := tx.PutRequest(r); err != nil {
		return nil, err
	}
	if err := tx.AppendAudit(&ev); err != nil {
		return nil, err
	}
	if why == "" {
		return nil, nil
	}
	ae, err := r.ApproveByPolicy(now, why)
	if err != nil {
		return nil, err
	}
	if err := tx.PutRequest(r); err != nil {
		return nil, err
	}
	if err := tx.AppendAudit(&ae); err != nil {
		return nil, err
	}
	return s.startGrant(tx, r, role, now)
}

// startGrant creates the grant for approved r, or extends its grant, inside tx.
func (s *Service) startGrant(tx Tx, r *Request, role *Role, now time.Time) (*Grant, error) {
	if r.Kind == KindExtend {
		g, err := tx.Grant(r.GrantID)
		if err != nil {
			return nil, err
		}
		ev, err := g.Extend(r, r.Duration, role, now)
		if err != nil {
			return nil, err
		}
		if err := tx.PutGrant(g); err != nil {
			return nil, err
		}
		return nil, tx.AppendAudit(&ev)
	}
	g, ev, err := NewGrant(r, role, now, s.settings().lease)
	if err != nil {
		return nil, err
	}
	if err := tx.PutGrant(g); err != nil {
		return nil, err
	}
	return g, tx.AppendAudit(&ev)
}

// fileNew stores new request c in tx: checked against the policy's limits, with the asker's
// identity binding and, when decided now (why), its grant. What its approvers are told is
// written with it, in the same transaction: approvers (RequestApprovers, resolved when
// resolved is true) without any whose stored binding, as of this transaction, is the
// requester's account. A request too few people may approve is alerted.
func (s *Service) fileNew(ctx context.Context, tx Tx, p *Policy, role *Role, a Asker, c *Request, ev AuditEvent, why string, now time.Time, approvers []string, resolved bool) (*Grant, error) {
	if err := checkLimits(tx, p, role, c, why != "", now); err != nil {
		return nil, err
	}
	if err := a.bind(tx); err != nil {
		return nil, err
	}
	g, err := s.file(tx, c, ev, role, why, now)
	if err != nil {
		return nil, err
	}
	approvers, err = notRequester(tx, c, approvers)
	if err != nil {
		return nil, err
	}
	if err := s.tell(ctx, tx, Notice{Kind: NoticeRequested, Request: c, Role: role, Actor: c.Requester, Approvers: approvers}); err != nil {
		return nil, err
	}
	if resolved && c.Status == RequestPending && len(role.Approvers) > 0 && len(approvers) < approversNeeded(role) {
		if err := s.tell(ctx, tx, tooFewApprovers(c, role, approvers)); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// newRequestID is the ID of a new request by by: the Slack envelope's when it has one, so a
// replayed envelope files nothing new. filed is the request already stored under that ID when
// it is by's; another's request under it is never overwritten (a fresh ID is returned).
func (s *Service) newRequestID(ctx context.Context, by Actor) (id string, filed *Request) {
	id, fixed := requestID(ctx)
	if !fixed {
		return id, nil
	}
	if r, err := s.Request(ctx, id); err == nil {
		if r.Requester.Is(by) {
			return id, r
		}
		return NewID(), nil
	}
	return id, nil
}

// Approve records by's approval of request id. Once enough approvers agree the grant is given
// (or the extension applied) before Approve returns.
func (s *Service) Approve(ctx context.Context, by Actor, id string) (*Request, error) {
	p, err := s.policy()
	if err != nil {
		return nil, err
	}
	id = NormalizeID(id)
	r, role, approvers, err := s.decisionContext(ctx, p, id)
	if err != nil {
		return nil, err
	}
	var acct Account
	if contains(approvers, by.SlackID) {
		if acct, err = s.deciderAccount(ctx, by.SlackID); err != nil {
			return r, fmt.Errorf("approve request %s: %w", id, err)
		}
		// Only an approver who is not the requester, on a pending request, learns this.
		if r.Status == RequestPending && !by.Is(r.Requester) && !r.Account.Same(acct) {
			if err := s.mayStillRequest(ctx, p, role, r); err != nil {
				return r, fmt.Errorf("approve request %s: %w", id, err)
			}
		}
	}
	now := s.now()
	var g *Grant
	err = s.Store.Update(ctx, func(tx Tx) error {
		cur, err := transition(ctx, s, tx, requestRecords, id, func(c *Request) (AuditEvent, error) {
			return c.ApproveAs(by, acct, now, role, approvers)
		}, nil)
		if err != nil {
			return err
		}
		r = cur
		if cur.Status != RequestApproved {
			return s.tell(ctx, tx, Notice{Kind: NoticeApprovalAdded, Request: cur, Role: role, Actor: by})
		}
		if g, err = s.startGrant(tx, cur, role, now); err != nil {
			return err
		}
		if err := s.tell(ctx, tx, Notice{Kind: NoticeApproved, Request: cur, Role: role, Actor: by}); err != nil {
			return err
		}
		if cur.Kind == KindExtend {
			eg, err := tx.Grant(cur.GrantID)
			if err != nil {
				return err
			}
			return s.tell(ctx, tx, Notice{Kind: NoticeExtended, Request: cur, Grant: eg, Role: role, Actor: by})
		}
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("approve request %s: %w", id, err)
	}
	if g != nil {
		s.drive(ctx, g.ID)
	}
	return r, nil
}

// decisionContext loads request id with its role and the approvers resolved now.
func (s *Service) decisionContext(ctx context.Context, p *Policy, id string) (*Request, *Role, []string, error) {
	r, err := s.Request(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	role, err := s.role(p, r.Role)
	if err != nil {
		return r, nil, nil, Errorf(ECONFLICT, "Role %s of request %s is no longer in the policy, so it cannot be decided.", r.Role, r.ID)
	}
	approvers, err := s.currentApprovers(ctx, role)
	if err != nil {
		return r, role, nil, err
	}
	return r, role, approvers, nil
}

// Deny records by's denial of request id.
func (s *Service) Deny(ctx context.Context, by Actor, id, reason string) (*Request, error) {
	p, err := s.policy()
	if err != nil {
		return nil, err
	}
	id = NormalizeID(id)
	r, role, approvers, err := s.decisionContext(ctx, p, id)
	if err != nil {
		return r, err
	}
	now := s.now()
	cur, err := updateRecord(ctx, s, requestRecords, id, func(c *Request) (AuditEvent, error) {
		return c.Deny(by, now, reason, approvers)
	}, tellOf(func(c *Request) []Notice {
		return []Notice{{Kind: NoticeDenied, Request: c, Role: role, Actor: by}}
	}))
	if err != nil {
		return r, fmt.Errorf("deny request %s: %w", id, err)
	}
	return cur, nil
}

// Cancel withdraws by's pending request id.
func (s *Service) Cancel(ctx context.Context, by Actor, id string) (*Request, error) {
	id = NormalizeID(id)
	r, err := updateRecord(ctx, s, requestRecords, id, func(c *Request) (AuditEvent, error) {
		return c.Cancel(by, s.now())
	}, tellOf(func(c *Request) []Notice {
		return []Notice{{Kind: NoticeCancelled, Request: c, Actor: by}}
	}))
	if err != nil {
		return nil, fmt.Errorf("cancel request %s: %w", id, err)
	}
	return r, nil
}

// Extend asks for d more on by's grant id, approved like a request.
func (s *Service) Extend(ctx context.Context, by Actor, id string, d time.Duration, reason string) (*Request, error) {
	p, err := s.policy()
	if err != nil {
		return nil, err
	}
	id = NormalizeID(id)
	g, err := s.Grant(ctx, id)
	if err != nil {
		return nil, err
	}
	role, err := s.role(p, g.Role)
	if err != nil {
		return nil, err
	}
	rid, prior := s.newRequestID(ctx, by)
	if prior != nil {
		return prior, nil // asked already: the same Slack envelope, replayed
	}
	now := s.now()
	r, ev, err := NewExtension(rid, role, g, by, d, reason, now)
	if err != nil {
		return nil, err
	}
	a, err := s.asker(ctx, by)
	if err != nil {
		return nil, err
	}
	info := &RequestInfo{Role: role.Name, Kind: InputKindExtend, Duration: d, Total: g.EndsAt.Add(d).Sub(g.GrantedAt), Reason: reason}
	why := s.autoApprove(ctx, p, role, r, a.User, info)
	if err := s.mayRequest(ctx, p, role, a, info, now, why != ""); err != nil {
		return nil, err
	}
	approvers, aerr := s.RequestApprovers(ctx, role, r)
	if aerr != nil {
		zerolog.Ctx(ctx).Warn().Err(aerr).Msg("resolve approvers")
	}
	filed := r
	err = s.Store.Update(ctx, func(tx Tx) error {
		c := *r // Update may run fn again after a conflict: file a fresh copy each time
		filed = &c
		w, err := s.autoApproveAsStored(ctx, tx, p, role, a, &c, g, info, why)
		if err != nil {
			return err
		}
		if _, err := s.fileNew(ctx, tx, p, role, a, &c, ev, w, now, approvers, aerr == nil); err != nil {
			return err
		}
		if c.Status != RequestApproved {
			return nil
		}
		eg, err := tx.Grant(id)
		if err != nil {
			return err
		}
		return s.tell(ctx, tx, Notice{Kind: NoticeExtended, Request: &c, Grant: eg, Role: role, Actor: PolicyActor})
	})
	if err != nil {
		return nil, fmt.Errorf("extend grant %s: %w", id, err)
	}
	r = filed
	return r, nil
}

// autoApproveAsStored is why, the auto_approve verdict on extension r of grant g as read
// before the transaction, judged again on the grant as stored in tx when another extension
// lengthened it meanwhile: two extensions asked at once must not both pass a condition on
// request.total that only one of them would pass after the other.
func (s *Service) autoApproveAsStored(ctx context.Context, tx Tx, p *Policy, role *Role, a Asker, r *Request, g *Grant, info *RequestInfo, why string) (string, error) {
	if why == "" || role.BreakGlass {
		return why, nil
	}
	cur, err := tx.Grant(g.ID)
	if err != nil {
		return "", err
	}
	if cur.EndsAt.Equal(g.EndsAt) && cur.GrantedAt.Equal(g.GrantedAt) {
		return why, nil
	}
	in := *info
	in.Total = cur.EndsAt.Add(r.Duration).Sub(cur.GrantedAt)
	return s.autoApprove(ctx, p, role, r, a.User, &in), nil
}

// mayStillRequest returns nil when r's requester may still ask for role as r asks, judged now
// (requesters past the principal cache, request_if and external on the account as Atlassian
// has it now), and an EINVALID error for the approver otherwise: a request filed by someone
// since taken out of the role's requesters is not granted by a click on an old DM. When
// Atlassian cannot be reached the check made when the request was filed stands, so an
// outage does not hold approvals up (the grant is retried as usual).
func (s *Service) mayStillRequest(ctx context.Context, p *Policy, role *Role, r *Request) error {
	if s.Directory == nil {
		return Errorf(EUNAVAILABLE, "jitbot cannot look up the requester right now.")
	}
	u, err := s.Directory.User(ctx, r.Account.ID)
	if ErrorCode(err) == EUNAVAILABLE {
		zerolog.Ctx(ctx).Warn().Err(err).Str("request", r.ID).Msg("requester not read; judged as when the request was filed")
		return nil
	}
	if err != nil {
		return fmt.Errorf("read requester %s: %w", r.Account.ID, err)
	}
	info := &RequestInfo{Role: role.Name, Kind: InputKindRequest, Duration: r.Duration, Total: r.Duration, Reason: r.Reason}
	if r.Kind == KindExtend {
		g, err := s.Grant(ctx, r.GrantID)
		if err != nil {
			return err
		}
		info.Kind, info.Total = InputKindExtend, g.EndsAt.Add(r.Duration).Sub(g.GrantedAt)
	}
	a := Asker{Actor: r.Requester, Account: r.Account, User: u}
	err = s.mayRequest(ctx, p, role, a, info, s.now(), true)
	if ErrorCode(err) == EFORBIDDEN {
		return Errorf(EINVALID, "Request %s cannot be approved: %s may no longer ask for role %s (the policy's requesters or request_if no longer let them). Deny it; they can ask again if they may.", r.ID, r.Requester.SlackID, role.Name)
	}
	return err
}
