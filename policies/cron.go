package policies

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jitbot/jitbot/access"
)

// cronField is the bounds and names of one field of a five-field cron spec.
type cronField struct {
	name     string
	min, max int
	names    map[string]int
}

var cronFields = [5]cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: map[string]int{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	}},
	{name: "day of week", min: 0, max: 6, names: map[string]int{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
	}},
}

var cronDescriptors = []string{"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}

// parseSchedule checks a schedule and returns it as cron will be given it: @every with days is
// rewritten in hours. It accepts what robfig/cron/v3's standard parser accepts, less time zone
// prefixes (the policy's organization.timezone applies).
func parseSchedule(spec string) (string, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return "", fmt.Errorf("a schedule is missing: write a cron spec like \"0 9 * * 1-5\" or \"@every 15m\"")
	}
	if strings.HasPrefix(spec, "@") {
		if rest, ok := strings.CutPrefix(spec, "@every "); ok {
			d, err := access.ParseDuration(rest)
			if err != nil || d < time.Second {
				return "", fmt.Errorf("%q: @every needs a duration of at least 1s, like 15m, 1h or 1d", spec)
			}
			if _, err := time.ParseDuration(strings.TrimSpace(rest)); err != nil {
				return "@every " + d.String(), nil
			}
			return spec, nil
		}
		if contains(cronDescriptors, spec) {
			return spec, nil
		}
		return "", fmt.Errorf("%q is not a known descriptor: use @every DURATION, %s", spec, strings.Join(cronDescriptors, ", "))
	}
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return "", fmt.Errorf("%q has %d fields, want 5 (minute hour day-of-month month day-of-week)", spec, len(fields))
	}
	for i, f := range fields {
		if err := cronFields[i].check(f); err != nil {
			return "", fmt.Errorf("%q: %w", spec, err)
		}
	}
	return spec, nil
}

// check validates one field: a comma-separated list of *, ?, N, N-M, each with an optional /STEP.
func (c cronField) check(field string) error {
	for _, part := range strings.Split(field, ",") {
		if err := c.checkPart(part); err != nil {
			return fmt.Errorf("%s %q: %w", c.name, part, err)
		}
	}
	return nil
}

func (c cronField) checkPart(part string) error {
	rng, step, hasStep := strings.Cut(part, "/")
	if hasStep {
		n, err := strconv.Atoi(step)
		if err != nil || n <= 0 {
			return fmt.Errorf("step %q must be a positive number", step)
		}
	}
	if rng == "*" || rng == "?" {
		return nil
	}
	lo, hi, isRange := strings.Cut(rng, "-")
	a, err := c.value(lo)
	if err != nil {
		return err
	}
	if !isRange {
		return nil
	}
	b, err := c.value(hi)
	if err != nil {
		return err
	}
	if a > b {
		return fmt.Errorf("range start %d is after its end %d", a, b)
	}
	return nil
}

func (c cronField) value(s string) (int, error) {
	if v, ok := c.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if v < c.min || v > c.max {
		return 0, fmt.Errorf("%d is outside %d-%d", v, c.min, c.max)
	}
	return v, nil
}
