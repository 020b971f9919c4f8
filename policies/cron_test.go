package policies

import "testing"

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		spec, want string
		ok         bool
	}{
		{"0 8 * * 1-5", "0 8 * * 1-5", true},
		{"*/15 * * * *", "*/15 * * * *", true},
		{"0 9 1 */3 *", "0 9 1 */3 *", true},
		{"0,30 7-19/2 1-31 JAN-dec mon-FRI", "0,30 7-19/2 1-31 JAN-dec mon-FRI", true},
		{"0 0 ? * sun", "0 0 ? * sun", true},
		{"5/10 * * * *", "5/10 * * * *", true},
		{"@every 15m", "@every 15m", true},
		{"@every 1d", "@every 24h0m0s", true},
		{"@daily", "@daily", true},
		{"@hourly", "@hourly", true},
		{"", "", false},
		{"@every", "", false},
		{"@every 0s", "", false},
		{"@every soon", "", false},
		{"@fortnightly", "", false},
		{"* * * *", "", false},
		{"* * * * * *", "", false},
		{"60 * * * *", "", false},
		{"* 24 * * *", "", false},
		{"* * 0 * *", "", false},
		{"* * 32 * *", "", false},
		{"* * * 13 *", "", false},
		{"* * * * 7", "", false},
		{"*/0 * * * *", "", false},
		{"5-1 * * * *", "", false},
		{"a * * * *", "", false},
		{"1,,2 * * * *", "", false},
		{"TZ=UTC 0 8 * * *", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := parseSchedule(tt.spec)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseSchedule(%q) = %q, %v; want %q, ok %v", tt.spec, got, err, tt.want, tt.ok)
			}
		})
	}
}
