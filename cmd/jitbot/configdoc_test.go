package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docVar is one row of the environment table of docs/configuration.md.
type docVar struct{ def, meaning string }

// documentedVars reads the environment table of docs/configuration.md, leaving out HTML
// comments (rows prepared for code not merged yet).
func documentedVars(t *testing.T) map[string]docVar {
	t.Helper()
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?s)<!--.*?-->`).ReplaceAllString(string(b), "")
	row := regexp.MustCompile("(?m)^\\| `(JITBOT_[A-Z0-9_]+)` \\| ([^|]*) \\| ([^|]*) \\|$")
	vars := map[string]docVar{}
	for _, m := range row.FindAllStringSubmatch(text, -1) {
		if _, dup := vars[m[1]]; dup {
			t.Errorf("docs/configuration.md lists %s twice", m[1])
		}
		vars[m[1]] = docVar{def: m[2], meaning: m[3]}
	}
	return vars
}

// readVar is a variable as the code reads it.
type readVar struct {
	secret bool
	def    string // the literal default, when the code gives one
}

// codeVars finds every JITBOT_ variable jitbot's non-test code names, and how the env reader
// reads the ones it reads (e.str, e.url with a literal default; e.secret).
func codeVars(t *testing.T) map[string]readVar {
	t.Helper()
	name := regexp.MustCompile(`"(JITBOT_[A-Z0-9_]+)"`)
	read := regexp.MustCompile(`\b(str|url|secret)\("(JITBOT_[A-Z0-9_]+)", ("[^"]*"|true|false)`)
	vars := map[string]readVar{}
	err := filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "deploy" || d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || strings.HasSuffix(p, "sandbox.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range name.FindAllStringSubmatch(string(b), -1) {
			if _, ok := vars[m[1]]; !ok {
				vars[m[1]] = readVar{}
			}
		}
		for _, m := range read.FindAllStringSubmatch(string(b), -1) {
			v := vars[m[2]]
			switch m[1] {
			case "secret":
				v.secret = true
			default:
				v.def = strings.Trim(m[3], `"`)
			}
			vars[m[2]] = v
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// NAME_FILE is how a secret NAME is given as a file, not a variable of its own.
	for n := range vars {
		if base, ok := strings.CutSuffix(n, "_FILE"); ok {
			if _, isVar := vars[base]; isVar && vars[base].secret {
				delete(vars, n)
			}
		}
	}
	return vars
}

// TestConfigDoc: docs/configuration.md lists exactly the variables the code reads, secrets as
// secrets, with the defaults the code uses.
func TestConfigDoc(t *testing.T) {
	doc, code := documentedVars(t), codeVars(t)
	if len(doc) < 10 || len(code) < 10 {
		t.Fatalf("found %d documented and %d read variables; the parsers have lost their way", len(doc), len(code))
	}
	var missing, extra []string
	for n := range code {
		if _, ok := doc[n]; !ok {
			missing = append(missing, n)
		}
	}
	for n := range doc {
		if _, ok := code[n]; !ok {
			extra = append(extra, n)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("the code reads %v, which docs/configuration.md does not list", missing)
	}
	if len(extra) > 0 {
		t.Errorf("docs/configuration.md lists %v, which the code does not read", extra)
	}
	for n, r := range code {
		d, ok := doc[n]
		if !ok {
			continue
		}
		if r.secret != strings.Contains(d.def, "secret") {
			t.Errorf("%s: the code reads it as a secret: %v; the doc says %q", n, r.secret, d.def)
		}
		if r.def != "" && !strings.Contains(d.def, "`"+r.def+"`") {
			t.Errorf("%s: the code's default is %q; the doc says %q", n, r.def, d.def)
		}
	}
}
