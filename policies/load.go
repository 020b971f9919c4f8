package policies

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // policies name IANA zones; hosts may lack a zoneinfo database

	"go.yaml.in/yaml/v3"

	"github.com/jitbot/jitbot/access"
)

// Load reads and validates the policy file at path. Problems in the file come back as *Errors
// naming path.
func Load(path string) (*access.Policy, error) {
	p, _, err := LoadWithWarnings(path)
	return p, err
}

// LoadWithWarnings is Load, also returning the warnings about a valid file (sorted by line):
// things that work but are probably not meant, such as an auto_approve that trusts the reason.
func LoadWithWarnings(path string) (*access.Policy, []Problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load policy: %w", err)
	}
	return ParseWithWarnings(path, data)
}

// Parse validates a policy file's contents; name is the file name used in problems. Every
// problem found is returned at once, as *Errors.
func Parse(name string, data []byte) (*access.Policy, error) {
	p, _, err := ParseWithWarnings(name, data)
	return p, err
}

// ParseWithWarnings is Parse, also returning the warnings about a valid file.
func ParseWithWarnings(name string, data []byte) (*access.Policy, []Problem, error) {
	d := &decoder{file: name}
	return d.parse(data)
}

func (d *decoder) parse(data []byte) (*access.Policy, []Problem, error) {
	name := d.file
	root, err := parseYAML(data)
	if err != nil {
		d.problems = append(d.problems, syntaxProblem(name, err))
		return nil, nil, newErrors(d.problems)
	}
	p := d.policy(root)
	if len(d.problems) > 0 {
		return nil, nil, newErrors(d.problems)
	}
	return p, newErrors(d.warnings).Problems, nil
}

// parseYAML returns the first document's root node, or nil for an empty file. Further
// documents are refused.
func parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("yaml: line %d: only one YAML document is allowed", next.Line)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func syntaxProblem(name string, err error) Problem {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = yamlLine.ReplaceAllString(msg, "")
	msg = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(msg), ":"))
	return Problem{File: name, Line: line, Message: "invalid YAML: " + msg}
}

func (d *decoder) policy(root *yaml.Node) *access.Policy {
	o := d.object(root, "", "version", "organization", "channels", "teams", "permissions",
		"roles", "sync", "sweeps", "reviews", "guard", "digest", "limits")
	p := &access.Policy{}
	if v, ok := d.integer(o, "version", true, 0); ok && o.fields["version"] != nil && v != 1 {
		d.add(o.fields["version"], "version", "%d is not supported: write version: 1", v)
	} else {
		p.Version = v
	}
	p.Organization = d.organization(d.object(o.fields["organization"], "organization", "domains", "timezone"))
	p.Channels = d.channels(d.object(o.fields["channels"], "channels", "audit", "alerts"))
	teams := d.teams(o)
	p.Teams = teams
	perm := d.object(o.fields["permissions"], "permissions", "auditors", "operators")
	p.Permissions = access.Permissions{
		Auditors:  d.principals(perm, "auditors", teams, false),
		Operators: d.principals(perm, "operators", teams, false),
	}
	p.Roles = d.roles(o, teams)
	if len(p.Organization.Domains) == 0 && len(p.Roles) > 0 {
		d.warn(o.line("organization"), "organization.domains",
			"is empty, so every user counts as external: nobody may request a role unless its requesters name them")
	}
	p.Guard = d.guard(d.object(o.fields["guard"], "guard",
		"protected_groups", "standing_members", "min_members", "on_drift", "schedule", "max_changes"))
	p.Sync = d.syncRules(o, p)
	p.Sweeps = d.sweeps(o)
	p.Reviews = d.reviews(o, teams)
	p.Limits = d.limits(d.object(o.fields["limits"], "limits", "pending_per_user", "break_glass_per_day"))
	p.Digest = d.digest(d.object(o.fields["digest"], "digest", "channel", "schedule"), p.Channels.Audit)
	return p
}

func (d *decoder) limits(o *object) access.Limits {
	var l access.Limits
	var ok bool
	for _, f := range []struct {
		key string
		v   *int
		def int
	}{
		{"pending_per_user", &l.PendingPerUser, access.DefaultPendingPerUser},
		{"break_glass_per_day", &l.BreakGlassPerDay, access.DefaultBreakGlassPerDay},
	} {
		if *f.v, ok = d.integer(o, f.key, false, f.def); ok && *f.v < 1 {
			d.add(o.line(f.key), child(o.path, f.key), "must be at least 1")
		}
	}
	return l
}

func (d *decoder) organization(o *object) access.Organization {
	domains, nodes := d.stringNodes(o, "domains", false)
	org := access.Organization{Domains: domains, Timezone: time.UTC}
	for i, dom := range org.Domains {
		if strings.ContainsAny(dom, "@ /") || !strings.Contains(dom, ".") {
			d.add(nodes[i], index("organization.domains", i), "%q is not a domain like example.com", dom)
		}
		org.Domains[i] = strings.ToLower(dom)
	}
	if tz, n, ok := d.scalar(o, "timezone", false); ok {
		loc, err := time.LoadLocation(tz)
		if err != nil || tz == "" || strings.EqualFold(tz, "local") {
			d.add(n, "organization.timezone", "%q is not a time zone: write an IANA name like Europe/London or UTC", tz)
		} else {
			org.Timezone = loc
		}
	}
	return org
}

func (d *decoder) channels(o *object) access.Channels {
	c := access.Channels{Audit: d.str(o, "audit", false), Alerts: d.str(o, "alerts", false)}
	if c.Alerts == "" {
		c.Alerts = c.Audit
	}
	return c
}

// schedule reads a required schedule field, returning it as cron will be given it.
func (d *decoder) schedule(o *object, key string, required bool, def string) string {
	s, n, ok := d.scalar(o, key, required)
	if !ok {
		return def
	}
	spec, err := parseSchedule(s)
	if err != nil {
		d.add(n, child(o.path, key), "%v", err)
		return def
	}
	return spec
}

// condition reads and compiles a CEL field; nil when unset or bad.
func (d *decoder) condition(o *object, key string, required bool) access.Condition {
	s, n, ok := d.scalar(o, key, required)
	if !ok {
		return nil
	}
	c, err := Compile(s)
	if err != nil {
		d.add(n, child(o.path, key), "%v", err)
		return nil
	}
	return c
}

// names checks that name is set and unique among seen (case-insensitively).
func (d *decoder) name(o *object, kind string, seen map[string]int) string {
	s, n, ok := d.scalar(o, "name", true)
	if !ok {
		return ""
	}
	field := child(o.path, "name")
	switch {
	case s == "":
		d.add(n, field, "must not be empty")
	case strings.ContainsAny(s, " \t\n"):
		d.add(n, field, "%q must be one word", s)
	default:
		key := strings.ToLower(s)
		if line, dup := seen[key]; dup {
			d.add(n, field, "duplicate %s name %q (first on line %d)", kind, s, line)
		} else {
			seen[key] = n.Line
		}
	}
	return s
}
