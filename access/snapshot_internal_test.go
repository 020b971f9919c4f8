package access

import (
	"slices"
	"testing"
)

type srcCond string

func (c srcCond) Eval(Input) (bool, error) { return false, nil }
func (c srcCond) String() string           { return string(c) }

func TestRequiredGroups(t *testing.T) {
	tests := []struct {
		name, expr string
		want       []string
	}{
		{"atom", `"eng" in user.groups`, []string{"eng"}},
		{"single_quotes", `'eng' in user.groups`, []string{"eng"}},
		{"conjunction", `"eng" in user.groups && !("contractors" in user.groups)`, []string{"eng"}},
		{"negation_first", `!("contractors" in user.groups) && "eng" in user.groups`, []string{"eng"}},
		{"disjunction_of_groups", `("a" in user.groups || "b" in user.groups) && user.status == "active"`, []string{"a", "b"}},
		{"top_level_or_not_narrowed", `"eng" in user.groups && user.managed || user.external`, nil},
		{"negated_only", `!("eng" in user.groups)`, nil},
		{"ternary", `"eng" in user.groups ? true : user.external`, nil},
		{"macro", `user.groups.exists(g, g == "eng")`, nil},
		{"operator_in_string", `"a && b" in user.groups`, []string{"a && b"}},
		{"wrapped", `(("eng" in user.groups))`, []string{"eng"}},
		{"two_parens_groups", `("a" in user.groups) && ("b" in user.groups || user.external)`, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := requiredGroups(srcCond(tt.expr)); !slices.Equal(got, tt.want) {
				t.Errorf("requiredGroups(%s) = %q, want %q", tt.expr, got, tt.want)
			}
		})
	}
}

func TestReferencedGroups(t *testing.T) {
	got := referencedGroups(srcCond(`"eng" in user.groups && !('contractors' in user.groups) && "eng" in user.groups`))
	if !slices.Equal(got, []string{"eng", "contractors"}) {
		t.Errorf("referencedGroups = %q", got)
	}
}
