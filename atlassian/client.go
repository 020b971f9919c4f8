package atlassian

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jitbot/jitbot/access"
)

var (
	_ access.Directory   = (*Client)(nil)
	_ access.Provisioner = (*Client)(nil)
	_ access.Org         = (*Client)(nil)
)

// Client calls the Atlassian Organizations REST API. It is safe for concurrent use.
type Client struct {
	cfg        Config
	calls      atomic.Int64
	unverified atomic.Bool // HoldUntilVerified: every call but Verify waits for a passing key check
	checking   sync.Mutex  // one key check at a time for held calls

	mu         sync.Mutex
	groups     map[string]access.Group // lower-cased name → group
	workspaces []Workspace             // cached for Resource
	hold       time.Time               // no request before this: Atlassian asked to wait (Retry-After)
}

// New returns a Client for cfg. It fails, naming the variables, when OrgID or APIKey is empty.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("atlassian client: %w", err)
	}
	return &Client{cfg: cfg, groups: map[string]access.Group{}}, nil
}

// Calls returns the number of HTTP requests sent so far, retries included.
func (c *Client) Calls() int64 { return c.calls.Load() }

// call is one API operation.
type call struct {
	op     string     // operation name for metrics and errors, e.g. "users.search"
	method string     // HTTP method
	path   string     // under BaseURL, starting with /admin
	query  url.Values // optional
	body   any        // JSON-encoded when not nil
	out    any        // JSON-decoded from a 2xx body when not nil
	once   bool       // no retries: the caller decides when to try again
	verify bool       // Verify's call: sent even while calls are held until verified
}

// doOnce is do without retries. A context marked access.WithoutRetries makes every call so.
func (c *Client) doOnce(ctx context.Context, k call) (int, error) {
	k.once = true
	return c.do(ctx, k)
}

// v2 returns the path of a v2 directory endpoint.
func (c *Client) v2(format string, args ...any) string {
	return fmt.Sprintf("/admin/v2/orgs/%s/directories/%s", url.PathEscape(c.cfg.OrgID), url.PathEscape(c.cfg.DirectoryID)) + fmt.Sprintf(format, args...)
}

// org returns the path of an org endpoint of the given version ("v1" or "v2").
func (c *Client) org(version, format string, args ...any) string {
	return fmt.Sprintf("/admin/%s/orgs/%s", version, url.PathEscape(c.cfg.OrgID)) + fmt.Sprintf(format, args...)
}

// do runs k with the limiter, the per-attempt timeout and bounded retries. It returns the final
// HTTP status (0 when none was received) and an *access.Error for any failure.
func (c *Client) do(ctx context.Context, k call) (int, error) {
	var body []byte
	if k.body != nil {
		b, err := json.Marshal(k.body)
		if err != nil {
			return 0, fmt.Errorf("%s: encode request: %w", k.op, err)
		}
		body = b
	}
	u := c.cfg.BaseURL + k.path
	if len(k.query) > 0 {
		u += "?" + k.query.Encode()
	}
	k.once = k.once || access.RetriesOff(ctx)
	honour := true  // wait out a hold Atlassian asked for (unless this call just did)
	unsure := false // an attempt went unanswered: a write may have been applied
	for attempt := 0; ; attempt++ {
		if held := c.checkKey(ctx, k); held != nil {
			// Not sent: the key check that stands for this attempt failed.
			if ctx.Err() != nil {
				return 0, cancelled(k.op, ctx.Err())
			}
			if held.refused() || attempt >= c.cfg.MaxRetries || k.once {
				return 0, held
			}
			if err := c.cfg.Sleep(ctx, c.backoff(attempt)); err != nil {
				return 0, cancelled(k.op, err)
			}
			continue
		}
		if err := c.wait(ctx, honour); err != nil {
			return 0, cancelled(k.op, err)
		}
		status, hdr, respBody, err := c.attempt(ctx, k, u, body)
		unsure = unsure || err != nil
		if ctx.Err() != nil {
			return status, cancelled(k.op, ctx.Err())
		}
		if err == nil && status >= 200 && status < 300 {
			if k.out != nil && len(respBody) > 0 {
				if err := json.Unmarshal(respBody, k.out); err != nil {
					return status, access.Errorf(access.EUNAVAILABLE, "Atlassian sent an unreadable answer to %s: %v.", k.op, err)
				}
			}
			return status, nil
		}
		delay, retry := c.retryDelay(attempt, status, hdr, err)
		// A wait asked for by Retry-After holds every later request of this client, including
		// the next call after this one gives up: no retry comes sooner than asked.
		asked, hasWait := time.Duration(0), false
		if status == http.StatusTooManyRequests || status >= 500 {
			asked, hasWait = c.serverWait(hdr)
		}
		if hasWait {
			c.holdFor(asked)
		}
		if !retry || attempt >= c.cfg.MaxRetries || k.once {
			if err != nil {
				return status, &netErr{op: k.op, err: access.Errorf(access.EUNAVAILABLE, "Atlassian could not be reached for %s after %d attempts: %v.", k.op, attempt+1, err)}
			}
			serr := statusError(k.op, status, respBody, attempt+1, c.cfg.APIKey)
			serr.unsure = unsure
			return status, serr
		}
		if err := c.cfg.Sleep(ctx, delay); err != nil {
			return status, cancelled(k.op, err)
		}
		honour = !hasWait // delay already covers the wait asked for
	}
}

// holdFor keeps every request of c back for d from now, unless a longer hold is in place.
func (c *Client) holdFor(d time.Duration) {
	until := c.cfg.Now().Add(d)
	c.mu.Lock()
	if until.After(c.hold) {
		c.hold = until
	}
	c.mu.Unlock()
}

// wait takes a token from the limiter, sleeping through the injected Sleep when none is free.
// With honour set it first waits out a hold Atlassian asked for (see holdFor).
func (c *Client) wait(ctx context.Context, honour bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if honour {
		c.mu.Lock()
		until := c.hold
		c.mu.Unlock()
		if d := until.Sub(c.cfg.Now()); d > 0 {
			if err := c.cfg.Sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	now := c.cfg.Now()
	r := c.cfg.Limiter.ReserveN(now, 1)
	if !r.OK() {
		return errors.New("rate limiter burst is zero")
	}
	if d := r.DelayFrom(now); d > 0 {
		if err := c.cfg.Sleep(ctx, d); err != nil {
			r.CancelAt(c.cfg.Now())
			return err
		}
	}
	return nil
}

// attempt sends one HTTP request with the per-attempt timeout.
func (c *Client) attempt(ctx context.Context, k call, u string, body []byte) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, u, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+string(c.cfg.APIKey))
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	c.calls.Add(1)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		c.observe(k.op, 0, time.Since(start))
		return 0, nil, nil, scrub(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	c.observe(k.op, resp.StatusCode, time.Since(start))
	if err != nil {
		return 0, nil, nil, scrub(err)
	}
	return resp.StatusCode, resp.Header, b, nil
}

func (c *Client) observe(op string, status int, d time.Duration) {
	if c.cfg.Observe != nil {
		c.cfg.Observe(op, status, d)
	}
}

// scrub drops the URL from a transport error (it never holds the key, but keeps messages short).
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// cancelled reports that the caller's context ended; errors.Is finds the context error.
func cancelled(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, access.Errorf(access.EUNAVAILABLE, "The Atlassian call %s was cancelled or timed out.", op), err)
}

// escape escapes one path segment.
func escape(s string) string { return url.PathEscape(s) }
