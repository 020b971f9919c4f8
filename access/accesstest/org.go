package accesstest

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/jitbot/jitbot/access"
)

// Org is an in-memory Atlassian organization for domain tests: groups by name with IDs, their
// members, users with the attributes conditions see, platform roles, suspend and restore. It
// implements access.Org, access.Provisioner and access.Directory, counts calls the way the
// Atlassian API would (one read per page of 100 users), and lets a test inject faults.
//
// The zero value is not usable; call NewOrg.
type Org struct {
	// Fail, when set, is called before every operation with the operation name ("groups",
	// "users", "user", "has", "add", "remove", "suspend", "restore"), the account ID and the
	// group name or role key (empty when not relevant). A non-nil error is returned instead
	// of doing the operation.
	Fail func(op, accountID, target string) error

	mu       sync.Mutex
	nextID   int
	groups   map[string]*access.Group       // by group ID
	byName   map[string]string              // lower-cased name -> group ID
	users    map[string]*access.User        // by account ID; Groups and GroupIDs are not kept here
	order    []string                       // account IDs in the order they were added
	members  map[string]map[string]struct{} // group ID -> account IDs
	memberOf map[string]map[string]struct{} // account ID -> group IDs
	roles    map[string]map[string]struct{} // account ID -> role target keys
	reads    int
	writes   int
}

var (
	_ access.Org         = (*Org)(nil)
	_ access.Provisioner = (*Org)(nil)
	_ access.Directory   = (*Org)(nil)
)

// pageSize is the number of users one search call returns, as in the Atlassian API.
const pageSize = 100

// NewOrg returns an empty organization.
func NewOrg() *Org {
	return &Org{
		groups:   map[string]*access.Group{},
		byName:   map[string]string{},
		users:    map[string]*access.User{},
		members:  map[string]map[string]struct{}{},
		memberOf: map[string]map[string]struct{}{},
		roles:    map[string]map[string]struct{}{},
	}
}

// AddGroup creates a writable group with the given name and returns its ID. Adding a name that
// exists returns the existing group's ID.
func (o *Org) AddGroup(name string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.addGroup(name)
}

func (o *Org) addGroup(name string) string {
	if id, ok := o.byName[strings.ToLower(name)]; ok {
		return id
	}
	o.nextID++
	id := "g-" + itoa(o.nextID)
	o.groups[id] = &access.Group{ID: id, Name: name, Modifiable: true}
	o.byName[strings.ToLower(name)] = id
	o.members[id] = map[string]struct{}{}
	return id
}

// SetGroup changes the flags of the named group (for groups synced from an identity provider).
func (o *Org) SetGroup(name string, externalSynced, modifiable bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.groups[o.addGroup(name)]
	g.ExternalSynced, g.Modifiable = externalSynced, modifiable
}

// AddUser adds u to the org, with membership of u.Groups (created when missing). Status
// defaults to active. It replaces a user with the same account ID.
func (o *Org) AddUser(u access.User) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if u.Status == "" {
		u.Status = "active"
	}
	groups := u.Groups
	u.Groups, u.GroupIDs = nil, nil
	if _, ok := o.users[u.AccountID]; !ok {
		o.order = append(o.order, u.AccountID)
	}
	o.users[u.AccountID] = &u
	for _, name := range groups {
		o.join(o.addGroup(name), u.AccountID, true)
	}
}

// SetMember puts the account in the named group, or takes it out, without counting a call.
func (o *Org) SetMember(group, accountID string, member bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.join(o.addGroup(group), accountID, member)
}

// Member reports whether the account is in the named group.
func (o *Org) Member(group, accountID string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	id, ok := o.byName[strings.ToLower(group)]
	if !ok {
		return false
	}
	_, ok = o.members[id][accountID]
	return ok
}

// Members returns the account IDs in the named group, sorted.
func (o *Org) Members(group string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	id, ok := o.byName[strings.ToLower(group)]
	if !ok {
		return nil
	}
	ids := make([]string, 0, len(o.members[id]))
	for a := range o.members[id] {
		ids = append(ids, a)
	}
	sort.Strings(ids)
	return ids
}

