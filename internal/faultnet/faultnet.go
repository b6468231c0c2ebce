// Package faultnet breaks loopback networks on purpose, for the tests of
// what crvnode and its SDKs do when the network fails: a TCP proxy between
// a client and a node that can cut, black-hole or delay the connections
// through it, and a UDP socket wrapper that can black-hole media.
//
// It is test support only: the node never imports it.
package faultnet

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Mode is what a Proxy does with the traffic through it.
type Mode int

const (
	// Pass forwards both ways.
	Pass Mode = iota
	// Blackhole keeps connections open but delivers nothing either way,
	// as a network that silently drops every packet: neither side sees
	// an error until its own timeouts fire, and what TCP would retransmit
	// is delivered, in order, once the mode is Pass again. New
	// connections are accepted and then hear nothing.
	Blackhole
	// Down resets every connection through the proxy and every new one,
	// as a network interface that went away.
	Down
)

// Proxy forwards TCP connections from its loopback address to a target.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	mode   Mode
	delay  time.Duration
	conns  map[*pair]struct{}
	closed bool
	wake   chan struct{} // closed and renewed whenever mode changes

	wg sync.WaitGroup
}

// pair is one client connection and its connection to the target.
type pair struct{ client, server net.Conn }

// NewProxy listens on a free loopback port and forwards to target
// (host:port).
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[*pair]struct{}{}, wake: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port, to dial instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetMode switches the proxy's behaviour for existing and new connections.
// Down resets the connections open now.
func (p *Proxy) SetMode(m Mode) {
	p.mu.Lock()
	p.mode = m
	close(p.wake)
	p.wake = make(chan struct{})
	var reset []*pair
	if m == Down {
		for c := range p.conns {
			reset = append(reset, c)
			delete(p.conns, c)
		}
	}
	p.mu.Unlock()
	for _, c := range reset {
		c.reset()
	}
}

// SetDelay delays every chunk of data by d in each direction (0: none).
func (p *Proxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

// Conns is the number of connections open through the proxy.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close stops listening, resets every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	all := p.conns
	p.conns = map[*pair]struct{}{}
	close(p.wake)
	p.wake = make(chan struct{})
	p.mu.Unlock()
	err := p.ln.Close()
	for c := range all {
		c.reset()
	}
	p.wg.Wait()
	return err
}

func (p *Proxy) state() (Mode, time.Duration, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode, p.delay, p.wake
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if mode, _, _ := p.state(); mode == Down {
			resetConn(c)
			continue
		}
		s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			resetConn(c)
			continue
		}
		pr := &pair{client: c, server: s}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			pr.reset()
			return
		}
		p.conns[pr] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(pr, c, s)
		go p.pipe(pr, s, c)
	}
}

// pipe copies from src to dst as the mode allows, until either side ends;
// then it closes both, so that an end on one side reaches the other.
func (p *Proxy) pipe(pr *pair, src, dst net.Conn) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, pr)
		p.mu.Unlock()
		_ = pr.client.Close()
		_ = pr.server.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		if !p.hold() {
			return
		}
		n, err := src.Read(buf)
		if n > 0 {
			if _, delay, _ := p.state(); delay > 0 {
				time.Sleep(delay)
			}
			if !p.hold() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return
			}
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite() // pass the half-close on
			}
			return
		}
	}
}

// hold waits while the proxy black-holes: the data stays in the sockets'
// buffers, as TCP keeps retransmitting over a path that drops everything,
// and flows again in order when the path is back. It reports false once
// the proxy is down or closed.
func (p *Proxy) hold() bool {
	for {
		p.mu.Lock()
		mode, closed, wake := p.mode, p.closed, p.wake
		p.mu.Unlock()
		switch {
		case closed || mode == Down:
			return false
		case mode == Pass:
			return true
		}
		<-wake
	}
}

func (pr *pair) reset() {
	resetConn(pr.client)
	resetConn(pr.server)
}

// resetConn closes c with a TCP reset rather than a FIN, as a dead
// network path looks to the next write.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// PacketConn wraps a UDP socket so that a test can black-hole it: while
// blackholed, packets read are dropped and packets written vanish, as if
// the network between the socket and everyone else were down.
type PacketConn struct {
	net.PacketConn
	mu      sync.Mutex
	blocked bool
	dropped int
}

// WrapPacketConn wraps pc.
func WrapPacketConn(pc net.PacketConn) *PacketConn { return &PacketConn{PacketConn: pc} }

// SetBlackhole starts or stops dropping every packet.
func (c *PacketConn) SetBlackhole(on bool) {
	c.mu.Lock()
	c.blocked = on
	c.mu.Unlock()
}

// Dropped is the number of packets dropped so far, both ways.
func (c *PacketConn) Dropped() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

func (c *PacketConn) drop() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blocked {
		c.dropped++
	}
	return c.blocked
}

// ReadFrom reads the next packet that is not dropped.
func (c *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil || !c.drop() {
			return n, addr, err
		}
	}
}

// WriteTo sends b, or while blackholed drops it and reports success.
func (c *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.drop() {
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, addr)
}
