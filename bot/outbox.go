package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// Notify writes n into the outbox in tx, the transaction of the change it reports
// (access.Notifier). The delivery loop started by Run wakes when that transaction commits and
// sends it to Slack, within Slack's limits, retrying across restarts until it is delivered or
// plainly undeliverable.
func (b *Bot) Notify(ctx context.Context, tx access.Tx, n access.Notice) error {
	if err := (access.Outbox{Now: b.cfg.Now}).Notify(ctx, tx, n); err != nil {
		return err
	}
	if !b.commitsWake() {
		b.wakeDelivery() // before the commit: the loop's poll finds what this wake misses
	}
	return nil
}

// Delivery operations.
const (
	opPost   = "post"
	opUpdate = "update"
)

// delivery is one Slack call the outbox owes: a post, or an update of a message in place.
// Messages about a request, grant or review are rendered from its state when they are sent, so
// a message delivered late never shows something older than the truth, and updates of one
// message coalesce into the latest.
type delivery struct {
	Op      string            `json:"op"`
	Channel string            `json:"channel"` // channel ID, or a user ID for a DM
	TS      string            `json:"ts,omitempty"`
	Text    string            `json:"text,omitempty"`
	Blocks  json.RawMessage   `json:"blocks,omitempty"`
	Request string            `json:"request,omitempty"` // a copy of request: rendered when sent, remembered on it
	Decide  bool              `json:"decide,omitempty"`  // with Approve/Deny while pending (else for information)
	Grant   string            `json:"grant,omitempty"`   // a message about grant: rendered when sent, remembered on it
	Kind    access.NoticeKind `json:"kind,omitempty"`    // the grant notice it shows
	Review  []string          `json:"review,omitempty"`  // review items shown: rendered when sent, remembered on them
}

// method is the Web API method the delivery calls.
func (d delivery) method() string {
	if d.Op == opUpdate {
		return "chat.update"
	}
	return "chat.postMessage"
}

// staticDelivery is a post of a message rendered now.
func staticDelivery(channel string, m message) delivery {
	blocks, _ := json.Marshal(m.Blocks)
	return delivery{Op: opPost, Channel: channel, Text: m.Text, Blocks: blocks}
}

// item wraps d as an outbox item; updates are keyed by the message so that they coalesce.
func (d delivery) item(b *Bot) (*access.OutboxItem, error) {
	body, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode delivery: %w", err)
	}
	it := &access.OutboxItem{Channel: d.Channel, Body: body, CreatedAt: b.now()}
	if d.Op == opUpdate {
		it.Key = "update:" + d.Channel + "/" + d.TS
	}
	return it, nil
}

// enqueue writes deliveries to the outbox in a transaction of their own.
func (b *Bot) enqueue(ctx context.Context, ds ...delivery) error {
	if len(ds) == 0 {
		return nil
	}
	err := b.svc.Store.Update(ctx, func(tx access.Tx) error { return b.put(tx, ds...) })
	if err != nil {
		return fmt.Errorf("enqueue slack messages: %w", err)
	}
	if !b.commitsWake() {
		b.wakeDelivery()
	}
	return nil
}

func (b *Bot) put(tx access.Tx, ds ...delivery) error {
	for _, d := range ds {
		it, err := d.item(b)
		if err != nil {
			return err
		}
		if err := tx.PutOutbox(it); err != nil {
			return err
		}
	}
	return nil
}

// posts are the deliveries of text to channel, split into as many messages as it takes.
func posts(channel string, ms []message) []delivery {
	if channel == "" {
		return nil
	}
	out := make([]delivery, 0, len(ms))
	for _, m := range ms {
		out = append(out, staticDelivery(channel, m))
	}
	return out
}

