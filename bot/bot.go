package bot

import (
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// Bot is jitbot in Slack. Create it with New, wire it as the Service's Notifier, Identity and
// Principals, and call Run.
type Bot struct {
	cfg       Config
	api       *slack.Client
	svc       *access.Service
	seen      *dedupe
	principal *principalCache
	connected atomic.Bool
	fatal     chan error
	out       *deliverer
	wake      chan struct{}
	team      atomic.Value  // string: the workspace's team ID, from auth.test
	busySlots chan struct{} // "busy" answers to clicks being sent now
}

var (
	_ access.Notifier          = (*Bot)(nil)
	_ access.Identity          = (*Bot)(nil)
	_ access.Principals        = (*Bot)(nil)
	_ access.CurrentPrincipals = (*Bot)(nil)
)

// New checks cfg and returns a Bot. It does no I/O.
func New(cfg Config) (*Bot, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// No built-in retry: a rate-limited call must not hold a worker on Retry-After. The outbox
	// retries deliveries itself; answers fall back or say so.
	api := slack.New(cfg.BotToken,
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionAppLevelToken(cfg.AppToken),
	)
	return &Bot{
		cfg:       cfg,
		api:       api,
		svc:       cfg.Service,
		seen:      newDedupe(15*time.Minute, 20000),
		principal: newPrincipalCache(cfg.PrincipalTTL),
		fatal:     make(chan error, 1),
		out:       newDeliverer(),
		wake:      make(chan struct{}, 1),
		busySlots: make(chan struct{}, 8),
	}, nil
}

// Connected reports whether the Socket Mode link is up (for /readyz).
func (b *Bot) Connected() bool { return b.connected.Load() }

// policy returns the policy in force, or nil.
func (b *Bot) policy() *access.Policy { return b.cfg.Policy() }

func (b *Bot) role(name string) *access.Role {
	if p := b.policy(); p != nil {
		return p.Role(name)
	}
	return nil
}

// noteFatal stops Run when a Web API call shows the bot token is no longer accepted.
func (b *Bot) noteFatal(err error) {
	if !isFatalAuth(err) {
		return
	}
	select {
	case b.fatal <- botTokenError(err):
	default:
	}
}
