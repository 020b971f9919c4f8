package atlassian

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jitbot/jitbot/access"
)

// Verify checks the API key and organization ID with one cheap call (the first page of one
// workspace). A refused key is an EFORBIDDEN error naming JITBOT_ATLASSIAN_API_KEY, an
// organization the key cannot see one naming JITBOT_ATLASSIAN_ORG_ID; a network error or 5xx
// is EUNAVAILABLE, to retry. It does not retry itself beyond one attempt.
// A Verify that succeeds opens calls held by HoldUntilVerified.
func (c *Client) Verify(ctx context.Context) error {
	var p workspacePage
	_, err := c.doOnce(ctx, call{op: "workspaces.search", method: http.MethodPost, path: c.org("v2", "/workspaces"), body: workspaceSearch{Limit: 1}, out: &p, verify: true})
	if err == nil {
		c.unverified.Store(false)
		return nil
	}
	s, ok := asStatus(err)
	if !ok {
		return err
	}
	switch s.status {
	case http.StatusUnauthorized:
		return access.Errorf(access.EFORBIDDEN, "Atlassian refused the API key in JITBOT_ATLASSIAN_API_KEY (HTTP 401%s): create an organization API key at admin.atlassian.com → Settings → API keys and set it.", codeSuffix(s.code))
	case http.StatusForbidden, http.StatusNotFound:
		return access.Errorf(access.EFORBIDDEN, "Atlassian refused organization %s (HTTP %d%s): check JITBOT_ATLASSIAN_ORG_ID, and that JITBOT_ATLASSIAN_API_KEY is an API key of that organization.", c.cfg.OrgID, s.status, codeSuffix(s.code))
	}
	return err
}

func codeSuffix(code string) string {
	if strings.TrimSpace(code) == "" {
		return ""
	}
	return " " + code
}

// CheckResource is Resource for checks before any grant: it also confirms that an ARI written
// in the policy names a site of this organization, is not an "-admin" workspace ID (which the
// Role API refuses, bug ID-8887) and, for a site role, is the platform site ARI.
func (c *Client) CheckResource(ctx context.Context, role, resource string) (string, error) {
	id, err := c.Resource(ctx, role, resource)
	if err != nil || !strings.HasPrefix(strings.TrimSpace(resource), "ari:") {
		return id, err
	}
	role = platformRole(role)
	a, ok := parseARI(id)
	if !ok {
		return "", access.Errorf(access.EINVALID, "%s is not a site ARI of the form ari:cloud:<type>::site/<cloudId>.", id)
	}
	if a.product() != a.Type {
		return "", access.Errorf(access.EINVALID, "%s is a workspace ID the Role API refuses; write %s.", id, ari{Type: a.product(), CloudID: a.CloudID})
	}
	if siteRoles[role] && a.Type != platformType {
		return "", access.Errorf(access.EINVALID, "Role %s belongs on the site as a whole: write %s or the site host.", role, ari{Type: platformType, CloudID: a.CloudID})
	}
	c.mu.Lock()
	ws := c.workspaces
	c.mu.Unlock()
	if ws == nil {
		if ws, err = c.Workspaces(ctx); err != nil {
			return "", err
		}
	}
	var products []string
	for _, w := range ws {
		if wa, ok := parseARI(w.ID); ok && wa.CloudID == a.CloudID {
			products = append(products, wa.product())
		}
	}
	switch {
	case len(products) == 0:
		return "", access.Errorf(access.ENOTFOUND, "No site of this organization has cloud ID %s; %s.", a.CloudID, known(ws))
	case a.Type != platformType && !contains(products, a.Type):
		return "", access.Errorf(access.ENOTFOUND, "The site with cloud ID %s has no %s product; it has %s.", a.CloudID, a.Type, strings.Join(products, ", "))
	}
	return id, nil
}

// HoldUntilVerified holds every call but Verify until a key check passes: while the client
// is held, each attempt of a call is preceded by a check (one at a time), and a check that
// fails stands for the attempt, which is retried like any other or fails with an EUNAVAILABLE
// error saying why (an EFORBIDDEN one when the key or organization was refused), with nothing
// sent. jitbot run holds its client so while Atlassian does not answer the check at start-up:
// the sweeper runs (and alerts late revocations) without any call reaching an organization
// the key may not be for (a wrong organization ID answers a removal with 404, which counts as
// already removed).
func (c *Client) HoldUntilVerified() { c.unverified.Store(true) }

// checkKey returns nil when k may be sent: it is Verify's own call, the client is not held,
// or a key check now passes.
func (c *Client) checkKey(ctx context.Context, k call) *heldErr {
	if k.verify || !c.unverified.Load() {
		return nil
	}
	c.checking.Lock()
	defer c.checking.Unlock()
	if !c.unverified.Load() {
		return nil // another call's check passed meanwhile
	}
	if err := c.Verify(ctx); err != nil {
		return &heldErr{op: k.op, check: err}
	}
	return nil
}

// heldErr is a call held back by HoldUntilVerified because the key check failed: nothing was
// sent.
type heldErr struct {
	op    string
	check error // the failed key check
}

func (e *heldErr) Error() string {
	return fmt.Sprintf("%s: not sent: the Atlassian key is not verified yet: %s", e.op, access.ErrorMessage(e.check))
}

// Unwrap is the key check's error: its code says whether Atlassian refused the key
// (EFORBIDDEN) or did not answer (EUNAVAILABLE).
func (e *heldErr) Unwrap() error { return e.check }

func (e *heldErr) refused() bool { return access.ErrorCode(e.check) == access.EFORBIDDEN }

// Cause says what Atlassian did to the key check, for alerts.
func (e *heldErr) Cause() string {
	var c interface{ Cause() string }
	if errors.As(e.check, &c) {
		return c.Cause()
	}
	return "Atlassian has not answered jitbot's key check"
}

// Answered is true: nothing was sent, so nothing was applied.
func (e *heldErr) Answered() bool { return true }
