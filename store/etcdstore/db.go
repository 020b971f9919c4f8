package etcdstore

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/store"
)

var (
	_ access.Store  = (*DB)(nil)
	_ store.Backend = (*backend)(nil)
)

// Errors returned by Open and Update, to test with errors.Is.
var (
	// ErrSchema means the prefix was written by a newer jitbot.
	ErrSchema = errors.New("etcd data schema is too new")
	// ErrCorrupt means a value under the prefix is not one jitbot wrote.
	ErrCorrupt = errors.New("not a jitbot value")
	// ErrTooLarge means one transaction writes more than etcd accepts in one Txn.
	ErrTooLarge = errors.New("transaction too large for one etcd Txn")
	// ErrNoSpace means the cluster's database reached its quota (the NOSPACE alarm is raised):
	// etcd refuses every write until it is compacted, defragmented and the alarm disarmed.
	ErrNoSpace = rpctypes.ErrNoSpace
)

// Options configure Open.
type Options struct {
	Endpoints []string
	// Prefix is put before every key (default "/jitbot/"), so one cluster can hold several
	// installations.
	Prefix   string
	TLS      *tls.Config
	Username string
	Password string
	// AuditKey, when set, makes the audit chain an HMAC-SHA256 chain under this key.
	AuditKey []byte
	// DialTimeout bounds Open's first contact with the cluster (default 5s).
	DialTimeout time.Duration
	// Retries is how many times an Update runs again after a conflict (default 10).
	Retries int
	// MaxTxnOps and MaxTxnBytes are the cluster's --max-txn-ops and --max-request-bytes
	// (defaults 128 and 1.5 MiB); a commit over either is refused before it is sent.
	MaxTxnOps   int
	MaxTxnBytes int
	// PageSize is how many keys a cursor fetches at a time (default 128).
	PageSize int
}

// Defaults for Options.
const (
	DefaultPrefix      = "/jitbot/"
	DefaultRetries     = 10
	DefaultMaxTxnOps   = 128
	DefaultMaxTxnBytes = 1536 * 1024
	defaultPageSize    = 128
)

// formatV1 is the first byte of every value this code writes.
const formatV1 = 1

// DB is jitbot's store in an etcd cluster. It is an access.Store; its Client is there for
// leader election.
type DB struct {
	*store.KVStore
	be       *backend
	stop     context.CancelFunc // ends watchRemote
	watching chan struct{}      // closed when watchRemote returned
}

// Open connects to the cluster, checks the prefix's schema version (recording this code's
// when the prefix is new) and returns the store. It returns an error wrapping ErrSchema when
// the prefix was written by a newer jitbot.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if len(opts.Endpoints) == 0 {
		return nil, errors.New("open etcd: no endpoints")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.Retries <= 0 {
		opts.Retries = DefaultRetries
	}
	if opts.MaxTxnOps <= 0 {
		opts.MaxTxnOps = DefaultMaxTxnOps
	}
	if opts.MaxTxnBytes <= 0 {
		opts.MaxTxnBytes = DefaultMaxTxnBytes
	}
	if opts.PageSize <= 0 {
		opts.PageSize = defaultPageSize
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:         opts.Endpoints,
		TLS:               opts.TLS,
		Username:          opts.Username,
		Password:          opts.Password,
		DialTimeout:       opts.DialTimeout,
		DialKeepAliveTime: 5 * time.Second,
		Logger:            zap.NewNop(),
		Context:           context.WithoutCancel(ctx),
	})
	if err != nil {
		return nil, fmt.Errorf("open etcd %v: %w", opts.Endpoints, hint(ctx, opts, err))
	}
	be := &backend{cli: cli, opts: opts, txnKey: opts.Prefix + "txn", data: opts.Prefix + "b/", writing: make(chan struct{}, 1), id: handleID()}
	cctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	rev, got, err := be.initialize(cctx)
	if err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("open etcd %v prefix %s: %w", opts.Endpoints, opts.Prefix, hint(ctx, opts, err))
	}
	if got < 3 {
		// Version 3 added the history index (package store, history.go): build it in Txns
		// etcd takes, leaving room for the transaction key.
		if err := store.MigrateHistory(ctx, be, opts.MaxTxnOps-8); err != nil {
			_ = cli.Close()
			return nil, fmt.Errorf("open etcd %v prefix %s: %w", opts.Endpoints, opts.Prefix, err)
		}
	}
	db := &DB{KVStore: store.NewKVStore(be, opts.AuditKey), be: be, watching: make(chan struct{})}
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	db.stop = stop
	go func() { defer close(db.watching); db.watchRemote(wctx, rev+1) }()
	return db, nil
}

// hint explains a first contact that timed out: nothing says why, and the usual causes are
// the address or the TLS settings.
func hint(ctx context.Context, opts Options, err error) error {
	if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return err
	}
	return fmt.Errorf("no answer within %s: check that the endpoints are etcd client URLs this host can reach and, for https, that the CA (JITBOT_ETCD_CA_FILE) and client certificate (JITBOT_ETCD_CERT_FILE, JITBOT_ETCD_KEY_FILE) are the cluster's (%w)", opts.DialTimeout, err)
}

