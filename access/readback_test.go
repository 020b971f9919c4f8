package access

import (
	"fmt"
	"testing"
	"time"
)

type answeredErr bool

func (a answeredErr) Error() string  { return "answered" }
func (a answeredErr) Answered() bool { return bool(a) }

func TestGrant_RecordReadBack(t *testing.T) {
	tests := []struct {
		name               string
		addSent, present   bool
		wantHad, wantAdded bool
		want               Action
	}{
		{"absent", false, false, false, false, ActionGrantPrior},
		{"absent_after_unknown_add", true, false, false, false, ActionGrantPrior},
		{"present_no_add_reached_atlassian", false, true, true, false, ActionGrantPrior},
		// The add's own record never came: this is it, so every item given has one.
		{"present_after_unknown_add", true, true, false, true, ActionGrantItemAdded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &Grant{ID: "G", Items: []GrantItem{{Target: GroupTarget("g"), Checked: true, AddSent: tt.addSent}}}
			ev := g.RecordReadBack(0, tt.present, time.Unix(0, 0))
			it := g.Items[0]
			if it.Had != tt.wantHad || it.Added != tt.wantAdded || ev.Action != tt.want || ev.Detail == "" {
				t.Fatalf("item %+v, event %+v", it, ev)
			}
		})
	}
}

func TestRefused(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{answeredErr(true), true},
		{fmt.Errorf("give: %w", answeredErr(true)), true},
		{answeredErr(false), false},
		{Errorf(EUNAVAILABLE, "no answer"), false},
	} {
		if got := refused(tt.err); got != tt.want {
			t.Errorf("refused(%v) = %v", tt.err, got)
		}
	}
}
