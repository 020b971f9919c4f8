package atlassiantest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// recordingTB keeps the errors the validator reports instead of failing the test.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) joined() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

// TestSpecValidation_catchesViolations shows the validator fails a test on a request the spec
// does not allow: a removed v1 path and a v2 body in the v1 shape.
func TestSpecValidation_catchesViolations(t *testing.T) {
	rec := &recordingTB{TB: t}
	s := New(WithSpecValidation(rec))
	defer s.Close()
	group := s.AddGroup(Group{Name: "jira-software-users-example"})
	user := s.AddUser(User{Email: "alice@example.com"})
	tests := []struct {
		name, method, path, body, want string
	}{
		{"removed_v1_path", "POST", "/admin/v1/orgs/" + s.OrgID() + "/directory/groups/" + group + "/memberships", `{"account_id":"` + user + `"}`, "no route"},
		{"v1_body_on_v2", "POST", "/admin/v2/orgs/" + s.OrgID() + "/directories/-/groups/" + group + "/memberships", `{"account_id":"` + user + `"}`, "violates the spec"},
		{"limit_type", "POST", "/admin/v2/orgs/" + s.OrgID() + "/directories/-/users/search", `{"limit":"many"}`, "violates the spec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.joined())
			req, _ := http.NewRequest(tt.method, s.URL()+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+s.APIKey())
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := rec.joined()[before:]; !strings.Contains(got, tt.want) {
				t.Fatalf("validator reported %q, want %q", got, tt.want)
			}
		})
	}
}
