package etcdstore

import (
	"sort"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// page is a run of a bucket's keys as etcd had them at the snapshot: every stored key k with
// lo <= k < hi (hi "" with open: to the bucket's end), sorted. Keys are relative to the bucket.
type page struct {
	lo, hi string
	open   bool
	keys   []string
	vals   [][]byte
}

func (p *page) covers(s string) bool { return s >= p.lo && (p.open || s < p.hi) }

// cursorV walks a bucket's keys as the tx sees them: etcd's snapshot merged with the tx's
// buffered writes. Ranges are read lazily, a page at a time.
type cursorV struct {
	b    *bucketV
	cur  string
	done bool // past either end
}

func (c *cursorV) First() ([]byte, []byte) { return c.set(c.ceil("")) }
func (c *cursorV) Last() ([]byte, []byte)  { return c.set(c.floor("", true)) }
func (c *cursorV) Seek(s []byte) ([]byte, []byte) {
	return c.set(c.ceil(string(s)))
}

func (c *cursorV) Next() ([]byte, []byte) {
	if c.done {
		return nil, nil
	}
	return c.set(c.ceil(c.cur + "\x00"))
}

func (c *cursorV) Prev() ([]byte, []byte) {
	if c.done {
		return nil, nil
	}
	return c.set(c.floor(c.cur, false))
}

func (c *cursorV) set(k string, v []byte, ok bool) ([]byte, []byte) {
	if !ok {
		c.done = true
		return nil, nil
	}
	c.cur, c.done = k, false
	return []byte(k), v
}

// ceil returns the smallest key >= s the tx sees.
func (c *cursorV) ceil(s string) (string, []byte, bool) {
	ov := c.b.overlay()
	for {
		ek, ev, eok := c.etcdCeil(s)
		i := sort.SearchStrings(ov, s)
		if i < len(ov) && (!eok || ov[i] <= ek) {
			w := c.b.t.writes[c.b.base+ov[i]]
			if w == nil { // deleted in this tx
				s = ov[i] + "\x00"
				continue
			}
			return ov[i], *w, true
		}
		return ek, ev, eok
	}
}

// floor returns the largest key < s (any key when inf) the tx sees.
func (c *cursorV) floor(s string, inf bool) (string, []byte, bool) {
	ov := c.b.overlay()
	for {
		ek, ev, eok := c.etcdFloor(s, inf)
		i := len(ov)
		if !inf {
			i = sort.SearchStrings(ov, s)
		}
		if i > 0 && (!eok || ov[i-1] >= ek) {
			k := ov[i-1]
			w := c.b.t.writes[c.b.base+k]
			if w == nil {
				s, inf = k, false
				continue
			}
			return k, *w, true
		}
		return ek, ev, eok
	}
}

// etcdCeil returns the smallest stored key >= s at the snapshot.
func (c *cursorV) etcdCeil(s string) (string, []byte, bool) {
	t := c.b.t
	for {
		p := t.pages[c.b.name]
		if p == nil || !p.covers(s) {
			if p = c.fetch(s, "", true, false); p == nil {
				return "", nil, false
			}
		}
		i := sort.SearchStrings(p.keys, s)
		if i < len(p.keys) {
			return p.keys[i], p.vals[i], true
		}
		if p.open {
			return "", nil, false
		}
		s = p.hi
	}
}

// etcdFloor returns the largest stored key < s (any when inf) at the snapshot.
func (c *cursorV) etcdFloor(s string, inf bool) (string, []byte, bool) {
	t := c.b.t
	for {
		p := t.pages[c.b.name]
		covered := p != nil && ((inf && p.open) || (!inf && (p.open || s <= p.hi) && s > p.lo))
		if !covered {
			if p = c.fetch("", s, inf, true); p == nil {
				return "", nil, false
			}
		}
		i := len(p.keys)
		if !inf {
			i = sort.SearchStrings(p.keys, s)
		}
		if i > 0 {
			return p.keys[i-1], p.vals[i-1], true
		}
		if p.lo == "" {
			return "", nil, false
		}
		s, inf = p.lo, false
	}
}

// fetch reads one page: forward from lo, or backward from below hi (to the end when inf).
func (c *cursorV) fetch(lo, hi string, inf, backward bool) *page {
	t, base := c.b.t, c.b.base
	end := clientv3.GetPrefixRangeEnd(base)
	opts := []clientv3.OpOption{clientv3.WithLimit(int64(t.be.opts.PageSize))}
	from := base + lo
	if backward {
		from = base
		if !inf {
			end = base + hi
		}
		opts = append(opts, clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	}
	opts = append(opts, clientv3.WithRange(end))
	resp := t.get(from, opts...)
	if resp == nil {
		return nil
	}
	p := &page{keys: make([]string, len(resp.Kvs)), vals: make([][]byte, len(resp.Kvs))}
	for i, kv := range resp.Kvs {
		j := i
		if backward {
			j = len(resp.Kvs) - 1 - i
		}
		v, ok := t.decode(string(kv.Key), kv.Value)
		if !ok {
			return nil
		}
		p.keys[j], p.vals[j] = string(kv.Key[len(base):]), v
	}
	if backward {
		p.hi, p.open = hi, inf
		if resp.More && len(p.keys) > 0 {
			p.lo = p.keys[0]
		}
	} else {
		p.lo, p.open = lo, !resp.More
		if resp.More && len(p.keys) > 0 {
			p.hi = p.keys[len(p.keys)-1] + "\x00"
		}
	}
	t.pages[c.b.name] = p
	return p
}
