package main

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/jitbot/jitbot/access"
)

// metrics are jitbot's Prometheus metrics (CONTRACT.md section 6).
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
	counts := func(status ...access.GrantStatus) func() float64 {
		return func() float64 {
			var n int
			_ = st.View(context.Background(), func(tx access.Tx) error {
				gs, err := tx.Grants(access.GrantFilter{Status: status})
				n = len(gs)
				return err
			})
			return float64(n)
		}
	}
	pending := func() float64 {
		var n int
		_ = st.View(context.Background(), func(tx access.Tx) error {
			rs, err := tx.Requests(access.RequestFilter{Status: []access.RequestStatus{access.RequestPending}})
			n = len(rs)
			return err
		})
		return float64(n)
	}
	m.reg.MustRegister(m.revocations, m.overdue, m.lag, m.atlassianCalls, m.envelopes, m.ackLatency, m.runs, m.changes,
		m.outboxWaiting, m.outboxOldest, m.delivered, m.deliveryFailed,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jitbot_active_grants", Help: "Grants giving access now."}, counts(access.GrantActive)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jitbot_failed_grants", Help: "Grants whose provisioning or revocation keeps failing."}, counts(access.GrantFailed)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jitbot_pending_requests", Help: "Requests waiting for a decision."}, pending),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
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
	m.runs.WithLabelValues(string(r.Kind), r.Name, r.Outcome).Inc()
	n := 0
	for _, c := range r.Changes {
		if c.Done {
			n++
		}
	}
	m.changes.WithLabelValues(string(r.Kind), r.Name).Add(float64(n))
}

// observedRunner runs rules through the engine and counts the runs.
type observedRunner struct {
	e *access.Engine
	m *metrics
}

func (o observedRunner) Run(ctx context.Context, kind access.RunKind, name string, dryRun bool) (*access.Run, error) {
	r, err := o.e.Run(ctx, kind, name, dryRun)
	o.m.run(r)
	return r, err
}
