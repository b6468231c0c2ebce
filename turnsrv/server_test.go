package turnsrv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

func TestICEServersAllocateOverUDPAndTCP(t *testing.T) {
	s, reg := startServer(t, nil)
	a := s.Addrs()
	ice := s.ICEServers("acme:alice")
	if len(ice) != 1 {
		t.Fatalf("ICEServers = %+v, want one server", ice)
	}
	want := []string{
		fmt.Sprintf("stun:127.0.0.1:%d", a.UDP.Port),
		fmt.Sprintf("turn:127.0.0.1:%d?transport=udp", a.UDP.Port),
		fmt.Sprintf("turn:127.0.0.1:%d?transport=tcp", a.TCP.Port),
	}
	if !slices.Equal(ice[0].URLs, want) {
		t.Errorf("URLs = %q, want %q", ice[0].URLs, want)
	}
	user, pass := ice[0].Username, ice[0].Credential

	udp := dialUDP(t, s, user, pass)
	if mapped, err := udp.SendBindingRequest(); err != nil || mapped.String() != udp.conn.LocalAddr().String() {
		t.Errorf("STUN binding = %v, %v; want %v", mapped, err, udp.conn.LocalAddr())
	}
	relayUDP := udp.mustAllocate(t)
	tcp := dialTCP(t, s, user, pass)
	relayTCP := tcp.mustAllocate(t)

	for _, r := range []net.PacketConn{relayUDP, relayTCP} {
		if ip := r.LocalAddr().(*net.UDPAddr).IP; !ip.Equal(net.IPv4(127, 0, 0, 1)) {
			t.Errorf("relay address %v, want 127.0.0.1 (the public IP)", r.LocalAddr())
		}
	}
	if got := allocationsGauge(t, reg); got != 2 {
		t.Errorf("crvnode_turn_allocations = %d, want 2", got)
	}
	_ = relayUDP.Close()
	_ = relayTCP.Close()
	waitFor(t, "allocations to end", func() bool { return allocationsGauge(t, reg) == 0 })
}

func TestAuthRefusals(t *testing.T) {
	clock := &fakeClock{}
	s, _ := startServer(t, func(c *Config) { c.now = clock.now })
	now := clock.now()
	good, goodPass, _ := Credentials(testSecret, "alice", time.Hour, now)
	expired, expiredPass, _ := Credentials(testSecret, "alice", time.Hour, now.Add(-2*time.Hour))
	foreign, foreignPass, _ := Credentials(otherSecret, "alice", time.Hour, now)
	for _, tc := range []struct {
		name, user, pass, reason string
	}{
		{"forged password", good, "bm90IHRoZSBwYXNzd29yZA==", reasonAuth},
		{"expired username", expired, expiredPass, reasonExpired},
		{"another app's secret", foreign, foreignPass, reasonAuth},
		{"no expiry", "alice", goodPass, reasonAuth},
		{"empty userID", good[:len(good)-len("alice")], goodPass, reasonAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := refusals(s, tc.reason)
			c := dialUDP(t, s, tc.user, tc.pass)
			if _, err := c.allocate(t); err == nil {
				t.Fatal("allocation succeeded")
			}
			if got := refusals(s, tc.reason); got != before+1 {
				t.Errorf("refusals{%s} = %d, want %d", tc.reason, got, before+1)
			}
		})
	}
	if got := s.quota.allocations(); got != 0 {
		t.Errorf("%d allocations after refusals", got)
	}
	c := dialUDP(t, s, good, goodPass)
	c.mustAllocate(t)
}

// An allocation outlives its credentials: requests on it still pass after
// the expiry, but the same credentials cannot make a new one.
func TestExpiryOnlyStopsNewAllocations(t *testing.T) {
	clock := &fakeClock{}
	s, _ := startServer(t, func(c *Config) {
		c.now = clock.now
		c.AllowedPeerCIDRs = []string{"127.0.0.0/8"}
	})
	echo := startEcho(t)
	ice := s.ICEServers("alice")
	c := dialUDP(t, s, ice[0].Username, ice[0].Credential)
	c.mustAllocate(t)
	clock.advance(2 * DefaultCredentialTTL)
	if err := c.CreatePermission(echo.addr()); err != nil {
		t.Errorf("CreatePermission on a live allocation after expiry: %v", err)
	}
	c2 := dialUDP(t, s, ice[0].Username, ice[0].Credential)
	if _, err := c2.allocate(t); err == nil {
		t.Error("new allocation with expired credentials succeeded")
	}
	if got := refusals(s, reasonExpired); got != 1 {
		t.Errorf("refusals{expired} = %d, want 1", got)
	}
}

