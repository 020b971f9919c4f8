package bot

import (
	"errors"
	"time"

	"github.com/jitbot/jitbot/access"
)

// Defaults of Config.
const (
	DefaultCommand      = "/access"
	DefaultAPIURL       = "https://slack.com/api/"
	DefaultWorkers      = 8
	DefaultEventTimeout = 60 * time.Second
	DefaultQueueSize    = 4096
	DefaultDeliveryPoll = time.Minute
)

// Observer receives the bot's measurements. Methods must be cheap and safe for concurrent use.
type Observer interface {
	// Envelope counts one Socket Mode envelope of kind (slash_commands, interactive,
	// events_api), duplicates included.
	Envelope(kind string)
	// Acked records how long an envelope of kind waited between its arrival and its ack.
	Acked(kind string, d time.Duration)
	// Outbox reports the notifications waiting to be delivered and the age of the oldest.
	Outbox(waiting int, oldest time.Duration)
	// Delivered counts one notification delivered with method (chat.postMessage, chat.update).
	Delivered(method string)
	// DeliveryFailed counts one failed delivery attempt by reason (Slack's error code,
	// ratelimited, http_500, …).
	DeliveryFailed(reason string)
}

// Config configures a Bot.
type Config struct {
	BotToken string // xoxb-…, JITBOT_SLACK_BOT_TOKEN
	AppToken string // xapp-…, JITBOT_SLACK_APP_TOKEN
	APIURL   string // Web API base ending in "/"; default DefaultAPIURL
	Command  string // the slash command answered; default DefaultCommand

	Service *access.Service
	Policy  func() *access.Policy

	Workers      int           // handlers running at once; default DefaultWorkers
	QueueSize    int           // envelopes waiting for a handler; beyond it they are answered busy; default DefaultQueueSize
	EventTimeout time.Duration // deadline of one handler; default DefaultEventTimeout
	PingInterval time.Duration // Socket Mode watchdog; default slack-go's 30s
	PrincipalTTL time.Duration // how long resolved principals are cached; default 1m
	Observer     Observer      // optional
	// Now is the clock of the outbox (backoff, ages); default time.Now. Slack's pace and
	// Retry-After are kept on the real clock.
	Now func() time.Time
	// After is time.After on Now's clock, for the delivery loop's waits on it; default
	// time.After.
	After func(d time.Duration) <-chan time.Time
	// DeliveryPoll is the longest the delivery loop sleeps: it wakes when a commit puts an
	// item in the outbox and when a waiting item's time comes, so this is only the safety net
	// for clock jumps. Default DefaultDeliveryPoll; a store that does not report its commits
	// (access.Watcher) is read every 200 ms.
	DeliveryPoll time.Duration
	// DeliverElsewhere leaves the outbox delivery loop out of Run: the caller runs
	// RunDelivery instead, on one replica of several sharing the store (the leader).
	DeliverElsewhere bool
}

func (c *Config) validate() error {
	var errs []error
	if c.BotToken == "" {
		errs = append(errs, errors.New("bot: JITBOT_SLACK_BOT_TOKEN is empty"))
	}
	if c.AppToken == "" {
		errs = append(errs, errors.New("bot: JITBOT_SLACK_APP_TOKEN is empty"))
	}
	if c.Service == nil {
		errs = append(errs, errors.New("bot: Config.Service is nil"))
	}
	if c.Policy == nil {
		errs = append(errs, errors.New("bot: Config.Policy is nil"))
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	if c.APIURL[len(c.APIURL)-1] != '/' {
		c.APIURL += "/"
	}
	if c.Command == "" {
		c.Command = DefaultCommand
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.EventTimeout <= 0 {
		c.EventTimeout = DefaultEventTimeout
	}
	if c.DeliveryPoll <= 0 {
		c.DeliveryPoll = DefaultDeliveryPoll
	}
	if c.PrincipalTTL <= 0 {
		c.PrincipalTTL = time.Minute
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	return errors.Join(errs...)
}

type nopObserver struct{}

func (nopObserver) Envelope(string)             {}
func (nopObserver) Acked(string, time.Duration) {}
func (nopObserver) Outbox(int, time.Duration)   {}
func (nopObserver) Delivered(string)            {}
func (nopObserver) DeliveryFailed(string)       {}
