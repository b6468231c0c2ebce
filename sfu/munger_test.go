package sfu

import (
	"testing"
	"time"
)

// step is one incoming packet and what must go out for it.
type step struct {
	want   int    // the layer chosen before this packet (-2: leave it)
	idx    int    // the packet's layer
	seq    uint16 // incoming
	ts     uint32
	key    bool
	atMs   int // arrival, in ms from the start
	ok     bool
	outSeq uint16
	outTS  uint32
}

const keep = -2

func TestMungerForward(t *testing.T) {
	for _, c := range []struct {
		name  string
		video bool
		steps []step
	}{
		{"audio goes out as it comes, across the wrap", false, []step{
			{keep, 0, 65534, 1000, false, 0, true, 65534, 1000},
			{keep, 0, 65535, 1960, false, 20, true, 65535, 1960},
			{keep, 0, 0, 2920, false, 40, true, 0, 2920},
			{keep, 0, 1, 3880, false, 60, true, 1, 3880},
		}},
		{"video waits for a layer to be chosen and for its keyframe", true, []step{
			{keep, 0, 10, 900, true, 0, false, 0, 0},  // no layer chosen yet
			{0, 0, 11, 900, false, 10, false, 0, 0},   // not a keyframe
			{keep, 1, 50, 900, true, 20, false, 0, 0}, // a keyframe of another layer
			{keep, 0, 12, 3900, true, 30, true, 12, 3900},
			{keep, 0, 13, 3900, false, 31, true, 13, 3900},
		}},
		{"a switch continues the numbers, from a start past half the space", true, []step{
			{0, 0, 40000, 5000, true, 0, true, 40000, 5000},
			{keep, 0, 40001, 5000, false, 1, true, 40001, 5000},
			{keep, 0, 40002, 8000, false, 33, true, 40002, 8000},
			{1, 1, 7, 700000, false, 40, false, 0, 0}, // the new layer, before its keyframe
			{keep, 0, 40003, 8000, false, 41, true, 40003, 8000},
			// The keyframe of layer 1: one past the last number, and the
			// timestamp 9 ms (810 ticks at 90 kHz) past the last.
			{keep, 1, 8, 703000, true, 50, true, 40004, 8810},
			{keep, 1, 9, 703000, false, 51, true, 40005, 8810},
			{keep, 0, 40004, 11000, false, 52, false, 0, 0}, // the old layer no longer goes out
			{keep, 1, 7, 700000, false, 53, false, 0, 0},    // reordered, from before the switch
			{keep, 1, 10, 706000, false, 80, true, 40006, 11810},
		}},
		{"outgoing numbers wrap with the incoming ones", true, []step{
			{0, 0, 65535, 1, true, 0, true, 65535, 1},
			{keep, 0, 0, 3001, false, 33, true, 0, 3001},
			{1, 1, 300, 9000, true, 40, true, 1, 3001 + 630},
			{keep, 1, 301, 9000, false, 41, true, 2, 3631},
		}},
		{"a late packet goes out under its own number and does not move the last back", true, []step{
			{0, 0, 100, 0, true, 0, true, 100, 0},
			{keep, 0, 102, 3000, false, 33, true, 102, 3000},
			{keep, 0, 101, 0, false, 34, true, 101, 0},
			{1, 1, 5000, 90000, true, 40, true, 103, 3000 + 630},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newMunger(c.video, 90000)
			t0 := time.Unix(1000, 0)
			for i, s := range c.steps {
				if s.want != keep {
					m.want = s.want
				}
				seq, ts, ok := m.forward(s.idx, s.seq, s.ts, s.key, t0.Add(time.Duration(s.atMs)*time.Millisecond))
				if ok != s.ok || (ok && (seq != s.outSeq || ts != s.outTS)) {
					t.Fatalf("step %d (layer %d seq %d ts %d key %v): got ok=%v seq %d ts %d; want ok=%v seq %d ts %d",
						i, s.idx, s.seq, s.ts, s.key, ok, seq, ts, s.ok, s.outSeq, s.outTS)
				}
			}
		})
	}
}

// TestMungerResent: a NACK for an outgoing number finds the layer, the
// incoming number and the timestamp offset it went out with, even after
// a switch changed the offsets; a number whose slot has been reused, or
// that never went out, finds nothing.
func TestMungerResent(t *testing.T) {
	m := newMunger(true, 90000)
	m.want = 0
	t0 := time.Unix(1000, 0)
	for i := range 5 {
		m.forward(0, uint16(200+i), 5000, i == 0, t0.Add(time.Duration(i)*time.Millisecond))
	}
	m.want = 1
	m.forward(1, 9000, 100000, true, t0.Add(40*time.Millisecond)) // out 205
	for _, c := range []struct {
		out      uint16
		ok       bool
		layer    int
		in       uint16
		tsOffset uint32
	}{
		{202, true, 0, 202, 0},
		{205, true, 1, 9000, m.tsOffset},
		{206, false, 0, 0, 0}, // not sent yet
		{199, false, 0, 0, 0}, // never sent
	} {
		layer, in, off, ok := m.resent(c.out)
		if ok != c.ok || (ok && (layer != c.layer || in != c.in || off != c.tsOffset)) {
			t.Errorf("resent(%d) = layer %d in %d offset %d ok %v; want layer %d in %d offset %d ok %v",
				c.out, layer, in, off, ok, c.layer, c.in, c.tsOffset, c.ok)
		}
	}
	if m.tsOffset == 0 {
		t.Fatal("the switch left the timestamp offset at 0: the case above proves nothing")
	}
	// historySize packets later, 202's slot holds another packet.
	for i := range historySize {
		m.forward(1, uint16(9001+i), 100000, false, t0.Add(50*time.Millisecond))
	}
	if _, in, _, ok := m.resent(202); ok {
		t.Errorf("resent(202) after its slot was reused: found incoming %d", in)
	}
}

func TestSeqBefore(t *testing.T) {
	for _, c := range []struct {
		a, b uint16
		want bool
	}{
		{1, 2, true}, {2, 1, false}, {5, 5, false},
		{65535, 0, true}, {0, 65535, false},
		{0, 0x7fff, true}, {0, 0x8001, false},
	} {
		if got := seqBefore(c.a, c.b); got != c.want {
			t.Errorf("seqBefore(%d, %d) = %v", c.a, c.b, got)
		}
	}
}
