package etcdstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrNotEmpty means Import was asked to copy into a prefix that already holds data.
var ErrNotEmpty = errors.New("etcd prefix already holds jitbot data")

// Source is a raw copy of a database: every key of every bucket (store.DB.ForEachKey).
type Source func(fn func(bucket, k, v []byte) error) error

// ImportStats says what Import copied.
type ImportStats struct {
	Keys    int
	Buckets int
}

// Import copies every key of src into the prefix, which must hold no data (only the schema
// version that Open records), in Txns of at most MaxTxnOps keys, then reads every key back and
// compares it. The first Txn claims the prefix and every later one checks the claim, so a
// replica that starts writing during the copy makes it fail rather than mix. Run it with
// every replica stopped; a failed import leaves a partial copy to delete before trying again.
func (db *DB) Import(ctx context.Context, src Source) (ImportStats, error) {
	be := db.be
	if err := be.checkEmpty(ctx); err != nil {
		return ImportStats{}, err
	}
	var (
		st      ImportStats
		batch   []clientv3.Op
		size    int
		claimed int64 // mod revision of the txn key after our last commit; 0 before the first
		last    string
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		guard := clientv3.Compare(clientv3.CreateRevision(be.txnKey), "=", 0)
		if claimed > 0 {
			guard = clientv3.Compare(clientv3.ModRevision(be.txnKey), "=", claimed)
		}
		ops := append(batch, clientv3.OpPut(be.txnKey, "import"))
		resp, err := be.cli.Txn(ctx).If(guard).Then(ops...).Commit()
		if err != nil {
			return fmt.Errorf("import: write %d keys: %w", len(batch), err)
		}
		if !resp.Succeeded {
			return fmt.Errorf("import: %w: something else wrote under %s during the copy; stop every replica, delete the prefix and run migrate again", ErrNotEmpty, be.opts.Prefix)
		}
		claimed = resp.Header.Revision
		batch, size = batch[:0], 0
		return nil
	}
	err := src(func(bucket, k, v []byte) error {
		key := be.key(bucket, k)
		val := string(append([]byte{formatV1}, v...))
		if len(batch)+2 > be.opts.MaxTxnOps || size+len(key)+len(val) > be.opts.MaxTxnBytes/2 {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, clientv3.OpPut(key, val))
		size += len(key) + len(val)
		st.Keys++
		if b := string(bucket); b != last {
			st.Buckets, last = st.Buckets+1, b
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return st, err
	}
	if err := be.compare(ctx, src, st.Keys); err != nil {
		return st, fmt.Errorf("import: verify the copy: %w", err)
	}
	return st, nil
}

// checkEmpty refuses a prefix with commits or any data key but the schema version.
func (be *backend) checkEmpty(ctx context.Context) error {
	resp, err := be.cli.Get(ctx, be.opts.Prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(3))
	if err != nil {
		return fmt.Errorf("import: read %s: %w", be.opts.Prefix, err)
	}
	schema := be.key([]byte("meta"), []byte("schema_version"))
	for _, kv := range resp.Kvs {
		if string(kv.Key) != schema {
			return fmt.Errorf("%w: %s holds %q; migrate copies only into an empty prefix: choose another JITBOT_ETCD_PREFIX, or delete this one (etcdctl del --prefix %s) if it is a copy you mean to replace", ErrNotEmpty, be.opts.Prefix, kv.Key, be.opts.Prefix)
		}
	}
	return nil
}

// compare reads back every key of src and counts the prefix's data keys.
func (be *backend) compare(ctx context.Context, src Source, want int) error {
	var (
		keys []string
		vals [][]byte
	)
	check := func() error {
		if len(keys) == 0 {
			return nil
		}
		ops := make([]clientv3.Op, len(keys))
		for i, k := range keys {
			ops[i] = clientv3.OpGet(k)
		}
		resp, err := be.cli.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return err
		}
		for i, r := range resp.Responses {
			kvs := r.GetResponseRange().Kvs
			if len(kvs) != 1 || !bytes.Equal(kvs[0].Value, append([]byte{formatV1}, vals[i]...)) {
				return fmt.Errorf("key %q differs in etcd", keys[i])
			}
		}
		keys, vals = keys[:0], vals[:0]
		return nil
	}
	err := src(func(bucket, k, v []byte) error {
		keys, vals = append(keys, be.key(bucket, k)), append(vals, bytes.Clone(v))
		if len(keys) >= be.opts.MaxTxnOps {
			return check()
		}
		return nil
	})
	if err == nil {
		err = check()
	}
	if err != nil {
		return err
	}
	resp, err := be.cli.Get(ctx, be.data, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return err
	}
	if resp.Count != int64(want) {
		return fmt.Errorf("etcd holds %d data keys under %s, the file %d", resp.Count, be.data, want)
	}
	return nil
}
