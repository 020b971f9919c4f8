package bot

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/jitbot/jitbot/access"
)

// Resolve expands policy principals into Slack user IDs (access.Principals): user IDs (U…, W…)
// as they are, user groups (S…) through usergroups.users.list, e-mails through
// users.lookupByEmail. Results are cached briefly. A group or address Slack does not know is
// skipped with a warning; transient failures are EUNAVAILABLE errors.
func (b *Bot) Resolve(ctx context.Context, ps []string) ([]string, error) {
	return b.resolve(ctx, ps, false)
}

// ResolveCurrent is Resolve past the cache (access.CurrentPrincipals): user groups and e-mails
// are looked up in Slack now, and the cache refreshed, for decisions that count who is a
// member at this moment.
func (b *Bot) ResolveCurrent(ctx context.Context, ps []string) ([]string, error) {
	return b.resolve(ctx, ps, true)
}

func (b *Bot) resolve(ctx context.Context, ps []string, current bool) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(ids ...string) {
		for _, id := range ids {
			if id != "" && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	for _, p := range ps {
		p = strings.TrimSpace(p)
		switch access.ParsePrincipal(p) {
		case access.PrincipalUser:
			add(p)
		case access.PrincipalGroup, access.PrincipalEmail:
			ids, err := b.principal.get(p, current, func() ([]string, error) { return b.lookup(ctx, p) })
			if err != nil {
				if access.ErrorCode(err) == access.ENOTFOUND || access.ErrorCode(err) == access.EFORBIDDEN {
					zerolog.Ctx(ctx).Warn().Err(err).Str("principal", p).Msg("principal skipped")
					continue
				}
				return nil, err
			}
			add(ids...)
		default:
			if p != "" {
				zerolog.Ctx(ctx).Warn().Str("principal", p).Msg("principal is not a Slack user ID, group ID or e-mail; skipped")
			}
		}
	}
	return out, nil
}

func (b *Bot) lookup(ctx context.Context, p string) ([]string, error) {
	if access.ParsePrincipal(p) == access.PrincipalEmail {
		u, err := b.api.GetUserByEmailContext(ctx, p)
		if err != nil {
			b.noteFatal(err)
			return nil, slackError("users.lookupByEmail", err)
		}
		return []string{u.ID}, nil
	}
	ids, err := b.api.GetUserGroupMembersContext(ctx, p)
	if err != nil {
		b.noteFatal(err)
		return nil, slackError("usergroups.users.list "+p, err)
	}
	return ids, nil
}

// principalCache remembers resolved principals, and failures to resolve them, for a while.
type principalCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]principalEntry
}

type principalEntry struct {
	ids []string
	err error
	at  time.Time
}

func newPrincipalCache(ttl time.Duration) *principalCache {
	return &principalCache{ttl: ttl, now: time.Now, entries: map[string]principalEntry{}}
}

// get returns the cached IDs of key, or (when there are none, or current is set) calls fetch
// and caches what it returns. Transient errors are not cached.
func (c *principalCache) get(key string, current bool, fetch func() ([]string, error)) ([]string, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && !current && c.now().Sub(e.at) < c.ttl {
		return e.ids, e.err
	}
	ids, err := fetch()
	if err != nil && access.ErrorCode(err) == access.EUNAVAILABLE {
		return nil, err
	}
	c.mu.Lock()
	c.entries[key] = principalEntry{ids: ids, err: err, at: c.now()}
	c.mu.Unlock()
	return ids, err
}
