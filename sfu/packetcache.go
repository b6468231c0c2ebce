package sfu

import "sync"

// packetCache keeps a layer's recent packets by sequence number, to answer
// subscribers' NACKs. One cache serves every subscriber.
type packetCache struct {
	mu    sync.Mutex
	slots [][]byte
	seqs  []uint16
	valid []bool
}

func newPacketCache(n int) *packetCache {
	c := &packetCache{slots: make([][]byte, n), seqs: make([]uint16, n), valid: make([]bool, n)}
	for i := range c.slots {
		c.slots[i] = make([]byte, 0, 1500)
	}
	return c
}

func (c *packetCache) put(pkt []byte, seq uint16) {
	i := int(seq) % len(c.slots)
	c.mu.Lock()
	c.slots[i] = append(c.slots[i][:0], pkt...)
	c.seqs[i], c.valid[i] = seq, true
	c.mu.Unlock()
}

// get copies the packet with seq into dst, if it is still cached.
func (c *packetCache) get(seq uint16, dst []byte) ([]byte, bool) {
	i := int(seq) % len(c.slots)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid[i] || c.seqs[i] != seq {
		return nil, false
	}
	return append(dst[:0], c.slots[i]...), true
}