// expand turns a notice into the Slack calls it needs, reading the current state of what it
// is about. An error means it cannot be expanded now (Slack cannot say who approves): the
// notice waits and is tried again.
func (b *Bot) expand(ctx context.Context, n access.Notice) ([]delivery, error) {
	p := b.policy()
	audit, alerts := "", ""
	if p != nil {
		audit, alerts = p.Channels.Audit, p.AlertsChannel()
	}
	if n.Role == nil && n.RoleName != "" {
		n.Role = b.role(n.RoleName)
	}
	var out []delivery
	add := func(ds ...delivery) { out = append(out, ds...) }
	switch n.Kind {
	case access.NoticeRequested:
		r := n.Request
		if r == nil {
			return nil, nil
		}
		decide := r.Status == access.RequestPending
		if len(n.Approvers) == 0 && decide && n.Role != nil && len(n.Role.Approvers) > 0 {
			// Not resolved when it was filed (Slack was unreachable), or nobody but the
			// requester may approve: resolve now, or wait.
			ids, err := b.svc.RequestApprovers(ctx, n.Role, r)
			if err != nil {
				return nil, err
			}
			n.Approvers = ids
		}
		// n.Approvers leaves out the requester in every Slack identity known to be theirs
		// (access.Service.RequestApprovers); the click is judged again.
		for _, id := range n.Approvers {
			if id != r.Requester.SlackID { // the requester never decides their own request
				add(delivery{Op: opPost, Channel: id, Request: r.ID, Decide: decide})
			}
		}
		if n.Role != nil && n.Role.Channel != "" {
			add(delivery{Op: opPost, Channel: n.Role.Channel, Request: r.ID, Decide: decide})
		}
		add(staticDelivery(r.Requester.SlackID, sentMessage(r, n.Approvers, needed(n.Role), true)))
	case access.NoticeApprovalAdded:
		add(b.requestUpdates(ctx, n.Request)...)
	case access.NoticeApproved, access.NoticeDenied, access.NoticeCancelled, access.NoticeExpired:
		if n.Request == nil {
			return nil, nil
		}
		add(b.requestUpdates(ctx, n.Request)...)
		if n.Kind != access.NoticeCancelled {
			add(staticDelivery(n.Request.Requester.SlackID, outcomeMessage(n.Request)))
		}
		add(posts(audit, textMessages(auditText(n)))...)
	case access.NoticeGranted, access.NoticeExpiring, access.NoticeExtended:
		if n.Grant == nil {
			return nil, nil
		}
		add(delivery{Op: opPost, Channel: n.Grant.Holder.SlackID, Grant: n.Grant.ID, Kind: n.Kind})
		if n.Kind != access.NoticeExpiring {
			add(posts(audit, textMessages(auditText(n)))...)
		}
	case access.NoticeEnded:
		g := n.Grant
		if g == nil {
			return nil, nil
		}
		if cur, err := b.svc.Grant(ctx, g.ID); err == nil {
			g = cur
		}
		// Earlier messages about g are closed in place; the holder reads "Access ended" once.
		closed := grantClosedMessage(g)
		for _, ref := range g.Messages {
			d := staticDelivery(ref.Channel, closed)
			d.Op, d.TS = opUpdate, ref.TS
			add(d)
		}
		add(staticDelivery(g.Holder.SlackID, grantMessage(g, access.NoticeEnded)))
		add(posts(audit, textMessages(auditText(n)))...)
	case access.NoticeReview:
		// Each reviewer gets the items but those about their own membership
		// (access.ReviewItem.SelfReviewers); the click is judged again.
		for _, user := range n.Reviewers {
			var asked []*access.ReviewItem
			for _, it := range n.Items {
				if it.AskedOf(user) {
					asked = append(asked, it)
				}
			}
			for _, chunk := range reviewChunks(asked) {
				ids := make([]string, len(chunk))
				for i, it := range chunk {
					ids[i] = it.ID
				}
				add(delivery{Op: opPost, Channel: user, Review: ids})
			}
		}
		if n.Text != "" {
			add(posts(audit, textMessages(n.Text))...)
		}
	case access.NoticeReviewDecided:
		for _, it := range n.Items {
			add(b.reviewUpdates(ctx, it)...)
			add(posts(audit, []message{reviewAuditLine(it)})...)
		}
	case access.NoticeAlert:
		if n.Request != nil && n.Request.BreakGlass {
			add(posts(alerts, []message{alertMessage(n)})...) // with Revoke now
			break
		}
		add(posts(alerts, textMessages(":rotating_light: "+escape(n.Text)))...)
	case access.NoticeAudit:
		ch := audit
		if n.Channel != "" {
			ch = n.Channel
		}
		add(posts(ch, textMessages(auditText(n)))...)
	}
	return out, nil
}

