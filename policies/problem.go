package policies

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong in a policy file.
type Problem struct {
	File    string
	Line    int
	Field   string // path of the field, like roles[0].max_duration; empty for syntax errors
	Message string
}

// String formats p as FILE:LINE: field: message.
func (p Problem) String() string {
	if p.Field == "" {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Field, p.Message)
}

// Errors is every problem found in a policy file. Load and Parse return it as their error.
type Errors struct {
	Problems []Problem // sorted by line
}

// Error prints one problem per line, sorted by line.
func (e *Errors) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func newErrors(problems []Problem) *Errors {
	ps := append([]Problem(nil), problems...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
	return &Errors{Problems: ps}
}
