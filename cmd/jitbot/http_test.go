package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/store"
)

// smallBuffers shrinks the send buffer of every accepted connection, so a response the client
// does not read blocks the server's writes within a few KiB instead of a few MiB.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestHTTPServer_limits: a client that never authenticates cannot hold the HTTP server: every
// limit is set, a kept-alive connection left idle is closed, and a GET /backup client that stops
// reading is cut off (ending the read transaction the copy holds), while one reading a copy
// slowly but steadily, for longer than the write limit, gets all of it.
func TestHTTPServer_limits(t *testing.T) {
	for name, d := range map[string]time.Duration{"read_header": defaultHTTPLimits.readHeader, "read": defaultHTTPLimits.read, "write": defaultHTTPLimits.write, "idle": defaultHTTPLimits.idle} {
		if d <= 0 {
			t.Errorf("default HTTP %s timeout is %s: a client may hold a connection for ever", name, d)
		}
	}

	const window = 300 * time.Millisecond
	db, err := store.Open(filepath.Join(t.TempDir(), "jitbot.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	detail := strings.Repeat("x", 8<<10)
	for i := range 16 {
		err := db.Update(t.Context(), func(tx access.Tx) error {
			for j := range 10 {
				ev := access.AuditEvent{Time: time.Unix(int64(i*10+j), 0), Action: access.ActionRun, Actor: access.SystemActor, Detail: detail}
				if err := tx.AppendAudit(&ev); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	b := &backups{db: db, log: zerolog.Nop(), now: time.Now, writeWindow: window}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", b.serveHTTP)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(mux, httpLimits{readHeader: time.Second, read: time.Second, write: window, idle: window})
	go srv.Serve(smallBuffers{ln})
	defer srv.Close()

	get := func(t *testing.T, path string) (net.Conn, *http.Response) {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, ln.Addr())
		resp, err := http.ReadResponse(bufio.NewReaderSize(c, 4096), nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		return c, resp
	}

	t.Run("idle_connection_closed", func(t *testing.T) {
		c, resp := get(t, "/healthz")
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		_ = c.SetReadDeadline(time.Now().Add(10 * window))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("a kept-alive connection left idle was not closed by the server: %v", err)
		}
	})
	t.Run("backup_read_steadily", func(t *testing.T) {
		start := time.Now()
		_, resp := get(t, "/backup")
		defer resp.Body.Close()
		n, err := readSlowly(resp.Body, 16<<10, 20*time.Millisecond)
		if err != nil || n != resp.ContentLength {
			t.Fatalf("read %d of %d bytes: %v", n, resp.ContentLength, err)
		}
		if took := time.Since(start); took < 2*window {
			t.Fatalf("the copy (%d bytes) took %s: too small to show the write limit is per write", n, took)
		}
	})
	t.Run("backup_reader_stalls", func(t *testing.T) {
		_, resp := get(t, "/backup")
		defer resp.Body.Close()
		time.Sleep(4 * window)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		done := make(chan error, 1)
		var n int64
		go func() { var err error; n, err = io.Copy(io.Discard, resp.Body); done <- err }()
		select {
		case err := <-done:
			if err == nil || n == resp.ContentLength {
				t.Fatalf("a client that stopped reading for %s still got the whole copy (%d bytes, %v)", 4*window, n, err)
			}
		case <-ctx.Done():
			t.Fatal("the server never cut off a client that stopped reading")
		}
	})
}

// readSlowly reads r to the end, chunk bytes at a time with a pause after each.
func readSlowly(r io.Reader, chunk int, pause time.Duration) (int64, error) {
	var n int64
	buf := make([]byte, chunk)
	for {
		m, err := io.ReadFull(r, buf)
		n += int64(m)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		time.Sleep(pause)
	}
}
