package access_test

import (
	"testing"

	"github.com/jitbot/jitbot/access"
)

// TestChange_Describe: one sentence per kind of change, naming the account by e-mail, else by
// account ID, and a platform role with its resource. The audit channel, the bot and
// `jitbot plan` all use it.
func TestChange_Describe(t *testing.T) {
	dave := access.Account{ID: "acc-dave", Email: "dave@example.com"}
	noMail := access.Account{ID: "acc-x"}
	tests := []struct {
		name string
		c    access.Change
		want string
	}{
		{"add", access.Change{Op: access.OpAdd, Account: dave, Group: "jira-users", Reason: "matches rule"}, "add dave@example.com to jira-users: matches rule"},
		{"remove", access.Change{Op: access.OpRemove, Account: noMail, Group: "jira-users", Reason: "left"}, "remove acc-x from jira-users: left"},
		{"remove_role", access.Change{Op: access.OpRemove, Account: dave, Role: "site-admin", Resource: "https://x.atlassian.net", Reason: "not standing"}, "remove dave@example.com holding site-admin on https://x.atlassian.net: not standing"},
		{"report_role", access.Change{Op: access.OpReport, Account: dave, Role: "org-admin", Reason: "not standing"}, "report dave@example.com holding org-admin: not standing"},
		{"report_group", access.Change{Op: access.OpReport, Account: dave, Group: "site-admins", Reason: "drift"}, "report dave@example.com in site-admins: drift"},
		{"report", access.Change{Op: access.OpReport, Account: noMail, Reason: "inactive"}, "report acc-x: inactive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Describe(); got != tt.want {
				t.Errorf("Describe() = %q, want %q", got, tt.want)
			}
		})
	}
}
