package atlassiantest

import (
	"net/http"
	"testing"
)

func TestWithoutRequestLog(t *testing.T) {
	for _, keep := range []bool{true, false} {
		var opts []Option
		if !keep {
			opts = append(opts, WithoutRequestLog())
		}
		s := NewServer(t, opts...)
		req, _ := http.NewRequest("GET", s.URL()+"/admin/v1/orgs/"+s.OrgID()+"/domains", nil)
		req.Header.Set("Authorization", "Bearer "+s.APIKey())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if s.Calls() != 1 {
			t.Errorf("keep=%v: Calls() = %d, want 1", keep, s.Calls())
		}
		if got, want := len(s.Requests()), map[bool]int{true: 1, false: 0}[keep]; got != want {
			t.Errorf("keep=%v: %d requests logged, want %d", keep, got, want)
		}
	}
}
