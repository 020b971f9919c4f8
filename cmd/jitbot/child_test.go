package main

import (
	"bytes"
	"os"
	"sync"
	"testing"
)

// TestMain and syncBuffer are the same as in the slack branch's kill_test.go: drop this file
// when that lands.

// TestMain lets a test run this test binary as the jitbot process (JITBOT_TEST_CHILD=1), so
// that it can be killed with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("JITBOT_TEST_CHILD") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