// requestUpdates are updates of every message that shows request r, rendered when sent.
func (b *Bot) requestUpdates(ctx context.Context, r *access.Request) []delivery {
	if r == nil {
		return nil
	}
	refs := r.Messages
	if cur, err := b.svc.Request(ctx, r.ID); err == nil {
		refs = cur.Messages
	}
	out := make([]delivery, 0, len(refs))
	for _, ref := range refs {
		out = append(out, delivery{Op: opUpdate, Channel: ref.Channel, TS: ref.TS, Request: r.ID, Decide: true})
	}
	return out
}

// reviewUpdates are updates of every message that shows review item it, each with the items
// that message shows.
func (b *Bot) reviewUpdates(ctx context.Context, it *access.ReviewItem) []delivery {
	if cur, err := b.svc.ReviewItem(ctx, it.ID); err == nil {
		it = cur
	}
	if len(it.Messages) == 0 {
		return nil
	}
	all, err := b.svc.ReviewItems(ctx, access.ReviewFilter{Run: it.Run})
	if err != nil {
		return nil
	}
	var out []delivery
	for _, ref := range it.Messages {
		var ids []string
		for _, x := range all {
			if slices.Contains(x.Messages, ref) {
				ids = append(ids, x.ID)
			}
		}
		out = append(out, delivery{Op: opUpdate, Channel: ref.Channel, TS: ref.TS, Review: ids})
	}
	return out
}

// render is the message a delivery shows now: messages about requests, grants and reviews from
// their current state, others as stored.
func (b *Bot) render(ctx context.Context, d delivery) (message, error) {
	switch {
	case d.Request != "":
		r, err := b.svc.Request(ctx, d.Request)
		if err != nil {
			return message{}, err
		}
		if d.Decide {
			return requestMessage(r, b.role(r.Role), true), nil
		}
		return infoMessage(r, b.role(r.Role)), nil
	case d.Grant != "":
		g, err := b.svc.Grant(ctx, d.Grant)
		if err != nil {
			return message{}, err
		}
		return grantMessage(g, d.Kind), nil
	case len(d.Review) > 0:
		var items []*access.ReviewItem
		for _, id := range d.Review {
			it, err := b.svc.ReviewItem(ctx, id)
			if err != nil {
				return message{}, err
			}
			items = append(items, it)
		}
		return reviewMessage(items), nil
	}
	var blocks slack.Blocks
	if len(d.Blocks) > 0 && string(d.Blocks) != "null" {
		if err := json.Unmarshal(d.Blocks, &blocks); err != nil {
			return message{}, fmt.Errorf("decode stored blocks: %w", err)
		}
	}
	return message{Text: d.Text, Blocks: blocks.BlockSet}, nil
}

