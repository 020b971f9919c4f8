package bot

import (
	"fmt"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(float64(len(ds)-1) * p)
	return ds[i]
}

// BenchmarkAckLatency sends bursts of 500 slash commands from 50 users through the real
// slack-go client and the fake, and reports ack latency as the fake measured it (envelope
// written to ack read). Half the commands are answered in the ack (help), half after it (list).
func BenchmarkAckLatency(b *testing.B) {
	h := newHarness(b)
	var all []time.Duration
	b.ResetTimer()
	for range b.N {
		ctx, cancel := h.wait()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 500 {
			wg.Go(func() {
				user := fmt.Sprintf("U0B%03d", i%50)
				text := "help"
				if i%2 == 1 {
					text = "list"
				}
				ack, err := h.fake.SlashCommand(ctx, user, "/access", text)
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				all = append(all, ack.Latency)
				mu.Unlock()
			})
		}
		wg.Wait()
		cancel()
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(all, 0.50).Microseconds())/1000, "p50-ack-ms")
	b.ReportMetric(float64(percentile(all, 0.99).Microseconds())/1000, "p99-ack-ms")
}

// BenchmarkClickToGrant measures from an approver's click on Approve to the requester's
// "granted" DM, with a zero-latency fake Atlassian.
func BenchmarkClickToGrant(b *testing.B) {
	h := newHarness(b)
	var ds []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		r, err := h.svc.Submit(h.ctx, access.UserActor(alice), "jira-admin", time.Hour, "bench")
		if err != nil {
			b.Fatal(err)
		}
		dm := h.next("approval DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionApprove), bottest.Containing(r.ID)))
		b.StartTimer()
		start := time.Now()
		h.click(bob, dm, actionApprove)
		h.next("grant DM", bottest.And(h.fake.InChannel(alice), bottest.WithButton(actionRevoke), bottest.Containing(r.ID)))
		ds = append(ds, time.Since(start))
		b.StopTimer()
		if _, err := h.svc.Revoke(h.ctx, access.UserActor(alice), r.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(ds, 0.50).Microseconds())/1000, "p50-click-to-grant-ms")
	b.ReportMetric(float64(percentile(ds, 0.99).Microseconds())/1000, "p99-click-to-grant-ms")
}

// BenchmarkDelivery measures how fast the outbox delivers posts: 20 to one channel, and one
// to each of 200 channels, against the fake with Slack's rate limits (about one message per
// second per channel after a burst of 3). It reports messages delivered per second.
func BenchmarkDelivery(b *testing.B) {
	for _, tt := range []struct {
		name           string
		channels, each int
	}{
		{"one_channel", 1, 20},
		{"many_channels", 200, 1},
	} {
		b.Run(tt.name, func(b *testing.B) {
			h := newHarness(b)
			var chans []string
			for i := range tt.channels {
				ch := fmt.Sprintf("C0BENCH%03d", i)
				h.fake.AddChannel(ch)
				chans = append(chans, ch)
			}
			var total time.Duration
			b.ResetTimer()
			for n := range b.N {
				var ds []delivery
				for _, ch := range chans {
					for j := range tt.each {
						ds = append(ds, staticDelivery(ch, textMessage(fmt.Sprintf("bench %d/%d", n, j))))
					}
				}
				start := time.Now()
				if err := h.bot.enqueue(h.ctx, ds...); err != nil {
					b.Fatal(err)
				}
				for deadline := time.Now().Add(2 * time.Minute); h.outboxLen() > 0; time.Sleep(5 * time.Millisecond) {
					if time.Now().After(deadline) {
						b.Fatal("not delivered in 2 minutes")
					}
				}
				total += time.Since(start)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*tt.channels*tt.each)/total.Seconds(), "msgs/s")
		})
	}
}

// BenchmarkIdleDelivery leaves a connected bot with an empty outbox alone for 10 s and reports
// how often its delivery loop read the outbox and the process's CPU time (the fake Slack, in
// the same process, included).
func BenchmarkIdleDelivery(b *testing.B) {
	for range b.N {
		b.StopTimer()
		cs := &countingStore{}
		h := newHarness(b, withCountingStore(cs))
		time.Sleep(time.Second) // start-up: the first pass
		reads, before := cs.reads.Load(), cpuTime(b)
		b.StartTimer()
		time.Sleep(10 * time.Second)
		b.StopTimer()
		b.ReportMetric(float64(cs.reads.Load()-reads), "outbox-reads/10s")
		b.ReportMetric(float64(cpuTime(b)-before)/float64(time.Millisecond), "cpu-ms/10s")
		h.stop()
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