func TestLoopbackPeerRefusedByDefault(t *testing.T) {
	s, _ := startServer(t, nil)
	echo := startEcho(t)
	ice := s.ICEServers("alice")
	c := dialUDP(t, s, ice[0].Username, ice[0].Credential)
	relay := c.mustAllocate(t)

	if err := c.CreatePermission(echo.addr()); err == nil {
		t.Fatal("CreatePermission to 127.0.0.1 succeeded")
	}
	if got := refusals(s, reasonPeerAddress); got != 1 {
		t.Errorf("refusals{peer_address} = %d, want 1", got)
	}
	if _, err := relay.WriteTo([]byte("hello"), echo.addr()); err == nil {
		t.Error("relayed write to 127.0.0.1 succeeded")
	}
	time.Sleep(100 * time.Millisecond) // give a wrongly relayed datagram time to land
	if got := echo.senders(); len(got) != 0 {
		t.Errorf("echo server received from %v", got)
	}
	if got := testutilCounter(s.metrics.relayed); got != 0 {
		t.Errorf("relayed bytes = %v, want 0", got)
	}
}

func TestAllowedPeerRelaysBothWays(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			s, _ := startServer(t, func(c *Config) { c.AllowedPeerCIDRs = []string{"127.0.0.0/8"} })
			echo := startEcho(t)
			ice := s.ICEServers("alice")
			dial := dialUDP
			if transport == "tcp" {
				dial = dialTCP
			}
			c := dial(t, s, ice[0].Username, ice[0].Credential)
			relay := c.mustAllocate(t)

			payload := []byte("through the relay")
			if _, err := relay.WriteTo(payload, echo.addr()); err != nil {
				t.Fatalf("WriteTo: %v", err)
			}
			if err := relay.SetReadDeadline(time.Now().Add(testTimeout)); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1500)
			n, from, err := relay.ReadFrom(buf)
			if err != nil {
				t.Fatalf("ReadFrom: %v", err)
			}
			if !bytes.Equal(buf[:n], payload) || from.String() != echo.addr().String() {
				t.Errorf("got %q from %v, want %q from %v", buf[:n], from, payload, echo.addr())
			}
			if got := echo.senders(); len(got) != 1 || got[0].String() != relay.LocalAddr().String() {
				t.Errorf("echo server heard from %v, want the relay %v", got, relay.LocalAddr())
			}
			// The outbound datagram is counted once its write returns, which
			// can be after the echo has come back through the relay.
			want := float64(2 * len(payload))
			waitFor(t, fmt.Sprintf("relayed bytes to reach %v, both directions", want), func() bool {
				return testutilCounter(s.metrics.relayed) == want
			})
			if got := refusals(s, reasonPeerAddress); got != 0 {
				t.Errorf("refusals{peer_address} = %d, want 0", got)
			}
		})
	}
}

