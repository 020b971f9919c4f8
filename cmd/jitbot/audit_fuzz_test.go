package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/store"
)

// FuzzAuditExport stores an event whose texts (people type reasons, names and roles) are
// fuzzed, then exports the log as CSV and as JSON lines: neither may panic, the CSV must read
// back as a header and one record of ten fields with the same texts, each JSON line must
// decode to the same texts, and the chain must still verify.
// `go test` runs the seeds; fuzz with `go test -fuzz=FuzzAuditExport ./cmd/jitbot/`.
func FuzzAuditExport(f *testing.F) {
	f.Add("U0ALICE", "R-1", "site-admin", "alice@example.com", "fixing SSO", "break_glass")
	f.Add("", "", "", "", "", "")
	f.Add("U0\"X", "a,b", "line\nbreak", "\r\n", `"quoted", "twice"`, "a;b")
	f.Add("=HYPERLINK(\"x\")", "\x00", "\xff\xfe", "<!channel>", strings.Repeat("é", 500), "\t")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, actor, subject, role, member, detail, tag string) {
		path := filepath.Join(dir, "audit"+time.Now().Format("150405.000000000")+".db")
		db, err := store.Open(path, store.Options{AuditKey: []byte("k"), NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		ev := access.AuditEvent{
			Time: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), Action: access.ActionRequestSubmitted,
			Actor: access.UserActor(actor), Subject: subject, Role: role, Member: member, Detail: detail,
		}
		if tag != "" {
			ev.Tags = []string{tag}
		}
		err = db.Update(context.Background(), func(tx access.Tx) error { return tx.AppendAudit(&ev) })
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		// What was stored is what the export must show (the JSON of a store normalizes text
		// that is not UTF-8).
		want := []string{ev.Actor.String(), subject, role, member, detail}

		var out bytes.Buffer
		if err := auditExport(StoreConfig{Kind: storeBolt, DBPath: path}, []byte("k"), time.Time{}, "csv", &out); err != nil {
			t.Fatalf("csv export: %v", err)
		}
		recs, err := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
		if err != nil {
			t.Fatalf("the CSV export does not read back: %v\n%q", err, out.String())
		}
		if len(recs) != 2 || len(recs[0]) != 10 || len(recs[1]) != 10 {
			t.Fatalf("the CSV export reads back as %d records %v; want a header and one event of ten fields", len(recs), recs)
		}
		for i, got := range recs[1][3:8] {
			if norm(got) != norm(want[i]) {
				t.Fatalf("CSV field %s is %q; stored %q", recs[0][3+i], got, want[i])
			}
		}

		out.Reset()
		if err := auditExport(StoreConfig{Kind: storeBolt, DBPath: path}, []byte("k"), time.Time{}, "json", &out); err != nil {
			t.Fatalf("json export: %v", err)
		}
		sc := bufio.NewScanner(&out)
		sc.Buffer(nil, 1<<20)
		lines := 0
		for sc.Scan() {
			lines++
			var e exportEvent
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("a JSON line does not decode: %v\n%q", err, sc.Text())
			}
			for i, got := range []string{e.Actor, e.Subject, e.Role, e.Member, e.Detail} {
				if norm(got) != norm(want[i]) {
					t.Fatalf("JSON field %d is %q; stored %q", i, got, want[i])
				}
			}
		}
		if lines != 1 {
			t.Fatalf("the JSON export has %d lines; want 1", lines)
		}
		out.Reset()
		if err := auditVerify(StoreConfig{Kind: storeBolt, DBPath: path}, []byte("k"), &out); err != nil {
			t.Fatalf("audit verify after storing %q: %v", detail, err)
		}
	})
}

// norm is how text reads once it went through JSON: invalid UTF-8 becomes U+FFFD, and CSV
// reads \r\n inside a quoted field as \n.
func norm(s string) string {
	var b strings.Builder
	for _, r := range s { // one U+FFFD for each byte that is not UTF-8, as encoding/json does
		b.WriteRune(r)
	}
	return strings.ReplaceAll(b.String(), "\r\n", "\n")
}
