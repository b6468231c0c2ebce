package sfu

import "testing"

func TestPacketCache(t *testing.T) {
	c := newPacketCache(4)
	c.put([]byte{1, 2, 3}, 100)
	c.put([]byte{4, 5}, 101)
	if b, ok := c.get(100, nil); !ok || len(b) != 3 || b[2] != 3 {
		t.Fatalf("get 100: %v %v", b, ok)
	}
	c.put([]byte{9}, 104) // evicts 100, which shares its slot
	if _, ok := c.get(100, nil); ok {
		t.Fatal("evicted packet still served")
	}
	if _, ok := c.get(7, nil); ok {
		t.Fatal("never-cached packet served")
	}
}
