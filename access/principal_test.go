package access_test

import (
	"testing"

	"github.com/jitbot/jitbot/access"
)

func TestParsePrincipal(t *testing.T) {
	tests := []struct {
		in   string
		want access.PrincipalKind
	}{
		{"U0ALICE", access.PrincipalUser},
		{"W0PLAT2", access.PrincipalUser},
		{"S0SEC", access.PrincipalGroup},
		{"Una@example.com", access.PrincipalEmail},
		{"Walter@example.com", access.PrincipalEmail},
		{"Sam@example.co.uk", access.PrincipalEmail},
		{"it-oncall@example.com", access.PrincipalEmail},
		{"u0alice", access.PrincipalInvalid},
		{"Una", access.PrincipalInvalid},
		{"una@example", access.PrincipalInvalid},
		{"", access.PrincipalInvalid},
		{"a b@example.com", access.PrincipalInvalid},
	}
	for _, tt := range tests {
		if got := access.ParsePrincipal(tt.in); got != tt.want {
			t.Errorf("ParsePrincipal(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