// remember stores where a post landed on what it shows, and returns an update to send when
// what it shows changed while it was being posted (a decision made meanwhile may not have
// known this message yet).
func (b *Bot) remember(ctx context.Context, d delivery, shown message, ref access.MessageRef) ([]delivery, error) {
	switch {
	case d.Request != "":
		if err := b.svc.AddMessages(ctx, d.Request, ref); err != nil {
			return nil, err
		}
	case d.Grant != "" && d.Kind != access.NoticeEnded:
		if err := b.svc.AddGrantMessages(ctx, d.Grant, ref); err != nil {
			return nil, err
		}
		g, err := b.svc.Grant(ctx, d.Grant)
		if err != nil {
			return nil, err
		}
		if !g.Live() {
			closed := staticDelivery(ref.Channel, grantClosedMessage(g))
			closed.Op, closed.TS = opUpdate, ref.TS
			return []delivery{closed}, nil
		}
	case len(d.Review) > 0:
		if err := b.svc.AddReviewMessages(ctx, ref, d.Review...); err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	now, err := b.render(ctx, d)
	if err != nil {
		return nil, err
	}
	if sameMessage(now, shown) {
		return nil, nil
	}
	up := d
	up.Op, up.Channel, up.TS = opUpdate, ref.Channel, ref.TS
	return []delivery{up}, nil
}

// sameMessage reports whether two messages show the same.
func sameMessage(a, b message) bool {
	ja, _ := json.Marshal(a.Blocks)
	jb, _ := json.Marshal(b.Blocks)
	return a.Text == b.Text && string(ja) == string(jb)
}

// textMessages splits text into messages Slack accepts: sections of at most sectionTextLimit
// characters cut at line ends, at most messageTextBudget characters and messageBlocks blocks
// per message. Nothing is cut away; each part says which part it is.
func textMessages(text string) []message {
	var sections []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			sections = append(sections, cur.String())
			cur.Reset()
		}
	}
	for _, line := range strings.Split(text, "\n") {
		for len([]rune(line)) > sectionTextLimit {
			flush()
			r := []rune(line)
			sections = append(sections, string(r[:sectionTextLimit]))
			line = string(r[sectionTextLimit:])
		}
		if cur.Len() > 0 && len([]rune(cur.String()))+1+len([]rune(line)) > sectionTextLimit {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(line)
	}
	flush()
	var parts [][]string
	size := 0
	for _, s := range sections {
		n := len([]rune(s))
		if len(parts) == 0 || size+n > messageTextBudget || len(parts[len(parts)-1]) >= messageBlocks-1 {
			parts = append(parts, nil)
			size = 0
		}
		parts[len(parts)-1] = append(parts[len(parts)-1], s)
		size += n
	}
	if len(parts) == 0 {
		return []message{textMessage(text)}
	}
	first := strings.SplitN(text, "\n", 2)[0]
	out := make([]message, len(parts))
	for i, ss := range parts {
		blocks := make([]slack.Block, len(ss))
		for j, s := range ss {
			blocks[j] = section(fmt.Sprintf("text_%d", j), s)
		}
		fallback := first
		if len(parts) > 1 {
			fallback = fmt.Sprintf("%s (part %d of %d)", first, i+1, len(parts))
			blocks = append(blocks, contextBlock("part", fmt.Sprintf("Part %d of %d.", i+1, len(parts))))
		}
		out[i] = message{Text: truncate(fallback, fallbackLimit), Blocks: blocks}
	}
	return out
}

// splitMessage splits a message built of sections into messages Slack accepts: at most
// messageTextBudget characters of text and messageBlocks blocks each, in order; each part says
// which part it is. A message that fits is returned as it is.
func splitMessage(m message) []message {
	var parts [][]slack.Block
	size := 0
	for _, bl := range m.Blocks {
		n := blockTextLen(bl)
		if len(parts) == 0 || size+n > messageTextBudget || len(parts[len(parts)-1]) >= messageBlocks-1 {
			parts = append(parts, nil)
			size = 0
		}
		parts[len(parts)-1] = append(parts[len(parts)-1], bl)
		size += n
	}
	if len(parts) <= 1 {
		return []message{m}
	}
	out := make([]message, len(parts))
	for i, bs := range parts {
		bs = append(bs, contextBlock("part", fmt.Sprintf("Part %d of %d.", i+1, len(parts))))
		out[i] = message{Text: truncate(fmt.Sprintf("%s (part %d of %d)", m.Text, i+1, len(parts)), fallbackLimit), Blocks: bs}
	}
	return out
}

// blockTextLen counts the characters of text in a block as Slack does for its message limit.
func blockTextLen(bl slack.Block) int {
	raw, err := json.Marshal(bl)
	if err != nil {
		return 0
	}
	var v any
	_ = json.Unmarshal(raw, &v)
	var walk func(v any, key string) int
	walk = func(v any, key string) int {
		n := 0
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				n += walk(e, k)
			}
		case []any:
			for _, e := range x {
				n += walk(e, key)
			}
		case string:
			if key == "text" {
				n = len([]rune(x))
			}
		}
		return n
	}
	return walk(v, "")
}
