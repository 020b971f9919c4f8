// Command benchreport writes BENCHMARKS.md and its plots from what scripts/benchmarks
// measured: the `go test -bench` output (bench.txt), the crash suite's log (crash.txt), the
// soak's samples (soak.csv) and a description of the machine (machine.txt).
//
//	go run . -in DIR -out REPO
//
// It is its own Go module so that the plotting library (gonum.org/v1/plot) never enters
// jitbot's module graph. It measures nothing itself: every figure it writes is read from DIR.
package main
