package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jitbot/jitbot/access"
)

func cmdAudit(args []string, environ []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: write `jitbot audit verify` or `jitbot audit export`", errUsage)
	}
	e := newEnv(environ)
	path := e.storeConfig()
	key := e.secret("JITBOT_AUDIT_KEY", false)
	if len(e.errs) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("bad configuration:\n%w", errors.Join(e.errs...))}
	}
	switch args[0] {
	case "verify":
		if err := parseFlags(newFlags("audit verify", stdout), args[1:]); err != nil {
			return err
		}
		return auditVerify(path, []byte(key.Reveal()), stdout)
	case "export":
		fs := newFlags("audit export", stdout)
		since := fs.String("since", "", "only events newer than this duration, e.g. 24h or 7d")
		format := fs.String("format", "json", "json (JSON lines) or csv")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		var from time.Time
		if *since != "" {
			d, err := access.ParseDuration(*since)
			if err != nil {
				return fmt.Errorf("%w: --since: %v", errUsage, err)
			}
			from = time.Now().Add(-d)
		}
		if *format != "json" && *format != "csv" {
			return fmt.Errorf("%w: --format must be json or csv", errUsage)
		}
		return auditExport(path, []byte(key.Reveal()), from, *format, stdout)
	}
	return fmt.Errorf("%w: unknown audit command %q", errUsage, args[0])
}

// openReadOnly opens the configured store for reading the audit log: an existing bbolt file
// (the bot stopped; a path with no file is an error, since opening it would create an empty
// database and report on that) or the etcd prefix (any time).
func openReadOnly(path StoreConfig, key []byte) (stateStore, error) {
	if path.Kind != storeEtcd {
		if _, err := os.Stat(path.DBPath); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, &exitError{code: 1, err: fmt.Errorf("there is no jitbot database at %s (JITBOT_DB_PATH); nothing was checked", path.DBPath)}
			}
			return nil, &exitError{code: 1, err: fmt.Errorf("open %s: %w", path.DBPath, err)}
		}
	}
	db, err := openState(context.Background(), path, key, time.Second)
	if err != nil {
		return nil, &exitError{code: 1, err: err}
	}
	return db, nil
}

func auditVerify(path StoreConfig, key []byte, stdout io.Writer) error {
	db, err := openReadOnly(path, key)
	if err != nil {
		return err
	}
	defer db.Close()
	brk, n, err := db.VerifyAudit(context.Background())
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("verify audit log: %w", err)}
	}
	if brk != nil {
		return &exitError{code: 1, err: fmt.Errorf("audit chain broken at event %d: %s", brk.Seq, brk.Reason)}
	}
	fmt.Fprintf(stdout, "audit chain intact: %d events\n", n)
	base, err := db.AuditBase(context.Background())
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("verify audit log: %w", err)}
	}
	seq, hash, err := auditHead(db, base)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("verify audit log: %w", err)}
	}
	if seq > 0 {
		// The chain cannot show a copy rolled back whole to an earlier state; a head recorded
		// outside the store can.
		fmt.Fprintf(stdout, "head: event %d, hash %s (record it outside the store: a copy rolled back to an earlier state verifies intact, but ends before this event or at another hash)\n", seq, hash)
	}
	if base != nil {
		fmt.Fprintf(stdout, "the chain starts at event %d: events 1 to %d (up to %s) were pruned by the history retention (JITBOT_HISTORY_RETENTION)\n",
			base.Seq+1, base.Seq, base.Time.UTC().Format(time.RFC3339))
	}
	if len(key) == 0 {
		fmt.Fprintln(stdout, "note: JITBOT_AUDIT_KEY is not set, so the chain is plain SHA-256: it proves the order of the events, not who wrote them (anyone with the file can rewrite events and their hashes). Set JITBOT_AUDIT_KEY to make it an HMAC chain.")
	}
	return nil
}

// auditHead returns the sequence number and hash of the chain's last event (the base's when
// every event was pruned), or 0 for an empty chain.
func auditHead(db stateStore, base *access.ChainBase) (uint64, string, error) {
	var last []access.AuditEvent
	err := db.View(context.Background(), func(tx access.Tx) error {
		var err error
		last, err = tx.AuditEvents(access.AuditFilter{Limit: 1})
		return err
	})
	switch {
	case err != nil:
		return 0, "", err
	case len(last) > 0:
		return last[0].Seq, last[0].Hash, nil
	case base != nil:
		return base.Seq, base.Hash, nil
	}
	return 0, "", nil
}

func auditExport(path StoreConfig, key []byte, since time.Time, format string, stdout io.Writer) error {
	db, err := openReadOnly(path, key)
	if err != nil {
		return err
	}
	defer db.Close()
	var w func(access.AuditEvent) error
	var flush func() error
	switch format {
	case "csv":
		cw := csv.NewWriter(stdout)
		if err := cw.Write([]string{"seq", "time", "action", "actor", "subject", "role", "member", "detail", "tags", "hash"}); err != nil {
			return err
		}
		w = func(e access.AuditEvent) error {
			return cw.Write([]string{strconv.FormatUint(e.Seq, 10), e.Time.UTC().Format(time.RFC3339Nano), string(e.Action), e.Actor.String(), e.Subject, e.Role, e.Member, e.Detail, strings.Join(e.Tags, ";"), e.Hash})
		}
		flush = func() error { cw.Flush(); return cw.Error() }
	default:
		enc := json.NewEncoder(stdout)
		w = func(e access.AuditEvent) error {
			return enc.Encode(exportEvent{Seq: e.Seq, Time: e.Time.UTC(), Action: string(e.Action), Actor: e.Actor.String(), Subject: e.Subject, Role: e.Role, Member: e.Member, Detail: e.Detail, Tags: e.Tags, Hash: e.Hash})
		}
		flush = func() error { return nil }
	}
	if err := db.ExportAudit(context.Background(), since, w); err != nil {
		return fmt.Errorf("export audit log: %w", err)
	}
	return flush()
}

type exportEvent struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Action  string    `json:"action"`
	Actor   string    `json:"actor"`
	Subject string    `json:"subject"`
	Role    string    `json:"role"`
	Member  string    `json:"member"`
	Detail  string    `json:"detail"`
	Tags    []string  `json:"tags,omitempty"`
	Hash    string    `json:"hash"`
}
