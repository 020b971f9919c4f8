package atlassian_test

import (
	"context"
	"testing"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
)

// UserByEmail matches a Slack user to an account: the address must be the account's, up to
// ASCII case. A look-alike that Unicode case folding takes for it (the Kelvin sign K, the
// long s ſ) is someone else's address, whatever the search answered.
func TestClient_UserByEmail_lookAlikes(t *testing.T) {
	f := setup(t)
	kate := f.srv.AddUser(atlassiantest.User{Email: "kate.ross@example.com", Name: "Kate"})
	ctx := context.Background()
	if u, err := f.c.UserByEmail(ctx, "Kate.Ross@EXAMPLE.com"); err != nil || u.AccountID != kate {
		t.Fatalf("ASCII case: %+v, %v; want kate", u, err)
	}
	for _, email := range []string{"\u212aate.ross@example.com", "kate.ro\u017fs@example.com"} {
		u, err := f.c.UserByEmail(ctx, email)
		if err == nil {
			t.Errorf("UserByEmail(%q) = %s; want no account", email, u.AccountID)
			continue
		}
		if code := access.ErrorCode(err); code != access.ENOTFOUND && code != access.EINVALID {
			t.Errorf("UserByEmail(%q): %v; want ENOTFOUND or EINVALID", email, err)
		}
	}
}
