package access

import (
	"strings"
	"time"
)

// Account is an Atlassian account as jitbot refers to it.
type Account struct {
	ID    string `json:"id"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// Handle is the account as people know it: its e-mail address, else its account ID.
func (a Account) Handle() string {
	if a.Email != "" {
		return a.Email
	}
	return a.ID
}

// Same reports whether a and b may be the same person: the same account ID, or e-mail
// addresses that deliver to one mailbox (Mailbox), even on two accounts (a second account on
// a plus address of one's own is still oneself). It is only ever used to refuse or leave out.
func (a Account) Same(b Account) bool {
	if a.ID != "" && a.ID == b.ID {
		return true
	}
	return a.Email != "" && b.Email != "" && Mailbox(a.Email) == Mailbox(b.Email)
}

// Mailbox is the mailbox an e-mail address delivers to, as far as jitbot can tell: lower-cased,
// without a "+tag" in the local part (plus-addressing, which most mail systems deliver to the
// inbox without it) and without a trailing dot in the domain. It decides only that two
// addresses may be the same person, to refuse (self-approval, self-review) or to leave someone
// out; it never matches anyone to an account.
func Mailbox(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	i := strings.LastIndexByte(email, '@')
	if i < 0 {
		return email
	}
	local, domain := email[:i], strings.TrimSuffix(email[i+1:], ".")
	if j := strings.IndexByte(local, '+'); j > 0 {
		local = local[:j]
	}
	return local + "@" + domain
}

// User is an Atlassian user with the attributes conditions can see (the CEL `user` and
// `requester` variables).
type User struct {
	AccountID  string
	Email      string
	Name       string
	Managed    bool   // claimStatus managed: the org has verified the e-mail domain
	Status     string // active, suspended, inactive, closed, …
	Groups     []string
	GroupIDs   []string
	LastActive time.Time // zero when never
	AddedToOrg time.Time
}

// Account returns u's Account.
func (u *User) Account() Account { return Account{ID: u.AccountID, Email: u.Email, Name: u.Name} }

// EmailDomain returns the lower-cased domain of u's e-mail address.
func (u *User) EmailDomain() string {
	_, d, ok := strings.Cut(u.Email, "@")
	if !ok {
		return ""
	}
	return strings.ToLower(d)
}

// External reports whether u is outside the organization: not a managed account, or an
// e-mail domain not listed among the corporate domains.
func (u *User) External(corporate []string) bool {
	if !u.Managed {
		return true
	}
	d := u.EmailDomain()
	for _, c := range corporate {
		if strings.EqualFold(c, d) {
			return false
		}
	}
	return true
}

// InactiveDays returns the whole days since u was last active (since added to the org when never
// active; 0 when neither is known).
func (u *User) InactiveDays(now time.Time) int {
	since := u.LastActive
	if since.IsZero() {
		since = u.AddedToOrg
	}
	if since.IsZero() || now.Before(since) {
		return 0
	}
	return int(now.Sub(since) / (24 * time.Hour))
}

// InGroup reports whether u is a member of the named group.
func (u *User) InGroup(name string) bool {
	for _, g := range u.Groups {
		if strings.EqualFold(g, name) {
			return true
		}
	}
	return false
}

// Group is an Atlassian group.
type Group struct {
	ID             string
	Name           string
	ExternalSynced bool // owned by the identity provider: jitbot may not write it
	Modifiable     bool // managementAccess.modifiable
	Users          int  // member count when known
}

// Writable reports whether jitbot may change g's membership.
func (g *Group) Writable() bool { return !g.ExternalSynced && g.Modifiable }
