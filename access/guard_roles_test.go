package access_test

import (
	"testing"

	"github.com/jitbot/jitbot/access"
)

func TestGuard_Watches(t *testing.T) {
	tests := []struct {
		name string
		g    access.Guard
		want bool
	}{
		{"nothing", access.Guard{}, false},
		{"groups", access.Guard{ProtectedGroups: []string{"site-admins"}}, true},
		{"standing_role", access.Guard{StandingMembers: map[string][]string{"role:site-admin": {"a@example.com"}}}, true},
		{"standing_group_only", access.Guard{StandingMembers: map[string][]string{"site-admins": {"a@example.com"}}}, false},
		{"min_role", access.Guard{MinMembers: map[string]int{"role:org-admin": 1}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.g.Watches(); got != tt.want {
				t.Errorf("Watches() = %v", got)
			}
		})
	}
}
