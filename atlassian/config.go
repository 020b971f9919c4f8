package atlassian

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Defaults for Config.
const (
	DefaultBaseURL       = "https://api.atlassian.com"
	DefaultDirectoryID   = "-"
	DefaultRatePerMinute = 600 // 10 requests a second
	DefaultBurst         = 10
	DefaultMaxRetries    = 5
	DefaultTimeout       = 30 * time.Second
	DefaultMinBackoff    = time.Second
	DefaultMaxBackoff    = time.Minute
)

// Config configures a Client. Only OrgID and APIKey are required.
type Config struct {
	BaseURL     string // default https://api.atlassian.com; paths go under BaseURL + "/admin"
	OrgID       string // JITBOT_ATLASSIAN_ORG_ID
	DirectoryID string // JITBOT_ATLASSIAN_DIRECTORY_ID, default "-" (all directories)
	APIKey      Secret // JITBOT_ATLASSIAN_API_KEY, sent as a Bearer token

	HTTPClient *http.Client // default a client without a global timeout (Timeout applies per call)

	// RatePerMinute and Burst shape the client-side limiter. Limiter, when set, replaces it.
	RatePerMinute int
	Burst         int
	Limiter       *rate.Limiter

	MaxRetries int           // retries after the first attempt: 0 means 5, negative means none
	Timeout    time.Duration // per attempt, default 30s
	MinBackoff time.Duration // first backoff for 5xx and network errors, default 1s
	MaxBackoff time.Duration // backoff cap, default 1m

	// Sleep waits for d or until ctx is done; Now is the clock; Rand returns a float in [0,1)
	// for jitter. Tests inject them so nothing really waits.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
	Rand  func() float64

	// Observe, when set, is called after every HTTP attempt with the operation name, the HTTP
	// status (0 for a network error) and the attempt's duration.
	Observe func(op string, status int, d time.Duration)
}

func (c Config) withDefaults() (Config, error) {
	var errs []error
	if strings.TrimSpace(c.OrgID) == "" {
		errs = append(errs, errors.New("JITBOT_ATLASSIAN_ORG_ID is required"))
	}
	if strings.TrimSpace(string(c.APIKey)) == "" {
		errs = append(errs, errors.New("JITBOT_ATLASSIAN_API_KEY is required"))
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.DirectoryID == "" {
		c.DirectoryID = DefaultDirectoryID
	}
	if c.HTTPClient == nil {
		// Keep connections for the sweeper's parallel workers instead of the default two.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 16
		c.HTTPClient = &http.Client{Transport: tr}
	}
	if c.RatePerMinute <= 0 {
		c.RatePerMinute = DefaultRatePerMinute
	}
	if c.Burst <= 0 {
		c.Burst = DefaultBurst
	}
	if c.Limiter == nil {
		c.Limiter = rate.NewLimiter(rate.Limit(float64(c.RatePerMinute)/60), c.Burst)
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	} else if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Sleep == nil {
		c.Sleep = Sleep
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	return c, nil
}

// Sleep waits for d or until ctx is done, and returns ctx's error if it is (Config.Sleep's
// default).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
