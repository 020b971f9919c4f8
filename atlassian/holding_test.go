package atlassian_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
)

// TestClient_Holding: many removals read back in few users/search calls: ten accounts a call,
// or the group's listing when the group is small, and a group grown behind the client's back
// (its size as last known too small) costs no more than twice the account reads.
func TestClient_Holding(t *testing.T) {
	tests := []struct {
		name      string
		members   int // other members of the group, besides those asked about
		outside   int // members added outside the client after it learnt the group's size
		asked     int // accounts asked about, every other one still a member
		wantCalls int // users/search calls
	}{
		{"small_group_one_listing", 5, 0, 40, 1},
		{"big_group_ten_a_call", 1000, 0, 40, 4},
		{"grown_behind_our_back", 5, 1000, 40, 3 + 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			ctx := context.Background()
			group := access.GroupTarget("jira-users")
			for i := range tt.members {
				f.srv.AddMember("jira-users", f.srv.AddUser(atlassiantest.User{Email: fmt.Sprintf("m%04d@example.com", i)}))
			}
			var asked []access.Account
			for i := range tt.asked {
				a := access.Account{ID: f.srv.AddUser(atlassiantest.User{Email: fmt.Sprintf("a%04d@example.com", i)})}
				if i%2 == 0 {
					f.srv.AddMember("jira-users", a.ID)
				}
				asked = append(asked, a)
			}
			if _, err := f.c.Has(ctx, asked[0], group); err != nil { // learns the group and its size
				t.Fatal(err)
			}
			for i := range tt.outside {
				f.srv.AddMember("jira-users", f.srv.AddUser(atlassiantest.User{Email: fmt.Sprintf("o%04d@example.com", i)}))
			}
			before := len(f.srv.Requests())
			held, err := f.c.Holding(ctx, group, asked)
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			for _, r := range f.srv.Requests()[before:] {
				if r.Route == atlassiantest.RouteUsersSearch {
					calls++
				}
			}
			if calls != len(f.srv.Requests()[before:]) || calls > tt.wantCalls {
				t.Errorf("%d calls (%d users/search), want at most %d users/search", len(f.srv.Requests()[before:]), calls, tt.wantCalls)
			}
			if len(held) != len(asked) {
				t.Fatalf("%d answers for %d accounts", len(held), len(asked))
			}
			for i, a := range asked {
				if held[a.ID] != (i%2 == 0) {
					t.Errorf("account %d: holding %v, want %v", i, held[a.ID], i%2 == 0)
				}
			}
		})
	}
}
