package etcdstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/store"
)

// tx is one Update or View: reads at one revision, writes buffered until commit.
type tx struct {
	ctx      context.Context
	be       *backend
	writable bool
	rev      int64               // the snapshot; 0 until the first read fixes it
	writes   map[string]*[]byte  // full key -> value; nil pointer is a delete
	reads    map[string][]byte   // full key -> value at rev (nil: absent)
	pages    map[string]*page    // bucket -> the last range read of it
	buckets  map[string]*bucketV // bucket name -> its view
	err      error               // the first read that failed: the whole tx fails
}

func newTx(ctx context.Context, be *backend, writable bool) *tx {
	return &tx{
		ctx: ctx, be: be, writable: writable,
		writes: map[string]*[]byte{}, reads: map[string][]byte{}, pages: map[string]*page{}, buckets: map[string]*bucketV{},
	}
}

// fail records the first failed read; every later read returns nothing.
func (t *tx) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// failure is the error an Update or View returns after a failed read: a conflict when the
// snapshot was compacted away (run again), ctx's error, or EUNAVAILABLE.
func (t *tx) failure(op string) error {
	switch {
	case errors.Is(t.err, rpctypes.ErrCompacted):
		return errConflict
	case errors.Is(t.err, ErrCorrupt):
		return fmt.Errorf("%s: %w", op, t.err)
	case t.ctx.Err() != nil:
		return fmt.Errorf("%s: %w", op, t.ctx.Err())
	}
	return fmt.Errorf("%s: %w: %w", op, access.Errorf(access.EUNAVAILABLE, "The state store (etcd) cannot be reached. Try again in a minute."), t.err)
}

// get reads at the snapshot, fixing it on the first read.
func (t *tx) get(key string, opts ...clientv3.OpOption) *clientv3.GetResponse {
	if t.err != nil {
		return nil
	}
	if t.rev > 0 {
		opts = append(opts, clientv3.WithRev(t.rev))
	}
	resp, err := t.be.cli.Get(t.ctx, key, opts...)
	if err != nil {
		t.fail(fmt.Errorf("read %q: %w", key, err))
		return nil
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	return resp
}

// decode strips the format byte of a stored value.
func (t *tx) decode(key string, v []byte) ([]byte, bool) {
	if len(v) == 0 || v[0] != formatV1 {
		t.fail(fmt.Errorf("%w: value of %q has format %x", ErrCorrupt, key, v[:min(len(v), 1)]))
		return nil, false
	}
	return v[1:], true
}

// Bucket returns the view of bucket name; buckets exist as key ranges, so every name has one.
func (t *tx) Bucket(name []byte) store.Bucket {
	b, ok := t.buckets[string(name)]
	if !ok {
		b = &bucketV{t: t, name: string(name), base: t.be.data + string(name) + "/"}
		t.buckets[string(name)] = b
	}
	return b
}

// commit writes the buffered changes in one Txn guarded by the txn key's mod revision.
func (t *tx) commit() error {
	if len(t.writes) == 0 {
		return nil
	}
	keys := make([]string, 0, len(t.writes))
	size := len(t.be.txnKey) + len(commitMark(t.be.id, true))
	for k, v := range t.writes {
		keys = append(keys, k)
		size += len(k)
		if v != nil {
			size += len(*v) + 1
		}
	}
	slices.Sort(keys)
	if n := len(keys) + 1; n > t.be.opts.MaxTxnOps {
		return fmt.Errorf("store update: %w: it writes %d keys and etcd takes %d in one Txn (raise etcd's --max-txn-ops and JITBOT_ETCD_MAX_TXN_OPS together)", ErrTooLarge, n, t.be.opts.MaxTxnOps)
	}
	if size > t.be.opts.MaxTxnBytes {
		return fmt.Errorf("store update: %w: it writes %d bytes and etcd takes %d in one request (raise etcd's --max-request-bytes and JITBOT_ETCD_MAX_TXN_BYTES together)", ErrTooLarge, size, t.be.opts.MaxTxnBytes)
	}
	ops := make([]clientv3.Op, 0, len(keys)+1)
	for _, k := range keys {
		if v := t.writes[k]; v != nil {
			ops = append(ops, clientv3.OpPut(k, string(append([]byte{formatV1}, *v...))))
		} else {
			ops = append(ops, clientv3.OpDelete(k))
		}
	}
	ops = append(ops, clientv3.OpPut(t.be.txnKey, commitMark(t.be.id, t.putsOutbox())))
	var guard []clientv3.Cmp
	if t.rev > 0 {
		guard = append(guard, clientv3.Compare(clientv3.ModRevision(t.be.txnKey), "<", t.rev+1))
	}
	resp, err := t.be.cli.Txn(t.ctx).If(guard...).Then(ops...).Commit()
	if err != nil {
		if t.ctx.Err() != nil {
			return fmt.Errorf("store commit: %w", t.ctx.Err())
		}
		return fmt.Errorf("store commit: %w: %w", access.Errorf(access.EUNAVAILABLE, "The state store (etcd) cannot be reached. Try again in a minute."), err)
	}
	if !resp.Succeeded {
		return errConflict
	}
	return nil
}

// putsOutbox reports whether the buffered writes put an outbox item.
func (t *tx) putsOutbox() bool {
	prefix := t.be.data + store.OutboxBucket + "/"
	for k, v := range t.writes {
		if v != nil && strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// bucketV is one bucket seen through a tx.
type bucketV struct {
	t    *tx
	name string
	base string // full key prefix of the bucket
}

var errReadOnly = errors.New("write in a read-only transaction")

func (b *bucketV) Get(k []byte) []byte {
	full := b.base + string(k)
	if w, ok := b.t.writes[full]; ok {
		if w == nil {
			return nil
		}
		return *w
	}
	if v, ok := b.t.reads[full]; ok {
		return v
	}
	resp := b.t.get(full)
	if resp == nil {
		return nil
	}
	var v []byte
	if len(resp.Kvs) == 1 {
		var ok bool
		if v, ok = b.t.decode(full, resp.Kvs[0].Value); !ok {
			return nil
		}
	}
	b.t.reads[full] = v
	return v
}

func (b *bucketV) Put(k, v []byte) error {
	if !b.t.writable {
		return fmt.Errorf("put %s/%q: %w", b.name, k, errReadOnly)
	}
	if len(k) == 0 {
		return fmt.Errorf("put %s: empty key", b.name)
	}
	c := bytes.Clone(v)
	if c == nil {
		c = []byte{}
	}
	b.t.writes[b.base+string(k)] = &c
	return nil
}

func (b *bucketV) Delete(k []byte) error {
	if !b.t.writable {
		return fmt.Errorf("delete %s/%q: %w", b.name, k, errReadOnly)
	}
	b.t.writes[b.base+string(k)] = nil
	return nil
}

func (b *bucketV) ForEach(fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (b *bucketV) Cursor() store.Cursor { return &cursorV{b: b} }

// overlay returns the buffered writes of the bucket, sorted by key (relative keys).
func (b *bucketV) overlay() []string {
	var out []string
	for k := range b.t.writes {
		if rel, ok := strings.CutPrefix(k, b.base); ok {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return out
}
