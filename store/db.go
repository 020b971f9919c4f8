package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/jitbot/jitbot/access"
)

var _ access.Store = (*DB)(nil)

// Errors returned by Open, to test with errors.Is.
var (
	// ErrLocked means another process holds the database file.
	ErrLocked = errors.New("database is locked by another jitbot process")
	// ErrCorrupt means the file is not a readable jitbot database.
	ErrCorrupt = errors.New("not a readable jitbot database")
	// ErrSchema means the file was written by a newer jitbot.
	ErrSchema = errors.New("database schema is too new")
)

// Options configure Open.
type Options struct {
	// AuditKey, when set, makes the audit chain an HMAC-SHA256 chain under this key.
	AuditKey []byte
	// Timeout is how long Open waits for another process to release the file (default 1s).
	Timeout time.Duration
	// NoSync skips fsync after each commit. For tests only: a crash may lose or corrupt data.
	NoSync bool
}

// DB is a jitbot database in one bbolt file.
type DB struct {
	*KVStore // transactions, through boltBackend
	bolt     *bolt.DB
	path     string
	key      []byte
}

// Open opens or creates the database at path, creating its buckets. It returns an error
// wrapping ErrLocked when another process holds the file, ErrCorrupt when the file is not a
// readable bbolt database, and ErrSchema when it was written by a newer jitbot.
func Open(path string, opts Options) (db *DB, err error) {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	restore := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(restore)
	var bdb *bolt.DB
	defer func() {
		if r := recover(); r != nil {
			if bdb != nil {
				closeQuietly(bdb)
			}
			db, err = nil, fmt.Errorf("open %s: %w (bbolt panicked: %v); restore the file from a backup", path, ErrCorrupt, r)
		}
	}()
	bdb, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("open %s: %w (timeout %s)", path, ErrLocked, opts.Timeout)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum), errors.Is(err, bolterrors.ErrVersionMismatch):
		return nil, fmt.Errorf("open %s: %w (%v); restore the file from a backup", path, ErrCorrupt, err)
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := bdb.Update(initialize); err != nil {
		closeQuietly(bdb)
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &DB{KVStore: NewKVStore(boltBackend{bdb}, opts.AuditKey), bolt: bdb, path: path, key: opts.AuditKey}, nil
}

func closeQuietly(bdb *bolt.DB) {
	defer func() { _ = recover() }()
	_ = bdb.Close()
}

// initialize checks the schema version and creates missing buckets.
func initialize(btx *bolt.Tx) error {
	meta := btx.Bucket(bucketMeta)
	if meta == nil {
		foreign := false
		_ = btx.ForEach(func([]byte, *bolt.Bucket) error { foreign = true; return nil })
		if foreign {
			return fmt.Errorf("%w: a bbolt file with other buckets and no jitbot schema", ErrCorrupt)
		}
	}
	for _, name := range allBuckets {
		if _, err := btx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta = btx.Bucket(bucketMeta)
	v := meta.Get(keySchemaVersion)
	if v == nil {
		return meta.Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, schemaVersion))
	}
	if len(v) != 8 {
		return fmt.Errorf("%w: schema version is %d bytes long", ErrCorrupt, len(v))
	}
	got := binary.BigEndian.Uint64(v)
	if got > schemaVersion {
		return fmt.Errorf("%w: the file has schema version %d and this jitbot reads version %d at most; run a newer jitbot", ErrSchema, got, schemaVersion)
	}
	if got < 2 {
		// Version 2 added the live indexes: build them from the records, once.
		if err := buildLive(btx); err != nil {
			return fmt.Errorf("migrate schema %d to 2: %w", got, err)
		}
	}
	if got < 3 {
		// Version 3 added the history indexes: index every ended record, once.
		if err := buildHistory(boltKV{btx}); err != nil {
			return fmt.Errorf("migrate schema %d to 3: %w", got, err)
		}
	}
	if got < schemaVersion {
		return meta.Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, schemaVersion))
	}
	return nil
}

// Path returns the file the database was opened from.
func (db *DB) Path() string { return db.path }

// Close closes the file and releases its lock.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close %s: %w", db.path, err)
	}
	return nil
}

// boltBackend runs the store's transactions in bbolt, with panics (bbolt panics on some
// corrupted pages) returned as errors.
type boltBackend struct{ bolt *bolt.DB }

func (b boltBackend) Update(_ context.Context, fn func(KV) error) (err error) {
	defer guard("store update", &err)()
	return b.bolt.Update(func(btx *bolt.Tx) error { return fn(boltKV{btx}) })
}

func (b boltBackend) View(_ context.Context, fn func(KV) error) (err error) {
	defer guard("store view", &err)()
	return b.bolt.View(func(btx *bolt.Tx) error { return fn(boltKV{btx}) })
}

// view runs fn in a read-only bbolt transaction with panics recovered.
func (db *DB) view(op string, fn func(*tx) error) (err error) {
	defer guard(op, &err)()
	return db.bolt.View(func(btx *bolt.Tx) error { return fn(&tx{kv: boltKV{btx}, key: db.key}) })
}

// guard makes memory faults panic and turns a panic into an error; defer its result. The
// error blames the file only when the file is the likely cause: a memory fault (the mapped
// file is shorter or other than bbolt expects) or a panic raised inside bbolt. Any other panic
// is a bug in the code that ran in the transaction, and the error names where it happened.
func guard(op string, err *error) func() {
	restore := debug.SetPanicOnFault(true)
	return func() {
		debug.SetPanicOnFault(restore)
		r := recover()
		if r == nil {
			return
		}
		site := panicSite()
		_, fault := r.(interface{ Addr() uintptr })
		if fault || strings.HasPrefix(site, "go.etcd.io/bbolt") {
			*err = fmt.Errorf("%s: recovered panic in %s (corrupted database file?): %v", op, site, r)
			return
		}
		*err = fmt.Errorf("%s: recovered panic in %s: %v", op, site, r)
	}
}

// panicSite names the function that panicked. It is called by the deferred function that
// recovers, while the panicking frames are still on the stack: the first frame past the
// runtime's panic machinery.
func panicSite() string {
	pc := make([]uintptr, 64)
	frames := runtime.CallersFrames(pc[:runtime.Callers(3, pc)])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && !strings.HasPrefix(f.Function, "runtime."):
			return f.Function
		}
		if !more {
			return "an unknown function"
		}
	}
}

// tx is one kv transaction (bbolt or etcd) seen as an access.Tx.
type tx struct {
	kv   kv
	key  []byte
	note commitNote // what the commit tells watchers (live.go)
}

func (t *tx) bucket(name []byte) (bucket, error) {
	b := t.kv.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("%w: bucket %s is missing", ErrCorrupt, name)
	}
	return b, nil
}

// getJSON decodes the value at k into v and reports whether there was one.
func getJSON(b bucket, k []byte, v any) (bool, error) {
	data := b.Get(k)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %q: %w", k, err)
	}
	return true, nil
}

// eachJSON decodes every value of b, in key order, into a new T and calls fn with it, stopping
// at fn's first error.
func eachJSON[T any](b bucket, fn func(*T) error) error {
	return b.ForEach(func(k, v []byte) error {
		x := new(T)
		if err := json.Unmarshal(v, x); err != nil {
			return fmt.Errorf("decode %q: %w", k, err)
		}
		return fn(x)
	})
}

func putJSON(b bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

func isDue(k []byte, now time.Time) bool { return keyNanos(k) <= nanos(now) }
