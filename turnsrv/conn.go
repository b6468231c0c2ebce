package turnsrv

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/pion/turn/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// connIdle is how long a TCP or TLS client connection may stay silent
// while no allocation lives on it. pion itself never times out such a
// connection (nor one whose TLS handshake failed, which it abandons
// open), so without this a client could hold sockets and goroutines
// forever.
const connIdle = 30 * time.Second

// acceptBackoffMax caps the pause after a failed Accept (EMFILE, ...):
// pion's accept loop would end the listener on any error.
const acceptBackoffMax = time.Second

// connSet tracks the client connections accepted on the TCP and TLS
// listeners: it caps their number, closes idle ones, and closes all of
// them on shutdown (pion's Close only closes the listeners, leaving
// accepted connections and their goroutines running).
type connSet struct {
	max    int
	idle   time.Duration
	refuse func(reason string, attrs ...any)

	mu     sync.Mutex
	conns  map[string]*trackedConn // remote|local → conn
	closed bool
}

func newConnSet(maxConns int, idle time.Duration, refuse func(string, ...any)) *connSet {
	return &connSet{max: maxConns, idle: idle, refuse: refuse, conns: map[string]*trackedConn{}}
}

func connKey(remote, local net.Addr) string { return remote.String() + "|" + local.String() }

// add tracks c, or closes it when the set is full or shut down.
func (s *connSet) add(c net.Conn) (*trackedConn, bool) {
	tc := &trackedConn{Conn: c, set: s, key: connKey(c.RemoteAddr(), c.LocalAddr())}
	s.mu.Lock()
	if s.closed || len(s.conns) >= s.max {
		full := !s.closed
		s.mu.Unlock()
		_ = c.Close()
		if full {
			s.refuse(reasonConnections, "client", c.RemoteAddr().String(), "limit", s.max)
		}
		return nil, false
	}
	s.conns[tc.key] = tc
	tc.mu.Lock() // the timer's Close reads tc.timer
	tc.timer = time.AfterFunc(s.idle, func() { _ = tc.Close() })
	tc.mu.Unlock()
	s.mu.Unlock()
	return tc, true
}

func (s *connSet) remove(tc *trackedConn) {
	s.mu.Lock()
	if s.conns[tc.key] == tc {
		delete(s.conns, tc.key)
	}
	s.mu.Unlock()
}

// hold marks whether an allocation lives on the connection from remote
// to local: a connection holding one is never closed for being idle (its
// allocation's lifetime governs it).
func (s *connSet) hold(remote, local net.Addr, held bool) {
	if remote == nil || local == nil || remote.Network() != "tcp" {
		return
	}
	s.mu.Lock()
	tc := s.conns[connKey(remote, local)]
	s.mu.Unlock()
	if tc != nil {
		tc.hold(held)
	}
}

// closeAll closes every tracked connection and refuses new ones.
func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*trackedConn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// trackedConn is an accepted client connection in a connSet.
type trackedConn struct {
	net.Conn
	set *connSet
	key string

	mu    sync.Mutex
	timer *time.Timer // closes the connection when idle and not held
	held  bool
}

// Read restarts the idle timer on every read that brings data.
func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if !c.held {
			c.timer.Reset(c.set.idle)
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *trackedConn) hold(held bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = held
	if held {
		c.timer.Stop()
	} else {
		c.timer.Reset(c.set.idle)
	}
}

// Close closes the connection and forgets it.
func (c *trackedConn) Close() error {
	c.mu.Lock()
	c.timer.Stop()
	c.mu.Unlock()
	c.set.remove(c)
	return c.Conn.Close()
}

// trackingListener is a TCP listener whose accepted connections go into
// a connSet, that survives transient Accept errors, and that reports when
// its accept loop has ended.
type trackingListener struct {
	net.Listener
	set      *connSet
	stop     chan struct{}
	stopOnce sync.Once
	ended    func() // called once when Accept returns for good
	endOnce  sync.Once
}

func newTrackingListener(ln net.Listener, set *connSet, ended func()) *trackingListener {
	return &trackingListener{Listener: ln, set: set, stop: make(chan struct{}), ended: ended}
}

// Accept returns the next connection the set admits.
func (l *trackingListener) Accept() (net.Conn, error) {
	backoff := 5 * time.Millisecond
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			if tc, ok := l.set.add(c); ok {
				return tc, nil
			}
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			l.endOnce.Do(l.ended)
			return nil, err
		}
		select {
		case <-time.After(backoff):
			backoff = min(2*backoff, acceptBackoffMax)
		case <-l.stop:
			l.endOnce.Do(l.ended)
			return nil, net.ErrClosed
		}
	}
}

// Close stops accepting.
func (l *trackingListener) Close() error {
	l.stopOnce.Do(func() { close(l.stop) })
	return l.Listener.Close()
}

// listenerPacketConn is the UDP listener socket: it survives transient
// read errors (pion's read loop would end on any) and reports when its
// read loop has ended.
type listenerPacketConn struct {
	net.PacketConn
	stop     chan struct{}
	stopOnce sync.Once
	ended    func()
	endOnce  sync.Once
}

func newListenerPacketConn(pc net.PacketConn, ended func()) *listenerPacketConn {
	return &listenerPacketConn{PacketConn: pc, stop: make(chan struct{}), ended: ended}
}

// ReadFrom reads the next datagram.
func (c *listenerPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	backoff := 5 * time.Millisecond
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err == nil {
			return n, addr, nil
		}
		if errors.Is(err, net.ErrClosed) {
			c.endOnce.Do(c.ended)
			return n, addr, err
		}
		select {
		case <-time.After(backoff):
			backoff = min(2*backoff, acceptBackoffMax)
		case <-c.stop:
			c.endOnce.Do(c.ended)
			return 0, nil, net.ErrClosed
		}
	}
}

// Close closes the socket.
func (c *listenerPacketConn) Close() error {
	c.stopOnce.Do(func() { close(c.stop) })
	return c.PacketConn.Close()
}

// countingPacketConn is a relay socket that counts the bytes it carries.
type countingPacketConn struct {
	net.PacketConn
	bytes prometheus.Counter
}

// ReadFrom reads a datagram from a peer.
func (c *countingPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	if n > 0 {
		c.bytes.Add(float64(n))
	}
	return n, addr, err
}

// WriteTo sends a datagram to a peer.
func (c *countingPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(p, addr)
	if n > 0 {
		c.bytes.Add(float64(n))
	}
	return n, err
}

// relayGen makes UDP relay sockets through pion's static or port-range
// generator, counts their bytes, and refuses TCP relays (RFC 6062).
type relayGen struct {
	inner   turn.RelayAddressGenerator
	network string // "udp4" or "udp6": the family of the relay address
	bytes   prometheus.Counter
}

// Validate checks the wrapped generator.
func (g *relayGen) Validate() error { return g.inner.Validate() }

// AllocatePacketConn opens a relay socket.
func (g *relayGen) AllocatePacketConn(c turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	if c.Network != g.network {
		return nil, nil, errFamily
	}
	conn, addr, err := g.inner.AllocatePacketConn(c)
	if err != nil {
		return nil, nil, err
	}
	return &countingPacketConn{PacketConn: conn, bytes: g.bytes}, addr, nil
}

// AllocateListener refuses TCP relays.
func (g *relayGen) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errTCPRelay
}

// AllocateConn refuses TCP relays.
func (g *relayGen) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errTCPRelay
}