func TestQuotas(t *testing.T) {
	s, reg := startServer(t, func(c *Config) {
		c.MaxAllocationsPerUser = 2
		c.MaxAllocations = 3
	})
	allocate := func(user string) (net.PacketConn, error) {
		ice := s.ICEServers(user)
		return dialUDP(t, s, ice[0].Username, ice[0].Credential).allocate(t)
	}
	bob1, err := allocate("bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := allocate("bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := allocate("bob"); err == nil {
		t.Fatal("third allocation of bob succeeded")
	}
	if got := refusals(s, reasonQuotaUser); got != 1 {
		t.Errorf("refusals{quota_user} = %d, want 1", got)
	}
	if _, err := allocate("carol"); err != nil {
		t.Fatalf("carol is refused by bob's quota: %v", err)
	}
	if _, err := allocate("carol"); err == nil {
		t.Fatal("allocation past MaxAllocations succeeded")
	}
	if got := refusals(s, reasonQuotaTotal); got != 1 {
		t.Errorf("refusals{quota_total} = %d, want 1", got)
	}
	if got := allocationsGauge(t, reg); got != 3 {
		t.Errorf("crvnode_turn_allocations = %d, want 3", got)
	}

	_ = bob1.Close()
	waitFor(t, "bob's first allocation to end", func() bool { return allocationsGauge(t, reg) == 2 })
	if _, err := allocate("bob"); err != nil {
		t.Errorf("bob cannot allocate after releasing one: %v", err)
	}
}

// Concurrent Allocate requests of one user over separate TCP connections
// (one pion goroutine each) cannot overshoot the per-user quota.
func TestQuotaHoldsUnderConcurrency(t *testing.T) {
	const limit, tries = 3, 12
	s, _ := startServer(t, func(c *Config) { c.MaxAllocationsPerUser = limit })
	ice := s.ICEServers("bob")
	clients := make([]*turnClient, tries)
	for i := range clients {
		clients[i] = dialTCP(t, s, ice[0].Username, ice[0].Credential)
	}
	errs := make(chan error, tries)
	for _, c := range clients {
		go func() {
			_, err := c.allocate(t)
			errs <- err
		}()
	}
	ok := 0
	for range tries {
		if err := <-errs; err == nil {
			ok++
		}
	}
	if ok != limit || s.quota.allocations() != limit {
		t.Errorf("%d allocations succeeded (%d live), want %d", ok, s.quota.allocations(), limit)
	}
	if got := refusals(s, reasonQuotaUser); got != tries-limit {
		t.Errorf("refusals{quota_user} = %d, want %d", got, tries-limit)
	}
}

func TestRelayPortRange(t *testing.T) {
	s, _ := startServer(t, func(c *Config) { c.RelayPortMin, c.RelayPortMax = 47100, 47199 })
	ice := s.ICEServers("alice")
	relay := dialUDP(t, s, ice[0].Username, ice[0].Credential).mustAllocate(t)
	if p := relay.LocalAddr().(*net.UDPAddr).Port; p < 47100 || p > 47199 {
		t.Errorf("relay port %d outside 47100-47199", p)
	}
}

func TestTCPConnectionLimits(t *testing.T) {
	t.Run("cap", func(t *testing.T) {
		s, _ := startServer(t, func(c *Config) { c.MaxAllocations = 1 }) // 2 connections
		var conns []net.Conn
		for range 3 {
			c, err := net.DialTimeout("tcp", s.Addrs().TCP.String(), testTimeout)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conns = append(conns, c)
		}
		if err := readEOF(conns[2]); err != nil {
			t.Errorf("third connection: %v", err)
		}
		if got := refusals(s, reasonConnections); got != 1 {
			t.Errorf("refusals{connections} = %d, want 1", got)
		}
	})
	t.Run("idle", func(t *testing.T) {
		s, _ := startServer(t, func(c *Config) { c.connIdle = 200 * time.Millisecond })
		silent, err := net.DialTimeout("tcp", s.Addrs().TCP.String(), testTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		ice := s.ICEServers("alice")
		holder := dialTCP(t, s, ice[0].Username, ice[0].Credential)
		holder.mustAllocate(t)
		start := time.Now()
		if err := readEOF(silent); err != nil {
			t.Errorf("silent connection: %v", err)
		}
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Errorf("silent connection closed after %v, before the idle time", d)
		}
		time.Sleep(400 * time.Millisecond)
		if _, err := holder.SendBindingRequest(); err != nil {
			t.Errorf("connection holding an allocation was closed while idle: %v", err)
		}
	})
}

// readEOF waits for the server to close c.
func readEOF(c net.Conn) error {
	_ = c.SetReadDeadline(time.Now().Add(testTimeout))
	_, err := c.Read(make([]byte, 1))
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
		return nil
	}
	return fmt.Errorf("read = %v, want EOF", err)
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// Close ends every server goroutine even while clients are still
// connected over UDP and TCP, and with a silent TCP connection open.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	start := goleak.IgnoreCurrent()
	reg := prometheus.NewRegistry()
	s, err := New(Config{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Secret: testSecret,
		Logger: testLogger(t), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ice := s.ICEServers("alice")
	dialUDP(t, s, ice[0].Username, ice[0].Credential).mustAllocate(t)
	tcp := dialTCP(t, s, ice[0].Username, ice[0].Credential)
	tcp.mustAllocate(t)
	silent, err := net.DialTimeout("tcp", s.Addrs().TCP.String(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	waitFor(t, "the silent connection to be accepted", func() bool {
		s.conns.mu.Lock()
		defer s.conns.mu.Unlock()
		return len(s.conns.conns) == 2
	})

	began := time.Now()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(began); d > closeTimeout/2 {
		t.Errorf("Close took %v", d)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := readEOF(silent); err != nil {
		t.Errorf("silent connection after Close: %v", err)
	}
	// The clients' own goroutines are still running; only the server's
	// must be gone.
	if err := goleak.Find(start,
		goleak.IgnoreAnyFunction("github.com/pion/turn/v5.(*Client).Listen.func1"),
		goleak.IgnoreAnyFunction("github.com/pion/turn/v5/internal/client.(*PeriodicTimer).Start.func1"),
	); err != nil {
		t.Error(err)
	}
	if mfs, _ := reg.Gather(); len(mfs) != 0 {
		t.Errorf("%d metric families still registered after Close", len(mfs))
	}
}
