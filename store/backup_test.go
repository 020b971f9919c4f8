package store

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
)

// TestDB_Backup copies the database while another goroutine keeps writing request, approval
// and grant transactions. Each copy must open as a jitbot database with an intact audit chain,
// and hold every request whose transactions it saw whole: a copy never shows half a transaction.
func TestDB_Backup(t *testing.T) {
	db := MustOpenDB(t)
	for i := range 20 {
		story(t, db, "B"+strconv.Itoa(i), t0, time.Hour)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			story(t, db, "W"+strconv.Itoa(i), t0, time.Hour)
		}
	}()
	dir := t.TempDir()
	var copies []string
	for i := range 5 {
		var buf bytes.Buffer
		var announced int64 = -1
		n, err := db.Backup(&buf, func(size int64) { announced = size })
		if err != nil {
			t.Fatal(err)
		}
		if n != announced || n != int64(buf.Len()) {
			t.Fatalf("copy %d: wrote %d bytes, announced %d, buffered %d", i, n, announced, buf.Len())
		}
		p := filepath.Join(dir, "copy"+strconv.Itoa(i)+".db")
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, p)
	}
	close(stop)
	wg.Wait()

	for _, p := range copies {
		if err := CheckCopy(p); err != nil {
			t.Fatalf("CheckCopy: %v", err)
		}
		c := mustOpenAt(t, p, Options{AuditKey: accesstest.StoreContractKey, NoSync: true})
		brk, events, err := c.VerifyAudit()
		if err != nil || brk != nil {
			t.Fatalf("%s: audit chain: %v %+v", p, err, brk)
		}
		var reqs []*access.Request
		var grants []*access.Grant
		if err := c.View(t.Context(), func(tx access.Tx) error {
			var err error
			if reqs, err = tx.Requests(access.RequestFilter{}); err != nil {
				return err
			}
			grants, err = tx.Grants(access.GrantFilter{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		// Every story is three transactions with one audit event each: request, approval,
		// grant. A whole copy holds requests with no grant yet only for the last story.
		if len(reqs) < 20 || len(grants) < len(reqs)-1 || events < 3*len(grants) {
			t.Fatalf("%s: %d requests, %d grants, %d events", p, len(reqs), len(grants), events)
		}
	}
}

func TestCheckCopy_refuses_damaged_copy(t *testing.T) {
	db := MustOpenDB(t)
	story(t, db, "R1", t0, time.Hour)
	var buf bytes.Buffer
	if _, err := db.Backup(&buf, nil); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cut.db")
	if err := os.WriteFile(p, buf.Bytes()[:buf.Len()/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckCopy(p); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("CheckCopy of a copy cut in half: %v, want ErrCorrupt", err)
	}
	if err := CheckCopy(filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Fatal("CheckCopy of a missing file: no error")
	}
}

// BenchmarkDB_Backup copies a store holding 2,000 requests with their grants and 6,000 audit
// events to io.Discard.
func BenchmarkDB_Backup(b *testing.B) {
	db := MustOpenDB(b)
	for i := range 2000 {
		story(b, db, "R"+strconv.Itoa(i), t0, time.Hour)
	}
	b.ResetTimer()
	var n int64
	for b.Loop() {
		var err error
		if n, err = db.Backup(io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(n)
}
