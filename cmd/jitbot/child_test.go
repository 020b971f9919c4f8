package main

import (
	"os"
	"testing"
)

// TestMain lets a test run this test binary as the jitbot process (JITBOT_TEST_CHILD=1), so
// that it can be killed with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("JITBOT_TEST_CHILD") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}
