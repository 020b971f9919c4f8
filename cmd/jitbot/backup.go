package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/jitbot/jitbot/store"
)

// backupConfig is where and when scheduled copies of the store are written.
type backupConfig struct {
	Dir      string // JITBOT_BACKUP_DIR; empty: no scheduled copies
	Schedule string // JITBOT_BACKUP_SCHEDULE
	Keep     int    // JITBOT_BACKUP_KEEP
}

// loadBackup reads the JITBOT_BACKUP_* variables.
func loadBackup(e *env) backupConfig {
	c := backupConfig{
		Dir:      e.str("JITBOT_BACKUP_DIR", ""),
		Schedule: e.str("JITBOT_BACKUP_SCHEDULE", "@daily"),
		Keep:     7,
	}
	if _, err := cron.ParseStandard(c.Schedule); err != nil {
		e.problem("JITBOT_BACKUP_SCHEDULE", "%q is not a five-field cron spec or @every DURATION (%v)", c.Schedule, err)
	}
	if v := e.str("JITBOT_BACKUP_KEEP", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			e.problem("JITBOT_BACKUP_KEEP", "%q must be a whole number of copies, at least 1", v)
		} else {
			c.Keep = n
		}
	}
	if c.Dir != "" {
		if fi, err := os.Stat(c.Dir); err == nil && !fi.IsDir() {
			e.problem("JITBOT_BACKUP_DIR", "%q is a file; name a directory (jitbot creates it when missing)", c.Dir)
		}
	}
	return c
}

// backupPrefix and backupSuffix name scheduled copies: jitbot-20260301T090000Z.db. Only files
// named so are ever deleted by pruning.
const (
	backupPrefix     = "jitbot-"
	backupSuffix     = ".db"
	backupTimeLayout = "20060102T150405Z"
)

// backups writes scheduled copies and answers GET /backup.
type backups struct {
	db   *store.DB
	cfg  backupConfig
	log  zerolog.Logger
	now  func() time.Time
	last prometheus.Gauge
	runs *prometheus.CounterVec

	writeWindow time.Duration // GET /backup: longest wait for one write; 0: defaultHTTPLimits.write
}

func newBackups(db *store.DB, cfg backupConfig, log zerolog.Logger, now func() time.Time, reg prometheus.Registerer) *backups {
	b := &backups{db: db, cfg: cfg, log: log, now: now,
		last: prometheus.NewGauge(prometheus.GaugeOpts{Name: "jitbot_backup_last_success_timestamp_seconds", Help: "When the last scheduled backup was written (Unix time); 0 before the first."}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jitbot_backups_total", Help: "Scheduled backups by result (ok or failed)."}, []string{"result"}),
	}
	reg.MustRegister(b.last, b.runs)
	return b
}

// run writes one copy into the backup directory and deletes the oldest beyond Keep.
// errEtcdBackup answers a backup asked of a replica whose store is etcd.
var errEtcdBackup = errors.New("jitbot backups copy the bbolt store; with JITBOT_STORE=etcd the state is in the etcd cluster: take an etcd snapshot (etcdctl snapshot save)")

func (b *backups) run(ctx context.Context) error {
	if b.db == nil {
		return errEtcdBackup
	}
	name := filepath.Join(b.cfg.Dir, backupPrefix+b.now().UTC().Format(backupTimeLayout)+backupSuffix)
	err := os.MkdirAll(b.cfg.Dir, 0o700)
	if err == nil {
		err = writeCopy(name, func(w io.Writer) error {
			_, err := b.db.Backup(w, nil)
			return err
		})
	}
	if err == nil {
		err = b.prune()
	}
	if err != nil {
		b.runs.WithLabelValues("failed").Inc()
		return fmt.Errorf("backup to JITBOT_BACKUP_DIR: %w", err)
	}
	b.runs.WithLabelValues("ok").Inc()
	b.last.Set(float64(b.now().Unix()))
	zerolog.Ctx(ctx).Info().Str("file", name).Msg("backup written")
	return nil
}

// prune deletes the oldest scheduled copies so that Keep remain.
func (b *backups) prune() error {
	entries, err := os.ReadDir(b.cfg.Dir)
	if err != nil {
		return fmt.Errorf("prune backups: %w", err)
	}
	var copies []string
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, backupPrefix) || !strings.HasSuffix(n, backupSuffix) {
			continue
		}
		if _, err := time.Parse(backupTimeLayout, strings.TrimSuffix(strings.TrimPrefix(n, backupPrefix), backupSuffix)); err != nil {
			continue
		}
		copies = append(copies, n)
	}
	slices.Sort(copies) // the time layout sorts oldest first
	for len(copies) > b.cfg.Keep {
		if err := os.Remove(filepath.Join(b.cfg.Dir, copies[0])); err != nil {
			return fmt.Errorf("prune backups: %w", err)
		}
		copies = copies[1:]
	}
	return nil
}

