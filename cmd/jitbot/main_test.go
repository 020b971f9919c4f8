package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// envRunMain makes the test binary act as the jitbot binary: the several-replica tests start
// it as `jitbot run` processes (the same code as a built binary, with the test's race
// detector, and no separate build).
const envRunMain = "JITBOT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Main(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