// initialize records the schema version of a new prefix and refuses a newer one. It returns
// the revision it read at, from which other replicas' commits are followed, and the prefix's
// schema version.
func (be *backend) initialize(ctx context.Context) (rev int64, version uint64, err error) {
	key := be.key([]byte("meta"), []byte("schema_version"))
	want := append([]byte{formatV1}, binary.BigEndian.AppendUint64(nil, store.SchemaVersion())...)
	if _, err := be.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(want))).Commit(); err != nil {
		return 0, 0, fmt.Errorf("record schema version: %w", err)
	}
	resp, err := be.cli.Get(ctx, key)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	if len(resp.Kvs) != 1 {
		return 0, 0, fmt.Errorf("%w: schema version is missing", ErrCorrupt)
	}
	v := resp.Kvs[0].Value
	if len(v) != 9 || v[0] != formatV1 {
		return 0, 0, fmt.Errorf("%w: schema version value %x", ErrCorrupt, v)
	}
	got := binary.BigEndian.Uint64(v[1:])
	if got > store.SchemaVersion() {
		return 0, 0, fmt.Errorf("%w: the prefix has schema version %d and this jitbot reads version %d at most; run a newer jitbot", ErrSchema, got, store.SchemaVersion())
	}
	return resp.Header.Revision, got, nil
}

// Client returns the etcd client, for leader election under Prefix()+"leader/".
func (db *DB) Client() *clientv3.Client { return db.be.cli }

// Prefix returns the key prefix of this installation.
func (db *DB) Prefix() string { return db.be.opts.Prefix }

// Conflicts returns how many commits failed because another commit came first (each was
// retried on a fresh snapshot).
func (db *DB) Conflicts() uint64 { return db.be.conflicts.Load() }

// Close stops following other replicas' commits and closes the client.
func (db *DB) Close() error {
	db.stop()
	<-db.watching
	if err := db.be.cli.Close(); err != nil {
		return fmt.Errorf("close etcd: %w", err)
	}
	return nil
}

// backend runs store.KV transactions on etcd.
type backend struct {
	cli       *clientv3.Client
	opts      Options
	txnKey    string // rewritten by every commit: the global optimistic lock
	data      string // prefix of every bucket
	conflicts atomic.Uint64
	id        string        // this handle's ID, the value of the txn key after its commits
	writing   chan struct{} // holds one token while an Update of this handle runs
}

func (be *backend) key(bucket, k []byte) string {
	return be.data + string(bucket) + "/" + string(k)
}

// errConflict is a commit that lost to another one.
var errConflict = errors.New("another commit came first")

// Update runs fn on a snapshot and commits its writes if nothing was committed since; on a
// conflict it runs fn again on a fresh snapshot, at most Options.Retries times.
func (be *backend) Update(ctx context.Context, fn func(store.KV) error) error {
	// Updates of one replica go one at a time: they would conflict with each other anyway
	// (every transition appends to the one audit chain), so only other replicas' commits
	// cost retries.
	select {
	case be.writing <- struct{}{}:
		defer func() { <-be.writing }()
	case <-ctx.Done():
		return fmt.Errorf("store update: %w", ctx.Err())
	}
	for attempt := 0; ; attempt++ {
		err := be.attempt(ctx, fn)
		if !errors.Is(err, errConflict) {
			return err
		}
		be.conflicts.Add(1)
		if attempt >= be.opts.Retries {
			return fmt.Errorf("store update: %w", access.Errorf(access.ECONFLICT,
				"The change could not be saved: other changes kept coming first (%d tries). Try again.", attempt+1))
		}
		// Full-jitter exponential backoff: contenders spread out instead of colliding again.
		select {
		case <-ctx.Done():
			return fmt.Errorf("store update: %w", ctx.Err())
		case <-time.After(backoff(attempt)):
		}
	}
}

// handleID names one open handle (one replica) in the txn key's value.
func handleID() string {
	var b [8]byte
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	return fmt.Sprintf("%x", b)
}

// backoff is a random pause in [0, 2ms·2^attempt), at most 200ms.
func backoff(attempt int) time.Duration {
	limit := min(2*time.Millisecond<<min(attempt, 10), 200*time.Millisecond)
	return time.Duration(rand.Int64N(int64(limit)))
}

func (be *backend) attempt(ctx context.Context, fn func(store.KV) error) error {
	t := newTx(ctx, be, true)
	err := fn(t)
	if t.err != nil {
		return t.failure("store update")
	}
	if err != nil {
		return err
	}
	return t.commit()
}

// View runs fn on a snapshot.
func (be *backend) View(ctx context.Context, fn func(store.KV) error) error {
	for attempt := 0; ; attempt++ {
		t := newTx(ctx, be, false)
		err := fn(t)
		if t.err != nil {
			err = t.failure("store view")
			if errors.Is(err, errConflict) && attempt < be.opts.Retries {
				continue
			}
		}
		return err
	}
}
