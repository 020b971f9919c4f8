package policies

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// acceptedFields returns every policy field the loader accepts, from the known-field lists of
// its d.object calls: "roles[].max_duration", "guard.schedule", "version". Where the path is
// not a literal (the grants of a role) the field comes back as "*.group".
func acceptedFields(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 3 || call.Ellipsis.IsValid() {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "object" {
				return true
			}
			path := "*"
			switch p := call.Args[1].(type) {
			case *ast.BasicLit:
				path, _ = strconv.Unquote(p.Value)
			case *ast.CallExpr: // index("roles", i)
				if lit, ok := p.Args[0].(*ast.BasicLit); ok && len(p.Args) == 2 {
					s, _ := strconv.Unquote(lit.Value)
					path = s + "[]"
				}
			}
			for _, a := range call.Args[2:] {
				lit, ok := a.(*ast.BasicLit)
				if !ok {
					return true
				}
				f, _ := strconv.Unquote(lit.Value)
				if path == "" {
					out = append(out, f)
				} else {
					out = append(out, path+"."+f)
				}
			}
			return true
		})
	}
	return out
}

// TestPolicyDoc: every field the loader accepts has a row in docs/configuration.md.
func TestPolicyDoc(t *testing.T) {
	b, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_\\[\\].A-Z]+)` \\|").FindAllStringSubmatch(string(b), -1) {
		rows[m[1]] = true
	}
	fields := acceptedFields(t)
	if len(fields) < 40 {
		t.Fatalf("found %d accepted fields: %v; the scan has lost its way", len(fields), fields)
	}
	for _, f := range fields {
		switch {
		case rows[f], hasPrefixRow(rows, f+"."), hasPrefixRow(rows, f+"[]."):
			// the field, or a section documented through its fields
		case strings.HasPrefix(f, "*."):
			if !hasSuffixRow(rows, "[]"+f[1:]) {
				t.Errorf("docs/configuration.md has no row for a field %s", f[2:])
			}
		default:
			t.Errorf("docs/configuration.md has no row for policy field %s", f)
		}
	}
}

func hasSuffixRow(rows map[string]bool, suffix string) bool {
	for r := range rows {
		if strings.HasSuffix(r, suffix) {
			return true
		}
	}
	return false
}

func hasPrefixRow(rows map[string]bool, prefix string) bool {
	for r := range rows {
		if strings.HasPrefix(r, prefix) {
			return true
		}
	}
	return false
}

// TestPolicyDoc_celVariables: every field a condition can read is in the CEL table of
// docs/configuration.md.
func TestPolicyDoc_celVariables(t *testing.T) {
	b, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, cel, ok := strings.Cut(string(b), "### CEL variables")
	if !ok {
		t.Fatal("docs/configuration.md has no CEL variables section")
	}
	for _, typ := range []any{celUser{}, celRequest{}} {
		rt := reflect.TypeOf(typ)
		for i := range rt.NumField() {
			tag := rt.Field(i).Tag.Get("cel")
			if tag != "" && !strings.Contains(cel, "`"+tag+"`") {
				t.Errorf("CEL field %s.%s is not documented", rt.Name(), tag)
			}
		}
	}
}
