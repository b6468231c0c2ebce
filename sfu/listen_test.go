package sfu

import (
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
)

// TestEphemeralPortSkipsTakenTCP: with "127.0.0.1:0" the SFU listens on
// TCP at the UDP port's number. When that number is already taken for
// TCP (by any outgoing connection on the host, say), it picks another
// port rather than failing to start.
func TestEphemeralPortSkipsTakenTCP(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	calls := 0
	listenUDP = func(network, addr string) (net.PacketConn, error) {
		calls++
		if calls == 1 {
			return net.ListenPacket(network, "127.0.0.1:"+strconv.Itoa(takenPort))
		}
		return net.ListenPacket(network, addr)
	}
	defer func() { listenUDP = net.ListenPacket }()

	s, err := New(Config{UDPAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("New with the first UDP port's number taken for TCP: %v", err)
	}
	defer s.Close()
	port := s.UDPAddr().(*net.UDPAddr).Port
	if calls < 2 || port == takenPort {
		t.Fatalf("listened on UDP %d after %d tries; want another port than %d", port, calls, takenPort)
	}
	if got := s.tcpAddr(); got != s.UDPAddr().String() {
		t.Errorf("TCP on %s, UDP on %s: want the same number", got, s.UDPAddr())
	}

	// A port the configuration names is not changed.
	listenUDP = net.ListenPacket
	if _, err := New(Config{UDPAddr: "127.0.0.1:" + strconv.Itoa(takenPort), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err == nil {
		t.Error("New on a configured port whose TCP number is taken succeeded")
	}
}
