package main

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpLimits bound what a client of the HTTP endpoints, who never authenticates, may hold: a
// connection sending its headers slowly, a request body trickled in, a response it does not
// read, a kept-alive connection it leaves idle. GET /backup streams a copy of any size, so
// write is its window per write (backups.serveHTTP), not for the whole copy.
type httpLimits struct {
	readHeader, read, write, idle time.Duration
}

var defaultHTTPLimits = httpLimits{
	readHeader: 5 * time.Second,
	read:       10 * time.Second, // no endpoint reads a body
	write:      30 * time.Second,
	idle:       60 * time.Second,
}

// newHTTPServer serves h within lim.
func newHTTPServer(h http.Handler, lim httpLimits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.readHeader,
		ReadTimeout:       lim.read,
		WriteTimeout:      lim.write,
		IdleTimeout:       lim.idle,
		MaxHeaderBytes:    64 << 10,
	}
}

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := a.Ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("GET /backup", a.backups.serveHTTP)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{}))
	return mux
}