// Status returns the account's status, or "" when there is no such account.
func (o *Org) Status(accountID string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if u, ok := o.users[accountID]; ok {
		return u.Status
	}
	return ""
}

// HasRole reports whether the account holds the platform role target.
func (o *Org) HasRole(accountID string, t access.Target) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.roles[accountID][t.Key()]
	return ok
}

// Reads returns the number of read calls made so far.
func (o *Org) Reads() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.reads
}

// Writes returns the number of write calls (add, remove, suspend, restore) made so far,
// including those that changed nothing.
func (o *Org) Writes() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.writes
}

// ResetCalls sets the call counters to zero.
func (o *Org) ResetCalls() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reads, o.writes = 0, 0
}

func (o *Org) fail(op, accountID, target string) error {
	if o.Fail == nil {
		return nil
	}
	return o.Fail(op, accountID, target)
}

// Groups returns the named groups; a name with no group is an ENOTFOUND error naming it.
func (o *Org) Groups(ctx context.Context, names []string) ([]access.Group, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reads++
	if err := o.fail("groups", "", strings.Join(names, ",")); err != nil {
		return nil, err
	}
	out := make([]access.Group, 0, len(names))
	for _, n := range names {
		id, ok := o.byName[strings.ToLower(n)]
		if !ok {
			return nil, access.Errorf(access.ENOTFOUND, "Group %s does not exist in the Atlassian organization.", n)
		}
		g := *o.groups[id]
		g.Users = len(o.members[id])
		out = append(out, g)
	}
	return out, nil
}

// Users calls fn for every user matching q, in the order they were added, with groups filled
// in. It counts one read per page of 100 users. fn runs without the lock held.
func (o *Org) Users(ctx context.Context, q access.UserQuery, fn func(*access.User) error) error {
	o.mu.Lock()
	o.reads++
	if err := o.fail("users", "", strings.Join(q.GroupIDs, ",")); err != nil {
		o.mu.Unlock()
		return err
	}
	ids := o.order
	if len(q.GroupIDs) > 0 {
		ids = o.membersOf(q.GroupIDs)
	}
	o.mu.Unlock()
	page := make([]*access.User, 0, pageSize)
	for start := 0; start < len(ids); start += pageSize {
		end := min(start+pageSize, len(ids))
		o.mu.Lock()
		if start > 0 {
			o.reads++
		}
		page = page[:0]
		for _, id := range ids[start:end] {
			if u := o.users[id]; u != nil && !(q.Unmanaged && u.Managed) {
				page = append(page, o.userLocked(u))
			}
		}
		o.mu.Unlock()
		for _, u := range page {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(u); err != nil {
				return err
			}
		}
	}
	return nil
}

// membersOf returns the accounts in any of the groups, in the order they were added to the org.
func (o *Org) membersOf(groupIDs []string) []string {
	set := map[string]struct{}{}
	for _, g := range groupIDs {
		for a := range o.members[g] {
			set[a] = struct{}{}
		}
	}
	ids := make([]string, 0, len(set))
	for _, a := range o.order {
		if _, ok := set[a]; ok {
			ids = append(ids, a)
		}
	}
	return ids
}

// userLocked returns a copy of u with its groups, sorted by group ID.
func (o *Org) userLocked(u *access.User) *access.User {
	c := *u
	c.GroupIDs = make([]string, 0, len(o.memberOf[u.AccountID]))
	for id := range o.memberOf[u.AccountID] {
		c.GroupIDs = append(c.GroupIDs, id)
	}
	slices.Sort(c.GroupIDs)
	c.Groups = make([]string, len(c.GroupIDs))
	for i, id := range c.GroupIDs {
		c.Groups[i] = o.groups[id].Name
	}
	return &c
}

