package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/store"
)

// BenchmarkMetricsScrape: GET /metrics with 100,000 stored grants, 100 of them live. The live
// gauges are set when a commit changes the store's counters, so a scrape reads no store.
// scan_per_scrape is how the gauges were computed before (a scan of every grant and request
// per scrape), for comparison.
func BenchmarkMetricsScrape(b *testing.B) {
	const stored, live = 100_000, 100
	db, err := store.Open(filepath.Join(b.TempDir(), "jitbot.db"), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	const batch = 2000
	for lo := 0; lo < stored; lo += batch {
		err := db.Update(context.Background(), func(tx access.Tx) error {
			for i := lo; i < min(lo+batch, stored); i++ {
				at := lcT0.Add(time.Duration(i) * time.Minute)
				g := &access.Grant{ID: "G" + strconv.Itoa(i), Role: "jira-software", Holder: access.UserActor("U" + strconv.Itoa(i%500)),
					Account: access.Account{ID: "acc-" + strconv.Itoa(i%500)}, Status: access.GrantRevoked,
					Items:    []access.GrantItem{{Target: access.GroupTarget(jiraGroup), Checked: true, Added: true, Removed: true, Verified: true}},
					Duration: time.Hour, CreatedAt: at, GrantedAt: at, EndsAt: at.Add(time.Hour), EndedAt: at.Add(time.Hour)}
				if i >= stored-live {
					g.Status, g.EndedAt = access.GrantActive, time.Time{}
				}
				if err := tx.PutGrant(g); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	scrape := func(b *testing.B, h http.Handler) {
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	}
	b.Run("gauges_on_change", func(b *testing.B) {
		m := newMetrics(db)
		if got := gauges(b, m)["jitbot_active_grants"]; got != live {
			b.Fatalf("active grants gauge %v, want %d", got, live)
		}
		scrape(b, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	})
	b.Run("scan_per_scrape", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		count := func(status ...access.GrantStatus) func() float64 {
			return func() float64 {
				var n int
				_ = db.View(context.Background(), func(tx access.Tx) error {
					gs, err := tx.Grants(access.GrantFilter{Status: status})
					n = len(gs)
					return err
				})
				return float64(n)
			}
		}
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jitbot_active_grants", Help: "h"}, count(access.GrantActive)),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jitbot_failed_grants", Help: "h"}, count(access.GrantFailed)),
		)
		scrape(b, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	})
}
