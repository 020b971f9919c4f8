package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The report carries the figures of the measurements it is given, says which were not
// measured, counts the crash suite's trials and draws the soak's plots.
func TestRun(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	files := map[string]string{
		"machine.txt": "cpu: test\n",
		"bench.txt": `goos: linux
pkg: github.com/jitbot/jitbot/bot
BenchmarkAckLatency-2   	       1	 123 ns/op	         1.500 p50-ack-ms	        40.25 p99-ack-ms
pkg: github.com/jitbot/jitbot/store
BenchmarkTransitions-2   	     200	 5000000 ns/op	       812.0 transitions/s	 1000 B/op
pkg: github.com/jitbot/jitbot/cmd/jitbot
BenchmarkSoak-2   	       1	34153266210 ns/op	         0 goroutines-late-mid	     10000 grants	      6243 grants-pruned	         1.128 heap-late/mid	        16.07 in-use-MB	         1.229 in-use-late/mid	         0.6173 lag-p99-late/mid	        34.16 real-s	        32.13 store-MB
`,
		"crash.txt": `    crash_test.go:116: crash suite: 3 trials from seed 7 (replay one with …)
    crash_test.go:128: crash suite counters: trials=3 kills=6 audit_verifies=9
--- PASS: TestCrash/trials/seed_7 (5.00s)
--- FAIL: TestCrash/trials/seed_8 (5.00s)
--- PASS: TestCrash/trials/seed_9 (5.00s)
--- PASS: TestCrash_storeFull (6.00s)
--- PASS: TestCrash_storeReadOnlyAtStart (0.10s)
    --- PASS: TestCrash_storeReadOnlyAtStart/read_only_file (0.20s)
`,
		"soak.csv": "minute,heap_mb,goroutines,store_mb,live_grants,given,revoked,lag_p50_ms,lag_p99_ms,lag_max_ms,atlassian_calls,runs_kept,history_pruned_grants,history_pruned_events,audit_events_kept,store_in_use_mb\n" +
			"1,2.5,6,2,166,166,0,0,0,0,700,0,0,0,900,1.5\n2,2.6,6,4,333,333,5,1.5,4.1,4.1,750,1,0,0,1800,3.1\n3,2.7,7,4,500,500,10,2,5,6,760,1,4,40,2100,3.4\n4,2.7,7,8,600,666,20,2,5,6,770,1,5,50,2120,3.5\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(in, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := run(in, out); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "BENCHMARKS.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"1.50 p50-ack-ms, 40.2 p99-ack-ms", // AckLatency read from its package
		"812 transitions/s",                // store's, not etcd's
		"| etcd transitions, same story | not measured in this run |",
		"| 2 | 1 | 2 of 2 | trials=3 kills=6 audit_verifies=9 |", // a subtest is not a test of its own
		"Failed trials: seed_8.",
		"heap ×1.13",
		"store in use ×1.23; store file 32.1 MB (16.1 MB in use) after 10000 grants, 6243 of them pruned",
		"| 4 | 2.70 | 7 | 8 | 3.50 | 2120 | 600 |",
		"docs/benchmarks/soak_lag.png",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("BENCHMARKS.md lacks %q:\n%s", want, md)
		}
	}
	for _, png := range []string{"soak_heap.png", "soak_store.png", "soak_lag.png"} {
		if fi, err := os.Stat(filepath.Join(out, "docs", "benchmarks", png)); err != nil || fi.Size() < 1000 {
			t.Errorf("plot %s: %v", png, err)
		}
	}
	// Without the crash suite's counters the report is refused rather than written half-empty.
	if err := os.WriteFile(filepath.Join(in, "crash.txt"), []byte("FAIL\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(in, out); err == nil || !strings.Contains(err.Error(), "counters") {
		t.Errorf("run without crash counters: %v", err)
	}
}
