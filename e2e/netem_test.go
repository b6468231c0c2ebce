package e2e

import (
	"math/rand"
	"net"
	"sync"
	"time"
)

// lossyConn drops a fraction of the RTP packets a socket receives (STUN,
// DTLS and RTCP pass), with a seeded generator so runs are repeatable.
type lossyConn struct {
	net.PacketConn
	mu      sync.Mutex
	rng     *rand.Rand
	loss    float64
	dropped int
}

func newLossyConn(loss float64) (*lossyConn, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &lossyConn{PacketConn: c, rng: rand.New(rand.NewSource(1)), loss: loss}, nil
}

// isRTP tells RTP from STUN (first byte 0-3), DTLS (20-63) and RTCP
// (payload types 192-223).
func isRTP(b []byte) bool {
	return len(b) >= 12 && b[0]>>6 == 2 && (b[1]&0x7f < 64 || b[1]&0x7f > 95)
}

func (c *lossyConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil || !isRTP(b[:n]) {
			return n, addr, err
		}
		c.mu.Lock()
		drop := c.rng.Float64() < c.loss
		if drop {
			c.dropped++
		}
		c.mu.Unlock()
		if !drop {
			return n, addr, err
		}
	}
}

func (c *lossyConn) droppedPackets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// throttledConn limits the RTP a socket sends to a bit rate, dropping what
// exceeds it, as a narrow link would; other packets pass. A rate of 0
// lifts the limit.
type throttledConn struct {
	net.PacketConn
	dtls   bool // throttle DTLS application data (data channels) too
	mu     sync.Mutex
	rate   float64 // bits per second
	tokens float64 // bits
	last   time.Time
}

func newThrottledConn() (*throttledConn, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &throttledConn{PacketConn: c}, nil
}

func (c *throttledConn) setRate(bps float64) {
	c.mu.Lock()
	c.rate, c.tokens, c.last = bps, 0, time.Now()
	c.mu.Unlock()
}

func (c *throttledConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if isRTP(b) || (c.dtls && len(b) > 0 && b[0] == 23) {
		c.mu.Lock()
		if c.rate > 0 {
			now := time.Now()
			c.tokens = min(c.tokens+now.Sub(c.last).Seconds()*c.rate, c.rate/10) // 100 ms of burst
			c.last = now
			if c.tokens < float64(len(b)*8) {
				c.mu.Unlock()
				return len(b), nil // lost on the narrow link
			}
			c.tokens -= float64(len(b) * 8)
		}
		c.mu.Unlock()
	}
	return c.PacketConn.WriteTo(b, addr)
}
