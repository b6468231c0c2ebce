package faultnet

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echoServer answers each line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { _ = ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); _ = c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func newProxy(t *testing.T) *Proxy {
	t.Helper()
	p, err := NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, bufio.NewReader(c)
}

func roundTrip(c net.Conn, r *bufio.Reader, line string, wait time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := r.ReadString('\n')
	return got, err
}

func TestProxyModes(t *testing.T) {
	p := newProxy(t)
	c, r := dial(t, p)
	if got, err := roundTrip(c, r, "one", 2*time.Second); err != nil || got != "one\n" {
		t.Fatalf("pass: %q %v", got, err)
	}

	// Blackhole: nothing comes back, and what was sent arrives once the
	// path is back.
	p.SetMode(Blackhole)
	if _, err := roundTrip(c, r, "two", 200*time.Millisecond); err == nil {
		t.Fatal("an answer came through the black hole")
	}
	p.SetMode(Pass)
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if got, err := r.ReadString('\n'); err != nil || got != "two\n" {
		t.Fatalf("held data after the black hole: %q %v", got, err)
	}

	// Delay.
	p.SetDelay(100 * time.Millisecond)
	start := time.Now()
	if got, err := roundTrip(c, r, "three", 2*time.Second); err != nil || got != "three\n" {
		t.Fatalf("delayed: %q %v", got, err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("round trip took %v with 100ms each way", d)
	}
	p.SetDelay(0)

	// Down resets the open connection and refuses new ones.
	p.SetMode(Down)
	if _, err := roundTrip(c, r, "four", 2*time.Second); err == nil {
		t.Fatal("a connection survived Down")
	}
	// The kernel completes the handshake before the proxy sees the
	// connection and resets it: the reset reaches either the dial itself
	// or the first round trip, depending on which comes first.
	if c2, err := net.DialTimeout("tcp", p.Addr(), 2*time.Second); err == nil {
		_, err = roundTrip(c2, bufio.NewReader(c2), "five", 2*time.Second)
		_ = c2.Close()
		if err == nil {
			t.Fatal("a new connection worked while Down")
		}
	}
	p.SetMode(Pass)
	c3, r3 := dial(t, p)
	if got, err := roundTrip(c3, r3, "six", 2*time.Second); err != nil || got != "six\n" {
		t.Fatalf("after Down: %q %v", got, err)
	}
	if n := p.Conns(); n != 1 {
		t.Errorf("Conns = %d, want 1", n)
	}
}

func TestPacketConnBlackhole(t *testing.T) {
	a, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	raw, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := WrapPacketConn(raw)
	defer b.Close()
	buf := make([]byte, 64)
	send := func() { _, _ = a.WriteTo([]byte("x"), b.LocalAddr()) }

	send()
	_ = b.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err := b.ReadFrom(buf); err != nil {
		t.Fatalf("pass: %v", err)
	}
	b.SetBlackhole(true)
	send()
	if n, err := b.WriteTo([]byte("y"), a.LocalAddr()); n != 1 || err != nil {
		t.Fatalf("a dropped write reports %d %v", n, err)
	}
	_ = b.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, _, err := b.ReadFrom(buf); err == nil {
		t.Fatal("a packet came through the black hole")
	}
	_ = a.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, _, err := a.ReadFrom(buf); err == nil {
		t.Fatal("a blackholed write arrived")
	}
	if d := b.Dropped(); d != 2 {
		t.Errorf("Dropped = %d, want 2", d)
	}
	b.SetBlackhole(false)
	send()
	_ = b.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err := b.ReadFrom(buf); err != nil {
		t.Fatalf("after the black hole: %v", err)
	}
}
