package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// testClockEnv names the accelerated clock a test gives the jitbot it runs as a child process
// (TestMain reads it; the jitbot binary never does).
const testClockEnv = "JITBOT_TEST_CLOCK"

// testClock is an accelerated clock shared by a test and the jitbot processes it starts: at
// the wall-clock instant anchor its time was start, and it runs scale times faster than real
// time. Every process derives the same time from the wall clock when it reads the clock
// first, then runs on its own monotonic clock, so a jitbot killed and started again goes on
// from where the last one was, the fake Atlassian (atlassiantest.WithClock) sees the same time
// as jitbot, and a timer of d on it lasts d/scale.
type testClock struct {
	anchor, start time.Time // wall clock; the clock's time at anchor
	scale         float64
	mono          time.Time // real, with its monotonic reading: base was the time then
	base          time.Time
}

// newTestClock starts a clock at start that runs scale times faster from now on.
func newTestClock(start time.Time, scale float64) *testClock {
	now := time.Now()
	return &testClock{anchor: now.Round(0), start: start.Round(0), scale: scale, mono: now, base: start.Round(0)}
}

// parseTestClock reads a clock from its Env form, ANCHOR,START,SCALE (Unix nanoseconds).
func parseTestClock(spec string) (*testClock, error) {
	f := strings.Split(spec, ",")
	if len(f) != 3 {
		return nil, fmt.Errorf("%s=%q: want ANCHOR,START,SCALE", testClockEnv, spec)
	}
	anchor, err1 := strconv.ParseInt(f[0], 10, 64)
	start, err2 := strconv.ParseInt(f[1], 10, 64)
	scale, err3 := strconv.ParseFloat(f[2], 64)
	if err1 != nil || err2 != nil || err3 != nil || scale < 1 {
		return nil, fmt.Errorf("%s=%q: want ANCHOR,START,SCALE (Unix nanoseconds, scale >= 1)", testClockEnv, spec)
	}
	c := &testClock{anchor: time.Unix(0, anchor), start: time.Unix(0, start), scale: scale}
	// time.Now's wall reading, without its monotonic one, is what the other processes share.
	c.mono = time.Now()
	c.base = c.start.Add(c.scaled(c.mono.Round(0).Sub(c.anchor)))
	return c, nil
}

// Env is the clock as the child process's environment variable.
func (c *testClock) Env() string {
	return fmt.Sprintf("%s=%d,%d,%g", testClockEnv, c.anchor.UnixNano(), c.start.UnixNano(), c.scale)
}

func (c *testClock) scaled(d time.Duration) time.Duration { return time.Duration(float64(d) * c.scale) }

// Now is the clock's time: monotonic, scale times faster than real time.
func (c *testClock) Now() time.Time { return c.base.Add(c.scaled(time.Since(c.mono))).UTC() }

// At is the clock's time at the real instant t (read from time.Now in this process).
func (c *testClock) At(t time.Time) time.Time { return c.base.Add(c.scaled(t.Sub(c.mono))).UTC() }

// Real is how long d of the clock's time lasts in real time (at least 1 ns when d > 0).
func (c *testClock) Real(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return max(time.Duration(float64(d)/c.scale), 1)
}

// Sleep waits for d of the clock's time (test helpers that wait for fake time to pass).
func (c *testClock) Sleep(d time.Duration) { time.Sleep(c.Real(d)) }

// runChildOnClock is `jitbot run` in a child process whose app runs on the clock in spec: the
// sweeper, scheduled jobs, Atlassian client waits and start-up backoff all on it.
func runChildOnClock(spec string) int {
	c, err := parseTestClock(spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if len(os.Args) < 2 || os.Args[1] != "run" {
		fmt.Fprintf(os.Stderr, "%s is for `run` only, not %q\n", testClockEnv, os.Args[1:])
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return exitCode(runApp(ctx, os.Args[2:], os.Environ(), os.Stderr, appOptions{Now: c.Now, Real: c.Real}), os.Stderr)
}
