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
	return b.resolve(ctx, ps, -1)
}

// ResolveCurrent is Resolve past the cache (access.CurrentPrincipals): user groups and e-mails
// are looked up in Slack now, and the cache refreshed, for decisions that count who is a
// member at this moment.
func (b *Bot) ResolveCurrent(ctx context.Context, ps []string) ([]string, error) {
	return b.resolve(ctx, ps, 0)
}

// ResolveRecent is Resolve from lookups no older than within, or under way
// (access.RecentPrincipals): a reviewer's burst of clicks shares one lookup.
func (b *Bot) ResolveRecent(ctx context.Context, ps []string, within time.Duration) ([]string, error) {
	return b.resolve(ctx, ps, max(within, time.Nanosecond))
}

// resolve expands ps from lookups younger than maxAge (-1: the cache's ttl; 0: none, past the
// cache).
func (b *Bot) resolve(ctx context.Context, ps []string, maxAge time.Duration) ([]string, error) {
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
			ids, err := b.principal.get(p, maxAge, func() ([]string, error) { return b.lookup(ctx, p) })
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

	mu       sync.Mutex
	entries  map[string]principalEntry
	inflight map[string]*principalCall // lookups under way, shared with recent ones (maxAge > 0)
}

// principalCall is a lookup under way; done is closed once ids and err are set.
type principalCall struct {
	done chan struct{}
	ids  []string
	err  error
}

type principalEntry struct {
	ids []string
	err error
	at  time.Time
}

func newPrincipalCache(ttl time.Duration) *principalCache {
	return &principalCache{ttl: ttl, now: time.Now, entries: map[string]principalEntry{}, inflight: map[string]*principalCall{}}
}

// get returns the IDs of key from a lookup younger than maxAge (-1: the ttl), or else, when
// maxAge > 0, from the lookup under way; otherwise it calls fetch and caches what it returns
// (maxAge 0: always, for decisions that count who is a member at this moment). Transient
// errors are not cached.
func (c *principalCache) get(key string, maxAge time.Duration, fetch func() ([]string, error)) ([]string, error) {
	if maxAge < 0 {
		maxAge = c.ttl
	}
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && c.now().Sub(e.at) < maxAge {
		c.mu.Unlock()
		return e.ids, e.err
	}
	if call, ok := c.inflight[key]; ok && maxAge > 0 {
		c.mu.Unlock()
		<-call.done
		return call.ids, call.err
	}
	call := &principalCall{done: make(chan struct{}), err: access.Errorf(access.EUNAVAILABLE, "Slack could not be asked who %s is.", key)}
	c.inflight[key] = call
	c.mu.Unlock()
	defer func() { // also when fetch panics: the call ends, unavailable, for whoever waits
		c.mu.Lock()
		if c.inflight[key] == call {
			delete(c.inflight, key)
		}
		c.mu.Unlock()
		close(call.done)
	}()
	ids, err := fetch()
	if err != nil && access.ErrorCode(err) == access.EUNAVAILABLE {
		call.err = err
		return nil, err
	}
	c.mu.Lock()
	c.entries[key] = principalEntry{ids: ids, err: err, at: c.now()}
	c.mu.Unlock()
	call.ids, call.err = ids, err
	return ids, err
}
