package main

import "github.com/prometheus/client_golang/prometheus"

// registerReady exports jitbot_ready: 1 when Ready has no complaint, 0 otherwise, so an alert
// can say the bot is up but cannot serve (deploy/prometheus/alerts.yaml).
func (a *App) registerReady() {
	a.metrics.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "jitbot_ready", Help: "1 when the store is open, the policy loaded and Slack connected (GET /readyz is 200); 0 otherwise.",
	}, func() float64 {
		if a.Ready() != nil {
			return 0
		}
		return 1
	}))
}
