package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

func main() {
	in := flag.String("in", "", "directory scripts/benchmarks wrote its measurements to")
	out := flag.String("out", ".", "the repository: BENCHMARKS.md and docs/benchmarks/ are written there")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" {
		return fmt.Errorf("-in is required")
	}
	benches, err := readBenches(filepath.Join(in, "bench.txt"))
	if err != nil {
		return err
	}
	machine, err := os.ReadFile(filepath.Join(in, "machine.txt"))
	if err != nil {
		return fmt.Errorf("read machine description: %w", err)
	}
	crash, err := readCrash(filepath.Join(in, "crash.txt"))
	if err != nil {
		return err
	}
	soak, err := readCSV(filepath.Join(in, "soak.csv"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, "docs", "benchmarks"), 0o755); err != nil {
		return err
	}
	if err := soakPlots(soak, filepath.Join(out, "docs", "benchmarks")); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(out, "BENCHMARKS.md"))
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	if err := write(w, benches, string(machine), crash, soak); err != nil {
		return err
	}
	return w.Flush()
}

// result is one benchmark's metrics by unit ("ns/op", "p99-lag-ms", …).
type result map[string]float64

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+(\d+)\s+(.*)$`)

// readBenches reads `go test -bench` output; results are keyed "pkg BenchmarkName/sub".
func readBenches(path string) (map[string]result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read benchmarks: %w", err)
	}
	defer f.Close()
	out := map[string]result{}
	pkg := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), "github.com/jitbot/jitbot/")
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		r := result{}
		fields := strings.Fields(m[4])
		for i := 0; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				r[fields[i+1]] = v
			}
		}
		out[pkg+" "+m[1]] = r
	}
	return out, sc.Err()
}

// crashRun is what the crash suite printed: its counters line and its trials' outcomes.
type crashRun struct {
	counters     string
	seed         string
	pass, fail   int
	storePass    int
	storeTests   int
	failedTrials []string
}

var (
	countersLine = regexp.MustCompile(`crash suite counters: (.*)$`)
	seedLine     = regexp.MustCompile(`crash suite: (\d+) trials from seed (\d+)`)
	trialLine    = regexp.MustCompile(`--- (PASS|FAIL): TestCrash/trials/(seed_\d+)`)
	storeLine    = regexp.MustCompile(`--- (PASS|FAIL|SKIP): TestCrash_(\w+) \(`)
)

func readCrash(path string) (crashRun, error) {
	var c crashRun
	data, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read crash suite log: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if m := countersLine.FindStringSubmatch(line); m != nil {
			c.counters = m[1]
		}
		if m := seedLine.FindStringSubmatch(line); m != nil {
			c.seed = m[2]
		}
		if m := trialLine.FindStringSubmatch(line); m != nil {
			if m[1] == "PASS" {
				c.pass++
			} else {
				c.fail++
				c.failedTrials = append(c.failedTrials, m[2])
			}
		}
		if m := storeLine.FindStringSubmatch(line); m != nil {
			c.storeTests++
			if m[1] == "PASS" {
				c.storePass++
			}
		}
	}
	if c.counters == "" {
		return c, fmt.Errorf("%s has no counters line: did the crash suite run?", path)
	}
	return c, nil
}

// table is a CSV with a header.
type table struct {
	head []string
	rows [][]float64
}

func (t table) col(name string) []float64 {
	for i, h := range t.head {
		if h == name {
			out := make([]float64, len(t.rows))
			for j, r := range t.rows {
				out[j] = r[i]
			}
			return out
		}
	}
	return nil
}

func readCSV(path string) (table, error) {
	var t table
	f, err := os.Open(path)
	if err != nil {
		return t, fmt.Errorf("read soak samples: %w", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return t, fmt.Errorf("read soak samples: %w", err)
	}
	if len(recs) < 2 {
		return t, fmt.Errorf("%s has no samples", path)
	}
	t.head = recs[0]
	for _, r := range recs[1:] {
		row := make([]float64, len(r))
		for i, s := range r {
			row[i], _ = strconv.ParseFloat(s, 64)
		}
		t.rows = append(t.rows, row)
	}
	return t, nil
}

// soakPlots draws the soak's curves against simulated minutes.
func soakPlots(t table, dir string) error {
	minute := t.col("minute")
	for _, p := range []struct {
		file, title, y string
		cols           []string
		names          []string
	}{
		{"soak_heap.png", "Soak: live heap and goroutines", "MB / count", []string{"heap_mb", "goroutines"}, []string{"live heap (MB, after GC)", "goroutines"}},
		{"soak_store.png", "Soak: store file, data in it, and live grants", "MB / grants÷100", []string{"store_mb", "store_in_use_mb", "live_grants"}, []string{"store file (MB)", "store in use (MB)", "live grants (÷100)"}},
		{"soak_lag.png", "Soak: revocation lag per simulated minute", "ms", []string{"lag_p50_ms", "lag_p99_ms", "lag_max_ms"}, []string{"p50", "p99", "max"}},
	} {
		pl := plot.New()
		pl.Title.Text = p.title
		pl.X.Label.Text = "simulated minute"
		pl.Y.Label.Text = p.y
		var args []any
		for i, c := range p.cols {
			ys := t.col(c)
			if ys == nil {
				return fmt.Errorf("soak samples have no column %s", c)
			}
			pts := make(plotter.XYs, len(ys))
			for j := range ys {
				pts[j].X, pts[j].Y = minute[j], ys[j]
				if c == "live_grants" {
					pts[j].Y /= 100
				}
			}
			args = append(args, p.names[i], pts)
		}
		if err := plotutil.AddLines(pl, args...); err != nil {
			return err
		}
		pl.Legend.Top = true
		if err := pl.Save(7*vg.Inch, 3.5*vg.Inch, filepath.Join(dir, p.file)); err != nil {
			return fmt.Errorf("plot %s: %w", p.file, err)
		}
	}
	return nil
}

// figure is one line of the report: a benchmark's metrics, what they answer to, how they were
// measured.
type figure struct {
	what, key string
	metrics   []string
	goal      string
	settings  string
	command   string
}

var figures = []figure{
	{"Ack latency, burst of 500 slash commands from 50 users", "bot BenchmarkAckLatency", []string{"p50-ack-ms", "p99-ack-ms"},
		"Slack redelivers an envelope not acked within 3 s: every ack far below that, under a burst", "real bot and slack-go over the fake Slack's websocket, in-memory domain",
		"go test -run '^$' -bench AckLatency -benchtime 1x ./bot/"},
	{"Click to grant (Approve pressed → membership given and verified)", "bot BenchmarkClickToGrant", []string{"p50-click-to-grant-ms", "p99-click-to-grant-ms"},
		"access appears seconds after the approval, not at the next sweep", "real bot over the fake Slack, in-memory domain and org",
		"go test -run '^$' -bench ClickToGrant -benchtime 1x ./bot/"},
	{"Revocation lag at 10,000 live grants, 500 ending 120 ms apart, client limit out of the way", "cmd/jitbot BenchmarkExactExpiry/rate=unlimited", []string{"p50-lag-ms", "p99-lag-ms", "max-lag-ms", "calls/grant", "throttled"},
		"p99 ≤ 1 s after a grant's end; ≤ 1.1 Atlassian calls per revocation", "sweeper on the real clock, bbolt with fsync, real client over HTTP to atlassiantest at 20 ms",
		"go test -run '^$' -bench 'ExactExpiry/rate=unlimited' -benchtime 1x ./cmd/jitbot/"},
	{"Same at the client's default 600 calls/min (the fake enforcing it)", "cmd/jitbot BenchmarkExactExpiry/rate=default", []string{"p50-lag-ms", "p99-lag-ms", "max-lag-ms", "calls/grant", "throttled"},
		"as above; both targets cannot hold at this limit with 500 ends in one minute (NOTES.md, Known gaps)", "as above, default rate limit",
		"go test -run '^$' -bench 'ExactExpiry/rate=default' -benchtime 1x ./cmd/jitbot/"},
	{"Burst: 500 due at once among 10,000 live, 4 workers", "cmd/jitbot BenchmarkRevocationLag/workers=4", []string{"p50-lag-ms", "p99-lag-ms", "pass-ms", "calls/grant"},
		"≤ 1.1 calls per revocation when many end together", "one sweep pass, bbolt, real client at 20 ms",
		"go test -run '^$' -bench RevocationLag -benchtime 1x ./cmd/jitbot/"},
	{"Same, 16 workers", "cmd/jitbot BenchmarkRevocationLag/workers=16", []string{"p50-lag-ms", "p99-lag-ms", "pass-ms", "calls/grant"},
		"as above", "as above", "as above"},
	{"Catch-up after an hour down: 5,000 overdue revocations (limit ×100, scaled to 600/min)", "cmd/jitbot BenchmarkCatchUp/grants=5000/rate=60000pm", []string{"pass-ms", "calls", "calls/grant", "s-for-5000-at-600pm", "throttled"},
		"everything that fell due while down is revoked at once, at ≈ 1 call per revocation", "one pass at start-up, bbolt, real client",
		"go test -run '^$' -bench CatchUp -benchtime 1x ./cmd/jitbot/ (JITBOT_BENCH_CATCHUP_REAL=1 adds the 8-minute run at 600/min)"},
	{"Catch-up, 50 overdue at the default 600/min", "cmd/jitbot BenchmarkCatchUp/grants=50/rate=600pm", []string{"pass-ms", "calls/grant", "throttled"},
		"as above", "as above", "as above"},
	{"Atlassian outage of 60 s with 200 grants ending in it, default rate", "cmd/jitbot BenchmarkOutageRecovery/rate=600pm", []string{"detect-ms", "first-ms", "p50-ms", "last-ms", "calls/grant"},
		"revocations resume at the first answer, without a retry storm", "sweeper on the fake clock, real client",
		"go test -run '^$' -bench OutageRecovery -benchtime 1x ./cmd/jitbot/"},
	{"Same, limit ×100", "cmd/jitbot BenchmarkOutageRecovery/rate=60000pm", []string{"detect-ms", "first-ms", "p50-ms", "last-ms", "calls/grant"},
		"as above", "as above", "as above"},
	{"Org snapshot: 100,000 users and 2,000 groups", "atlassian BenchmarkSnapshot", []string{"calls/op", "minpages", "calls/min", "peakheapMB"},
		"a sync or sweep reads the org in the minimum number of pages (calls/min = 1.00) with bounded memory", "real client over HTTP to atlassiantest, no spec validation",
		"go test -run '^$' -bench Snapshot -benchtime 1x ./atlassian/"},
	{"bbolt transitions (request, approval, grant, revocation with audit), fsync on", "store BenchmarkTransitions", []string{"transitions/s", "ns/op"},
		"each transition one durable transaction", "bbolt file in a temp dir",
		"go test -run '^$' -bench Transitions -benchtime 200x ./store/"},
	{"etcd transitions, same story", "store/etcdstore BenchmarkTransitions", []string{"transitions/s", "ns/op"},
		"each transition one etcd transaction", "the etcd store's own benchmark",
		"go test -run '^$' -bench Transitions -benchtime 200x ./store/etcdstore/"},
	{"Idle sweeper, 10,000 live grants, nothing due for an hour", "cmd/jitbot BenchmarkIdleSweeper", []string{"cpu-ms/10s"},
		"an idle bot costs nothing", "sweeper sleeping until the next due time",
		"go test -run '^$' -bench IdleSweeper -benchtime 1x ./cmd/jitbot/"},
	{"/metrics scrape at 100,000 stored grants", "cmd/jitbot BenchmarkMetricsScrape/gauges_on_change", []string{"ns/op"},
		"a scrape never scans the store", "gauges set on commit",
		"go test -run '^$' -bench MetricsScrape -benchtime 20x ./cmd/jitbot/"},
}

func write(w io.Writer, benches map[string]result, machine string, crash crashRun, soak table) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# jitbot benchmarks\n\n")
	p("Every figure below was measured by [`scripts/benchmarks`](scripts/benchmarks) on the machine\n")
	p("described here and written by [`scripts/benchreport`](scripts/benchreport/doc.go); run the script\n")
	p("again to regenerate this file and its plots on yours. Each figure is one run (`-benchtime 1x`\n")
	p("unless said), so expect run-to-run noise of tens of percent on a shared machine; the goals are\n")
	p("far enough from the figures that noise does not decide them.\n\n")
	p("## Machine\n\n```\n%s```\n\n", machine)
	p("## Figures\n\n")
	p("| what | figure | goal it answers to | settings | command |\n|---|---|---|---|---|\n")
	for _, f := range figures {
		r, ok := benches[f.key]
		val := "not measured in this run"
		if ok {
			var parts []string
			for _, m := range f.metrics {
				if v, ok := r[m]; ok {
					parts = append(parts, fmt.Sprintf("%s %s", num(v), m))
				}
			}
			val = strings.Join(parts, ", ")
		}
		cmd := "`" + f.command + "`"
		if f.command == "as above" {
			cmd = f.command
		}
		p("| %s | %s | %s | %s | %s |\n", f.what, val, f.goal, f.settings, cmd)
	}
	p("\n## Crash suite\n\n")
	p("`JITBOT_CRASH_TRIALS=%d go test -run '^TestCrash' -parallel 4 ./cmd/jitbot/` (seeds from %s; a\n", crash.pass+crash.fail, crash.seed)
	p("trial is replayed with `JITBOT_CRASH_TRIALS=1 JITBOT_CRASH_SEED=<seed>`). Each trial starts jitbot\n")
	p("as its own process against the fake Slack and fake Atlassian over real sockets, runs four\n")
	p("people's requests, approvals (a third of them double clicks), denials through the modal,\n")
	p("refused clicks by a non-approver, Revoke now and extensions, an operator's sync or sweep run, a Slack\n")
	p("`refresh_requested` or network cut in half the trials and an Atlassian 503 outage of 2–4 s in a\n")
	p("third, while the sync rule, a sweep that suspends a contractor, the guard (`on_drift: revert`) and\n")
	p("a review with a 2 s deadline run on their schedules; it kills jitbot with SIGKILL twice at random moments, checks `audit verify` on\n")
	p("the file it left, and starts it again after a random pause. At the end: Atlassian holds exactly\n")
	p("the standing state (no membership left after its grant, none removed that was there before or\n")
	p("is wanted, no removal of a wanted membership ever sent, only the contractor suspended), every\n")
	p("grant has ended, every\n")
	p("acknowledged request, approval, denial, Revoke now and extension happened (or was answered as\n")
	p("impossible), no refused click counted, every holder was told of the grant and of its end\n")
	p("(across one more restart), and the audit chain verifies. `TestCrash_storeFull` takes the\n")
	p("process's file-size limit to 0 mid-run (every write to the store fails) and checks that jitbot\n")
	p("says so and changes nothing in Atlassian (`TestCrash_storeFullEtcd`: the same with the etcd member\n")
	p("refusing every write, its NOSPACE alarm raised); `TestCrash_storeFullAtStart` starts it on `/dev/full`\n")
	p("and `TestCrash_storeReadOnlyAtStart` on a read-only store (as an unprivileged user when run as\n")
	p("root), `TestCrash_storeFullEtcdAtStart` on an etcd whose NOSPACE alarm is already raised: each\n")
	p("exits 1 saying what to fix, never ready, with no call to Atlassian. `TestCrash_atlassianOutageHour` runs jitbot on a clock 150 times faster than real time,\n")
	p("shared with the fake Atlassian, through a 503 outage of an hour of that time in which grants end,\n")
	p("approvals go on and jitbot is killed and restarted, and judges it with the trials' end checks,\n")
	p("the alerts of late steps and their recovery, and the outage probe's limits on calls.\n\n")
	p("| trials passed | trials failed | other process tests passed | counters |\n|---|---|---|---|\n")
	p("| %d | %d | %d of %d | %s |\n\n", crash.pass, crash.fail, crash.storePass, crash.storeTests, crash.counters)
	if len(crash.failedTrials) > 0 {
		p("Failed trials: %s.\n\n", strings.Join(crash.failedTrials, ", "))
	}
	p("## Soak\n\n")
	p("`JITBOT_SOAK_CSV=soak.csv go test -run '^$' -bench Soak -benchtime 1x ./cmd/jitbot/`: an hour of\n")
	p("simulated time (fake clock) through `access.Service` with a bbolt file (fsync off) and the real\n")
	p("Atlassian client over HTTP: 1,000 people, 10,000 grants of 5–30 min requested and approved at a\n")
	p("steady rate, a sweep pass every 5 simulated seconds, the sync rule every 5 simulated minutes with\n")
	p("people joining its IdP group, stored runs pruned past a 10-minute retention and history (ended\n")
	p("grants, their requests, old audit events) past a 5-minute retention every minute, through the\n")
	p("scheduler's own prune functions. Lag is the real time from the start of the sweep pass that\n")
	p("revoked a grant to its verified revocation.\n\n")
	if len(soak.rows) > 0 {
		p("| simulated minute | live heap MB | goroutines | store file MB | store in use MB | audit events kept | live grants | lag p50 ms | lag p99 ms | runs kept |\n|---|---|---|---|---|---|---|---|---|---|\n")
		n := len(soak.rows)
		for _, i := range []int{0, n / 4, n / 2, 3 * n / 4, n - 1} {
			row := func(c string) string { return num(soak.col(c)[i]) }
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", row("minute"), row("heap_mb"), row("goroutines"), row("store_mb"),
				row("store_in_use_mb"), row("audit_events_kept"), row("live_grants"), row("lag_p50_ms"), row("lag_p99_ms"), row("runs_kept"))
		}
		if r, ok := benches["cmd/jitbot BenchmarkSoak"]; ok {
			p("\nSummary (last quarter against the second): heap ×%s, goroutines %+.1f, lag p99 ×%s, store in use ×%s; store file %s MB (%s MB in use) after %s grants, %s of them pruned; %s s of real time.\n",
				num(r["heap-late/mid"]), r["goroutines-late-mid"], num(r["lag-p99-late/mid"]), num(r["in-use-late/mid"]), num(r["store-MB"]), num(r["in-use-MB"]), num(r["grants"]), num(r["grants-pruned"]), num(r["real-s"]))
		}
		p("\n![heap and goroutines](docs/benchmarks/soak_heap.png)\n\n")
		p("![store size and live grants](docs/benchmarks/soak_store.png)\n\n")
		p("![revocation lag](docs/benchmarks/soak_lag.png)\n\n")
		p("The store is bounded by retention: once the history retention's window has filled (a grant\n")
		p("lasts up to 30 minutes here, plus 5), ended grants, their requests and old audit events are\n")
		p("removed as fast as they come (`JITBOT_HISTORY_RETENTION`, default 400 days; the *audit events\n")
		p("kept* column) and stored runs likewise (`JITBOT_RUN_RETENTION`; *runs kept*). bbolt reuses the\n")
		p("freed pages and never shrinks a file, which grows by doubling: the file stays at its high-water\n")
		p("mark, and *store in use* is the data in it.\n")
	}
	return nil
}

// num writes v without needless digits.
func num(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e15:
		return strconv.FormatInt(int64(v), 10)
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}
