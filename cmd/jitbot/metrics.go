package main

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/jitbot/jitbot/access"
)

// metrics are jitbot's Prometheus metrics (README, "Operate it").
type metrics struct {
	reg            *prometheus.Registry
	revocations    *prometheus.CounterVec
	overdue        prometheus.Gauge
	lag            prometheus.Histogram
	atlassianCalls *prometheus.CounterVec
	envelopes      *prometheus.CounterVec
	ackLatency     prometheus.Histogram
	runs           *prometheus.CounterVec
	changes        *prometheus.CounterVec
	outboxWaiting  prometheus.Gauge
	outboxOldest   prometheus.Gauge
	delivered      *prometheus.CounterVec
	deliveryFailed *prometheus.CounterVec

	// Gauges of the store's live counters, set on every commit that changes them.
	active, failed, pending prometheus.Gauge
}

var _ access.Observer = (*metrics)(nil)

func newMetrics(st access.Store) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.revocations = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jitbot_revocations_total", Help: "Grant revocations by result."}, []string{"result"})
	m.overdue = prometheus.NewGauge(prometheus.GaugeOpts{Name: "jitbot_overdue_revocations", Help: "Revocations past their due time by more than the overdue threshold."})
	m.lag = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "jitbot_revocation_lag_seconds", Help: "Time from a grant's end to its verified revocation.",
		Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 900, 3600}})
	m.atlassianCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jitbot_atlassian_calls_total", Help: "Atlassian API calls by operation and HTTP status."}, []string{"operation", "status"})
	m.envelopes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jitbot_slack_envelopes_total", Help: "Socket Mode envelopes by type."}, []string{"type"})
	m.ackLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "jitbot_slack_ack_latency_seconds", Help: "Time from receiving an envelope to acknowledging it.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 3}})
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jitbot_runs_total", Help: "Sync, sweep and guard runs by rule and outcome."}, []string{"kind", "rule", "outcome"})
	m.changes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jitbot_run_changes_total", Help: "Changes applied by sync rules, sweeps and the guard."}, []string{"kind", "rule"})
	m.outboxWaiting = prometheus.NewGauge(prometheus.GaugeOpts{Name: "jitbot_slack_notifications_waiting", Help: "Slack messages in the outbox, not yet delivered."})
	m.outboxOldest = prometheus.NewGauge(prometheus.GaugeOpts{Name: "jitbot_slack_notifications_oldest_waiting_seconds", Help: "Age of the oldest Slack message waiting in the outbox."})
	m.delivered = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jitbot_slack_notifications_delivered_total", Help: "Slack messages delivered from the outbox, by Web API method."}, []string{"method"})
	m.deliveryFailed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jitbot_slack_notifications_failed_total", Help: "Failed attempts to deliver a Slack message, by reason (Slack's error code, ratelimited, http_NNN)."}, []string{"reason"})
	m.active = prometheus.NewGauge(prometheus.GaugeOpts{Name: "jitbot_active_grants", Help: "Grants giving access now."})
	m.failed = prometheus.NewGauge(prometheus.GaugeOpts{Name: "jitbot_failed_grants", Help: "Grants whose provisioning or revocation keeps failing."})
	m.pending = prometheus.NewGauge(prometheus.GaugeOpts{Name: "jitbot_pending_requests", Help: "Requests waiting for a decision."})
	m.reg.MustRegister(m.revocations, m.overdue, m.lag, m.atlassianCalls, m.envelopes, m.ackLatency, m.runs, m.changes,
		m.outboxWaiting, m.outboxOldest, m.delivered, m.deliveryFailed,
		m.active, m.failed, m.pending,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.followCounts(st)
	return m
}

// followCounts sets the live gauges from the store's counters now and after every commit
// that changes them: a scrape reads gauges, never the store.
func (m *metrics) followCounts(st access.Store) {
	if w, ok := st.(access.Watcher); ok {
		w.Watch(func(c access.Commit) {
			if c.Counts != nil {
				m.setCounts(*c.Counts)
			}
		})
	}
	var c access.LiveCounts
	if err := st.View(context.Background(), func(tx access.Tx) (err error) { c, err = tx.LiveCounts(); return err }); err == nil {
		m.setCounts(c)
	}
}

func (m *metrics) setCounts(c access.LiveCounts) {
	m.active.Set(float64(c.Grants[access.GrantActive]))
	m.failed.Set(float64(c.Grants[access.GrantFailed]))
	m.pending.Set(float64(c.Pending))
}

func (m *metrics) Revoked(result string, lag time.Duration) {
	m.revocations.WithLabelValues(result).Inc()
	m.lag.Observe(lag.Seconds())
}

func (m *metrics) Overdue(n int) { m.overdue.Set(float64(n)) }

func (m *metrics) atlassianCall(op string, status int, _ time.Duration) {
	m.atlassianCalls.WithLabelValues(op, strconv.Itoa(status)).Inc()
}

// Envelope counts a Socket Mode envelope.
func (m *metrics) Envelope(kind string) { m.envelopes.WithLabelValues(kind).Inc() }

// Acked records an envelope's ack latency.
func (m *metrics) Acked(_ string, d time.Duration) { m.ackLatency.Observe(d.Seconds()) }

// Outbox records how many Slack messages wait and how old the oldest is.
func (m *metrics) Outbox(waiting int, oldest time.Duration) {
	m.outboxWaiting.Set(float64(waiting))
	m.outboxOldest.Set(oldest.Seconds())
}

// Delivered counts a delivered Slack message.
func (m *metrics) Delivered(method string) { m.delivered.WithLabelValues(method).Inc() }

// DeliveryFailed counts a failed delivery attempt.
func (m *metrics) DeliveryFailed(reason string) { m.deliveryFailed.WithLabelValues(reason).Inc() }

func (m *metrics) run(r *access.Run) {
	if r == nil {
		return
	}
	m.runs.WithLabelValues(string(r.Kind), r.Name, string(r.Outcome)).Inc()
	n := 0
	for _, c := range r.Changes {
		if c.Done {
			n++
		}
	}
	m.changes.WithLabelValues(string(r.Kind), r.Name).Add(float64(n))
}