// serveHTTP streams a consistent copy of the store, to loopback clients only: the copy holds
// every secret-free but sensitive record of who had what access, and the HTTP port is meant for
// probes and Prometheus.
func (b *backups) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !fromLoopback(r) {
		http.Error(w, "GET /backup answers only on a loopback address (127.0.0.1 or ::1); run `jitbot backup FILE` beside the bot", http.StatusForbidden)
		return
	}
	if b.db == nil {
		http.Error(w, errEtcdBackup.Error(), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s%s%s"`, backupPrefix, b.now().UTC().Format(backupTimeLayout), backupSuffix))
	window := b.writeWindow
	if window <= 0 {
		window = defaultHTTPLimits.write
	}
	_, err := b.db.Backup(&windowWriter{w: w, rc: http.NewResponseController(w), window: window}, func(size int64) {
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	})
	if err != nil {
		// Content-Length is set, so a client sees a copy cut short, never a whole one.
		b.log.Error().Err(err).Msg("GET /backup")
	}
}

// windowWriter gives each write of a long response its own deadline: a client reading a copy
// of any size steadily gets all of it, and one that stops reading is cut off after window,
// which ends the store's read transaction the copy holds. The read deadline moves with it (the
// server reads on in the background while a handler runs, and cancels the request when that
// read times out).
type windowWriter struct {
	w      io.Writer
	rc     *http.ResponseController
	window time.Duration
}

func (ww *windowWriter) Write(p []byte) (int, error) {
	until := time.Now().Add(ww.window)
	if err := ww.rc.SetWriteDeadline(until); err != nil {
		return 0, fmt.Errorf("set write deadline: %w", err)
	}
	if err := ww.rc.SetReadDeadline(until); err != nil {
		return 0, fmt.Errorf("set read deadline: %w", err)
	}
	return ww.w.Write(p)
}

// fromLoopback says whether r came from a loopback address to a loopback address, named a
// loopback host, and was not forwarded by a proxy on the same host. Headers never let a request
// in; a header a proxy sets keeps it out, since a proxy beside the bot (a sidecar) connects
// from loopback on behalf of anyone. A Host that is not loopback is a page in a browser on the
// same host that had its name resolve to 127.0.0.1 (DNS rebinding), and is refused too.
func fromLoopback(r *http.Request) bool {
	for name := range r.Header {
		if forwardedBy(name) {
			return false
		}
	}
	if !loopbackHost(r.Host) {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return false
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ta, ok := la.(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
			return false
		}
	}
	return true
}

// forwardedBy says whether a header of this (canonical) name is one a proxy adds to a request
// it forwards.
func forwardedBy(name string) bool {
	switch name {
	case "Forwarded", "Via", "X-Real-Ip", "X-Client-Ip", "True-Client-Ip", "X-Original-Forwarded-For":
		return true
	}
	return strings.HasPrefix(name, "X-Forwarded-") || strings.HasPrefix(name, "X-Envoy-")
}

// loopbackHost says whether a Host header names this host on loopback: localhost or a
// loopback address, with or without a port. A request without one (HTTP/1.0) is not from a
// browser and passes.
func loopbackHost(h string) bool {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h == "" || strings.EqualFold(h, "localhost") || strings.EqualFold(h, "localhost.") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// writeCopy writes a copy to a temporary file beside path, checks it, syncs it and renames it
// to path, so path is either the previous file or a whole, checked copy.
func writeCopy(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".jitbot-backup-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := store.CheckCopy(tmp); err != nil {
		return fmt.Errorf("write %s: the copy does not read back: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// cmdBackup writes a consistent copy of the store to FILE: from the running bot through
// GET /backup on its HTTP address, or from the bbolt file when no bot answers there.
func cmdBackup(ctx context.Context, args, environ []string, stdout io.Writer) error {
	fs := newFlags("backup", stdout)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: write `jitbot backup FILE`", errUsage)
	}
	out := fs.Arg(0)
	e := newEnv(environ)
	dbPath := e.str("JITBOT_DB_PATH", "jitbot.db")
	httpAddr := e.str("JITBOT_HTTP_ADDR", ":8080")
	if e.str("JITBOT_STORE", storeBolt) == storeEtcd {
		return &exitError{code: 1, err: errEtcdBackup}
	}
	if len(e.errs) > 0 {
		return &exitError{code: 1, err: errors.Join(e.errs...)}
	}
	if same(out, dbPath) {
		return &exitError{code: 1, err: fmt.Errorf("%s is the store itself (JITBOT_DB_PATH); name another file", out)}
	}
	if u := backupURL(httpAddr); u != "" {
		err := writeCopy(out, func(w io.Writer) error { return fetchBackup(ctx, u, w) })
		switch {
		case err == nil:
			fmt.Fprintf(stdout, "backup written to %s (from the running bot at %s)\n", out, u)
			return nil
		case !errors.Is(err, errNoBot):
			return &exitError{code: 1, err: err}
		}
	}
	if _, err := os.Stat(dbPath); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("no bot answers on JITBOT_HTTP_ADDR (%q) and there is no store at JITBOT_DB_PATH (%s): set them as the bot has them", httpAddr, dbPath)}
	}
	db, err := store.Open(dbPath, store.Options{Timeout: time.Second})
	if errors.Is(err, store.ErrLocked) {
		return &exitError{code: 1, err: fmt.Errorf("the bot holds %s but does not answer GET /backup on JITBOT_HTTP_ADDR (%q); run this where it can reach that address on loopback, or set JITBOT_HTTP_ADDR as the bot has it", dbPath, httpAddr)}
	}
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	defer db.Close()
	if err := writeCopy(out, func(w io.Writer) error { _, err := db.Backup(w, nil); return err }); err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(stdout, "backup written to %s (from %s)\n", out, dbPath)
	return nil
}

// errNoBot means nothing listens on the bot's HTTP address.
var errNoBot = errors.New("no bot answers")

// backupURL is the loopback URL of GET /backup for a bot listening on addr, or "" when the
// bot serves no HTTP.
func backupURL(addr string) string {
	if addr == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		host = "127.0.0.1" // listening on every address (or one that is not loopback): ask on loopback
	}
	return "http://" + net.JoinHostPort(host, port) + "/backup"
}

func fetchBackup(ctx context.Context, url string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return fmt.Errorf("GET %s: %w", url, errNoBot)
		}
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(msg)))
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("GET %s: the copy was cut short: %w", url, err)
	}
	return nil
}

// same says whether two paths name one file.
func same(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}
