package turnsrv

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTimeout bounds every wait in these tests.
const testTimeout = 5 * time.Second

var (
	testSecret  = []byte("test-secret-0123456789abcdef")
	otherSecret = []byte("another-apps-secret-0123456789")
)

// syncBuffer collects log output; it is shown only when a test fails, so
// that goroutines logging after the test ended never touch t.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	buf := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fakeClock is a clock tests can move.
type fakeClock struct{ offset atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *fakeClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// startServer starts a server on loopback UDP and TCP with a fresh
// registry; mod adjusts the Config. Close is checked at cleanup.
func startServer(t *testing.T, mod func(*Config)) (*Server, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := Config{
		UDPAddr:    "127.0.0.1:0",
		TCPAddr:    "127.0.0.1:0",
		Secret:     testSecret,
		Logger:     testLogger(t),
		Registerer: reg,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, reg
}

// turnClient is a pion TURN client of one transport.
type turnClient struct {
	*turn.Client
	conn net.PacketConn
}

// dialUDP makes a client that reaches the server's UDP listener.
func dialUDP(t *testing.T, s *Server, user, pass string) *turnClient {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, conn, s.Addrs().UDP.String(), user, pass)
}

// dialTCP makes a client that reaches the server's TCP listener.
func dialTCP(t *testing.T, s *Server, user, pass string) *turnClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addrs().TCP.String(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, turn.NewSTUNConn(c), s.Addrs().TCP.String(), user, pass)
}

// dialTLS makes a client that reaches the server's TLS listener.
func dialTLS(t *testing.T, s *Server, tc *tls.Config, user, pass string) *turnClient {
	t.Helper()
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: testTimeout}, Config: tc}
	c, err := d.DialContext(context.Background(), "tcp", s.Addrs().TLS.String())
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, turn.NewSTUNConn(c), s.Addrs().TLS.String(), user, pass)
}

func newClient(t *testing.T, conn net.PacketConn, server, user, pass string) *turnClient {
	t.Helper()
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server,
		TURNServerAddr: server,
		Username:       user,
		Password:       pass,
		Conn:           conn,
		RTO:            100 * time.Millisecond,
		LoggerFactory:  slogFactory{log: testLogger(t), min: slog.LevelWarn},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	tc := &turnClient{Client: c, conn: conn}
	t.Cleanup(tc.close)
	return tc
}

func (c *turnClient) close() {
	c.Client.Close()
	_ = c.conn.Close()
}

// allocate asks for a UDP relay; the relay is closed at cleanup.
func (c *turnClient) allocate(t *testing.T) (net.PacketConn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	relay, err := c.AllocateWithContext(ctx)
	if err == nil {
		t.Cleanup(func() { _ = relay.Close() })
	}
	return relay, err
}

// mustAllocate allocates or fails the test.
func (c *turnClient) mustAllocate(t *testing.T) net.PacketConn {
	t.Helper()
	relay, err := c.allocate(t)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	return relay
}

// refusals reads crvnode_turn_refusals_total{reason}.
func refusals(s *Server, reason string) int {
	return int(testutil.ToFloat64(s.metrics.refusals.WithLabelValues(reason)))
}

// gauge reads crvnode_turn_allocations through the registry.
func allocationsGauge(t *testing.T, reg *prometheus.Registry) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "crvnode_turn_allocations" {
			return int(mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	t.Fatal("crvnode_turn_allocations not registered")
	return 0
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// echoServer answers every UDP datagram on 127.0.0.1 with the same bytes
// and records who sent them.
type echoServer struct {
	conn net.PacketConn
	mu   sync.Mutex
	from []net.Addr
	done chan struct{}
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		buf := make([]byte, 1500)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			e.mu.Lock()
			e.from = append(e.from, from)
			e.mu.Unlock()
			_, _ = conn.WriteTo(buf[:n], from)
		}
	}()
	t.Cleanup(func() { _ = conn.Close(); <-e.done })
	return e
}

func (e *echoServer) addr() *net.UDPAddr { return e.conn.LocalAddr().(*net.UDPAddr) }

func (e *echoServer) senders() []net.Addr {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]net.Addr(nil), e.from...)
}

func testutilCounter(c prometheus.Counter) float64 { return testutil.ToFloat64(c) }
