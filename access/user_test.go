package access_test

import (
	"testing"

	"github.com/jitbot/jitbot/access"
)

// Account.Same decides self-approval and who is left out of a request's approvers: two
// addresses that deliver to one mailbox are the same person.
func TestAccount_Same(t *testing.T) {
	alice := access.Account{ID: "acc-alice", Email: "alice@example.com"}
	for _, tt := range []struct {
		name string
		b    access.Account
		want bool
	}{
		{"same_id", access.Account{ID: "acc-alice"}, true},
		{"other_id_same_mailbox", access.Account{ID: "acc-x", Email: "alice+admin@example.com"}, true},
		{"other_id_other_mailbox", access.Account{ID: "acc-x", Email: "alicia@example.com"}, false},
		{"email_only", access.Account{Email: "alice@example.com"}, true},
		{"upper_case", access.Account{Email: "ALICE@Example.COM"}, true},
		{"plus_address", access.Account{Email: "alice+jit@example.com"}, true},
		{"trailing_dot", access.Account{Email: "alice@example.com."}, true},
		{"other_person", access.Account{Email: "alicia@example.com"}, false},
		{"other_domain", access.Account{Email: "alice@example.net"}, false},
		{"nothing_known", access.Account{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := alice.Same(tt.b); got != tt.want {
				t.Errorf("Same(%+v) = %v; want %v", tt.b, got, tt.want)
			}
			if got := tt.b.Same(alice); got != tt.want {
				t.Errorf("reversed: %+v.Same(alice) = %v; want %v", tt.b, got, tt.want)
			}
		})
	}
}
