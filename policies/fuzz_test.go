package policies

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that it returns either a policy or
// *Errors. `go test` runs the seeds only; fuzz with `go test -fuzz=FuzzParse ./policies/`.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, name := range append(files, "example.yaml") {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: 1\nteams: {a: &x [U1]}\nroles: [{name: r, grants: [{group: g}], max_duration: 1h, approvers: *x}]\n"))
	f.Add([]byte("- 1\n- 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		var errs *Errors
		switch {
		case err == nil && p == nil:
			t.Fatal("Parse returned neither a policy nor an error")
		case err != nil && !errors.As(err, &errs):
			t.Fatalf("Parse error %T, want *Errors: %v", err, err)
		case err != nil && len(errs.Problems) == 0:
			t.Fatal("Parse returned *Errors without problems")
		}
	})
}
