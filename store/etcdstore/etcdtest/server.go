package etcdtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
)

// Server is one embedded etcd member.
type Server struct {
	e    *embed.Etcd
	url  string
	once sync.Once
}

// Start starts a single-member cluster in tb.TempDir() and stops it when the test ends. It
// waits until the member serves clients.
func Start(tb testing.TB) *Server { tb.Helper(); return startServer(tb, false) }

// StartDurable is Start with fsync on, as a real member runs: for benchmarks.
func StartDurable(tb testing.TB) *Server { tb.Helper(); return startServer(tb, true) }

func startServer(tb testing.TB, durable bool) *Server {
	tb.Helper()
	var lastErr error
	for range 5 {
		s, err := startWith(tb.TempDir(), durable, nil)
		if err == nil {
			tb.Cleanup(s.Close)
			return s
		}
		lastErr = err
	}
	tb.Fatalf("start embedded etcd: %v", lastErr)
	return nil
}

func startWith(dir string, durable bool, tlsInfo *transport.TLSInfo) (*Server, error) {
	cfg := embed.NewConfig()
	cfg.Name = "jitbot-test"
	cfg.Dir = dir
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{"/dev/null"}
	cfg.UnsafeNoFsync = !durable
	cfg.TickMs, cfg.ElectionMs = 10, 50
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	client := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[0])}
	if tlsInfo != nil {
		client.Scheme = "https"
		cfg.ClientTLSInfo = *tlsInfo
	}
	peer := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.ListenMetricsUrls = nil
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, err
	case <-time.After(30 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd not ready after 30s")
	}
	return &Server{e: e, url: client.String()}, nil
}

// freePorts returns n loopback ports that were free a moment ago (embed cannot listen on :0).
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// Endpoints returns the client URLs.
func (s *Server) Endpoints() []string { return []string{s.url} }

// Stop stops the member at once, without draining its clients' streams: it answers nothing
// more, as a crashed or cut-off member. Close it afterwards (the test's cleanup does).
func (s *Server) Stop() { s.e.Server.HardStop() }

// Close stops the member; closing twice is harmless.
func (s *Server) Close() { s.once.Do(s.e.Close) }

// SetNoSpace raises (on) or clears the NOSPACE alarm, as a member whose database reached its
// quota (--quota-backend-bytes) raises it: while it is raised the member refuses every write
// ("etcdserver: mvcc: database space exceeded"); reads and watches go on.
func (s *Server) SetNoSpace(tb testing.TB, on bool) {
	tb.Helper()
	action := pb.AlarmRequest_DEACTIVATE
	if on {
		action = pb.AlarmRequest_ACTIVATE
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.e.Server.Alarm(ctx, &pb.AlarmRequest{Action: action, MemberID: uint64(s.e.Server.MemberID()), Alarm: pb.AlarmType_NOSPACE})
	if err != nil {
		tb.Fatalf("etcd NOSPACE alarm (on=%v): %v", on, err)
	}
}
