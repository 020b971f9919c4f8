package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jitbot/jitbot/store"
	"github.com/jitbot/jitbot/store/etcdstore"
)

// cmdMigrate copies the bbolt file at JITBOT_DB_PATH into the etcd prefix of JITBOT_ETCD_*
// (docs/configuration.md), verifies the copy key by key and the audit chain, and refuses a
// prefix that holds data.
func cmdMigrate(ctx context.Context, args, environ []string, stdout io.Writer) error {
	fs := newFlags("migrate", stdout)
	to := fs.String("to", "", "the store to copy the bbolt file into: etcd")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *to != storeEtcd {
		return fmt.Errorf("%w: write `jitbot migrate --to etcd`", errUsage)
	}
	e := newEnv(environ)
	sc := e.storeConfig()
	if sc.Kind != storeEtcd {
		// The destination is etcd whatever JITBOT_STORE says; read its settings as for etcd.
		sc.Kind = storeEtcd
		e.etcd(&sc)
	}
	key := []byte(e.secret("JITBOT_AUDIT_KEY", false).Reveal())
	if len(e.errs) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("bad configuration:\n%w", errors.Join(e.errs...))}
	}
	src, err := store.Open(sc.DBPath, store.Options{AuditKey: key, Timeout: time.Second})
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("open JITBOT_DB_PATH (stop the bot first): %w", err)}
	}
	defer src.Close()
	brk, n, err := src.VerifyAudit()
	switch {
	case err != nil:
		return &exitError{code: 1, err: fmt.Errorf("verify the audit chain of %s: %w", sc.DBPath, err)}
	case brk != nil:
		return &exitError{code: 1, err: fmt.Errorf("the audit chain of %s is broken at event %d (%s); not copying it", sc.DBPath, brk.Seq, brk.Reason)}
	}
	opts := sc.Etcd
	opts.AuditKey, opts.Password = key, sc.Password.Reveal()
	dst, err := etcdstore.Open(ctx, opts)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("open etcd (JITBOT_ETCD_ENDPOINTS): %w", err)}
	}
	defer dst.Close()
	st, err := dst.Import(ctx, src.ForEachKey)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	dbrk, dn, err := dst.VerifyAudit(ctx)
	switch {
	case err != nil:
		return &exitError{code: 1, err: fmt.Errorf("verify the audit chain in etcd: %w", err)}
	case dbrk != nil || dn != n:
		return &exitError{code: 1, err: fmt.Errorf("the audit chain in etcd does not match the file: %d events there, %d here, break %+v", n, dn, dbrk)}
	}
	fmt.Fprintf(stdout, "copied %d keys in %d buckets from %s to %s; every key read back equal; audit chain intact: %d events\n",
		st.Keys, st.Buckets, sc.DBPath, sc.describe(), dn)
	return nil
}
