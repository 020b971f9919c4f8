package atlassian_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian"
)

// TestClient_errorNeverEchoesKey: a gateway or proxy in front of Atlassian that echoes the
// request's Authorization header in its error body does not put the API key into jitbot's
// errors, which go to logs, Slack alerts and /readyz.
func TestClient_errorNeverEchoesKey(t *testing.T) {
	const key = "ATATT3xFfGF0-distinctive-api-key-7f3a"
	for _, status := range []int{http.StatusUnauthorized, http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusInternalServerError} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				auth := r.Header.Get("Authorization")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{
					"code": "GW-" + auth, "title": "Refused", "detail": "Request with Authorization: " + auth + " refused",
				}}})
			}))
			defer srv.Close()
			c, err := atlassian.New(atlassian.Config{
				BaseURL: srv.URL, OrgID: "org-1", APIKey: atlassian.Secret(key),
				Limiter: rate.NewLimiter(rate.Inf, 1), MaxRetries: -1, HTTPClient: srv.Client(),
			})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Verify(t.Context())
			if err == nil {
				t.Fatal("no error")
			}
			var cause interface{ Cause() string }
			texts := []string{err.Error(), fmt.Sprintf("%+v", err), access.ErrorMessage(err)}
			if errors.As(err, &cause) {
				texts = append(texts, cause.Cause())
			}
			for _, s := range texts {
				if strings.Contains(s, key) {
					t.Fatalf("the API key is in the error: %s", s)
				}
			}
			if !strings.Contains(access.ErrorMessage(err), "[redacted]") && status != http.StatusInternalServerError {
				t.Errorf("the gateway's detail is gone rather than redacted: %s", access.ErrorMessage(err))
			}
		})
	}
}
