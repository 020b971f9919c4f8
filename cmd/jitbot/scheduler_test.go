package main

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// A schedule on the app's clock asks cron (on the real clock) to wait the schedule's next
// wait on the app's clock, converted to real time.
func TestClockSchedule_Next(t *testing.T) {
	fakeNow := time.Date(2026, 1, 5, 8, 59, 30, 0, time.UTC)
	realNow := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		spec string
		want time.Duration // real wait at 100× speed
	}{
		{"@every 10m", 6 * time.Second},
		{"0 9 * * *", 300 * time.Millisecond}, // 30 s of fake time to 09:00
		{"0 8 * * *", (23*time.Hour + 30*time.Second) / 100},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			inner, err := cron.ParseStandard(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			s := clockSchedule{Schedule: inner, now: func() time.Time { return fakeNow }, real: func(d time.Duration) time.Duration { return d / 100 }}
			if got := s.Next(realNow).Sub(realNow); got != tt.want {
				t.Errorf("next run in %s of real time, want %s", got, tt.want)
			}
		})
	}
}