// join puts the account in the group, or takes it out.
func (o *Org) join(groupID, accountID string, member bool) {
	if !member {
		delete(o.members[groupID], accountID)
		delete(o.memberOf[accountID], groupID)
		return
	}
	o.members[groupID][accountID] = struct{}{}
	if o.memberOf[accountID] == nil {
		o.memberOf[accountID] = map[string]struct{}{}
	}
	o.memberOf[accountID][groupID] = struct{}{}
}

// Suspend suspends the account's access. Suspending a suspended account succeeds.
func (o *Org) Suspend(ctx context.Context, accountID string) error {
	return o.setStatus("suspend", accountID, "suspended")
}

// Restore restores a suspended account. Restoring an active account succeeds.
func (o *Org) Restore(ctx context.Context, accountID string) error {
	return o.setStatus("restore", accountID, "active")
}

func (o *Org) setStatus(op, accountID, status string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writes++
	if err := o.fail(op, accountID, ""); err != nil {
		return err
	}
	u, ok := o.users[accountID]
	if !ok {
		return access.Errorf(access.ENOTFOUND, "Account %s does not exist.", accountID)
	}
	u.Status = status
	return nil
}

// UserByEmail returns the user with the address, or ENOTFOUND.
func (o *Org) UserByEmail(ctx context.Context, email string) (*access.User, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reads++
	if err := o.fail("user", "", email); err != nil {
		return nil, err
	}
	for _, id := range o.order {
		if u := o.users[id]; strings.EqualFold(u.Email, email) {
			return o.userLocked(u), nil
		}
	}
	return nil, access.Errorf(access.ENOTFOUND, "No Atlassian account has the address %s.", email)
}

// User returns the user with the account ID, or ENOTFOUND.
func (o *Org) User(ctx context.Context, accountID string) (*access.User, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reads++
	if err := o.fail("user", accountID, ""); err != nil {
		return nil, err
	}
	u, ok := o.users[accountID]
	if !ok {
		return nil, access.Errorf(access.ENOTFOUND, "Account %s does not exist.", accountID)
	}
	return o.userLocked(u), nil
}

// Has reports whether a holds t.
func (o *Org) Has(ctx context.Context, a access.Account, t access.Target) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reads++
	if err := o.fail("has", a.ID, t.Key()); err != nil {
		return false, err
	}
	if t.Kind == access.TargetRole {
		_, ok := o.roles[a.ID][t.Key()]
		return ok, nil
	}
	id, ok := o.byName[strings.ToLower(t.Group)]
	if !ok {
		return false, access.Errorf(access.ENOTFOUND, "Group %s does not exist in the Atlassian organization.", t.Group)
	}
	_, ok = o.members[id][a.ID]
	return ok, nil
}

// Add gives a t; adding what is there succeeds.
func (o *Org) Add(ctx context.Context, a access.Account, t access.Target) error {
	return o.change("add", a, t, true)
}

// Remove takes t from a; removing what is gone succeeds.
func (o *Org) Remove(ctx context.Context, a access.Account, t access.Target) error {
	return o.change("remove", a, t, false)
}

func (o *Org) change(op string, a access.Account, t access.Target, add bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writes++
	if err := o.fail(op, a.ID, t.Key()); err != nil {
		return err
	}
	if _, ok := o.users[a.ID]; !ok {
		return access.Errorf(access.ENOTFOUND, "Account %s does not exist.", a.ID)
	}
	if t.Kind == access.TargetRole {
		if o.roles[a.ID] == nil {
			o.roles[a.ID] = map[string]struct{}{}
		}
		if add {
			o.roles[a.ID][t.Key()] = struct{}{}
		} else {
			delete(o.roles[a.ID], t.Key())
		}
		return nil
	}
	id, ok := o.byName[strings.ToLower(t.Group)]
	if !ok {
		return access.Errorf(access.ENOTFOUND, "Group %s does not exist in the Atlassian organization.", t.Group)
	}
	if !o.groups[id].Writable() {
		return access.Errorf(access.EFORBIDDEN, "Group %s is managed by the identity provider and cannot be changed.", t.Group)
	}
	o.join(id, a.ID, add)
	return nil
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
