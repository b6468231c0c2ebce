package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
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

// padStep is one incoming packet of a layer and what padFold makes of it.
type padStep struct {
	seq     uint16
	padding bool
	ok      bool
	layer   uint16
}

func TestPadFold(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps []padStep
	}{
		{"padding is dropped and its gap closed", []padStep{
			{10, false, true, 10}, {11, true, false, 0}, {12, false, true, 11},
			{13, true, false, 0}, {14, true, false, 0}, {15, false, true, 12}, {16, false, true, 13},
		}},
		{"across the wrap", []padStep{
			{65534, false, true, 65534}, {65535, true, false, 0}, {0, false, true, 65535}, {1, true, false, 0}, {2, false, true, 0},
		}},
		{"a first packet of padding", []padStep{
			{5, true, false, 0}, {6, false, true, 5}, {7, false, true, 6},
		}},
		{"a late packet from before a dropped one keeps its place", []padStep{
			{10, false, true, 10}, {12, true, false, 0}, {13, false, true, 12}, {11, false, true, 11}, {14, false, true, 13},
		}},
		{"a late packet between two drops", []padStep{
			{10, false, true, 10}, {11, true, false, 0}, {13, true, false, 0}, {14, false, true, 12}, {12, false, true, 11}, {15, false, true, 13},
		}},
		{"late padding goes out: the packets after it were numbered with it", []padStep{
			{10, false, true, 10}, {12, false, true, 12}, {11, true, true, 11}, {13, false, true, 13},
		}},
		{"a dropped packet again is dropped again", []padStep{
			{10, false, true, 10}, {11, true, false, 0}, {12, false, true, 11}, {11, true, false, 0}, {11, false, false, 0},
		}},
		{"a late packet across the wrap", []padStep{
			{65533, false, true, 65533}, {65535, true, false, 0}, {0, false, true, 65535}, {65534, false, true, 65534}, {1, false, true, 0},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var f padFold
			for i, s := range c.steps {
				layer, ok := f.fold(s.seq, s.padding)
				if ok != s.ok || (ok && layer != s.layer) {
					t.Fatalf("step %d (seq %d padding %v): got ok=%v layer %d; want ok=%v layer %d", i, s.seq, s.padding, ok, layer, s.ok, s.layer)
				}
			}
		})
	}
}

// TestPadFoldForgets: a late packet older than the drops still
// remembered cannot be numbered for sure, and is dropped; one after them is.
func TestPadFoldForgets(t *testing.T) {
	var f padFold
	f.fold(100, false)
	f.fold(102, false)
	seq := uint16(103)
	for range foldHistory + 1 {
		if _, ok := f.fold(seq, true); ok {
			t.Fatalf("padding %d went out", seq)
		}
		seq++
	}
	if layer, ok := f.fold(101, false); ok {
		t.Fatalf("late 101, from before forgotten drops, went out as %d", layer)
	}
	// 103 was the first drop and is forgotten; the last one is remembered.
	if layer, ok := f.fold(seq, false); !ok || layer != seq-foldHistory-1 {
		t.Fatalf("next packet %d: ok=%v layer %d; want layer %d", seq, ok, layer, seq-foldHistory-1)
	}
}

// fwdChain is what a publication's read loop and one subscriber do with a
// packet: each layer's padFold and packet cache, then the munger; resend
// answers a NACK as DownTrack.resendOne does.
type fwdChain struct {
	t      *testing.T
	m      munger
	folds  [2]padFold
	caches [2]*packetCache
	t0     time.Time
}

func newFwdChain(t *testing.T) *fwdChain {
	return &fwdChain{t: t, m: newMunger(true, 90000), caches: [2]*packetCache{newPacketCache(64), newPacketCache(64)}, t0: time.Unix(1000, 0)}
}

// in sends seq of layer idx (a padding-only packet if padding); it
// returns the outgoing number, or ok false.
func (c *fwdChain) in(idx int, seq uint16, padding, key bool, atMs int) (uint16, bool) {
	c.t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 100, SSRC: uint32(idx + 1)}}
	if padding {
		p.Padding, p.PaddingSize = true, 200
	} else {
		p.Payload = []byte{0x10, 0x01, 0, 0, byte(seq)} // VP8 inter frame
		if key {
			p.Payload[1] = 0
		}
	}
	raw, err := p.Marshal()
	if err != nil {
		c.t.Fatal(err)
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(raw); err != nil {
		c.t.Fatal(err)
	}
	layer, ok := c.folds[idx].fold(pkt.SequenceNumber, pkt.Padding && len(pkt.Payload) == 0)
	if !ok {
		return 0, false
	}
	c.caches[idx].put(raw, layer)
	out, _, ok := c.m.forward(idx, layer, pkt.Timestamp, isKeyframe(webrtc.MimeTypeVP8, pkt.Payload), c.t0.Add(time.Duration(atMs)*time.Millisecond))
	return out, ok
}

// resend returns the layer and publisher's number of the packet a NACK
// for outSeq resends, or ok false.
func (c *fwdChain) resend(outSeq uint16) (idx int, seq uint16, ok bool) {
	c.t.Helper()
	idx, inSeq, _, ok := c.m.resent(outSeq)
	if !ok {
		return 0, 0, false
	}
	buf, ok := c.caches[idx].get(inSeq, nil)
	if !ok {
		return 0, 0, false
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(buf); err != nil {
		c.t.Fatal(err)
	}
	if len(pkt.Payload) == 0 {
		c.t.Fatalf("NACK for %d resends padding (seq %d)", outSeq, pkt.SequenceNumber)
	}
	return idx, pkt.SequenceNumber, true
}

// TestForwardFoldsPadding: padding dropped ahead of the munger leaves the
// subscriber's numbers contiguous, across a layer switch and around late
// packets, and each outgoing number's NACK resends the packet it carried.
func TestForwardFoldsPadding(t *testing.T) {
	c := newFwdChain(t)
	c.m.want = 0
	type pkt struct {
		idx     int
		seq     uint16
		padding bool
		key     bool
		want    int // layer wanted from this packet on (keep: unchanged)
		ok      bool
		out     uint16
	}
	steps := []pkt{
		{0, 500, false, true, keep, true, 500}, // the first number out is the first layer number
		{0, 501, true, false, keep, false, 0},
		{0, 502, false, false, keep, true, 501},
		{0, 503, true, false, keep, false, 0},
		{0, 504, true, false, keep, false, 0},
		{0, 506, false, false, keep, true, 503}, // 505 is lost for now
		{0, 505, false, false, keep, true, 502}, // and comes late: its own number, not a NACKed one
		{1, 40, true, false, 1, false, 0},       // layer 1 wanted; its padding before the keyframe
		{1, 41, false, false, keep, false, 0},   // not a keyframe yet
		{0, 507, true, false, keep, false, 0},   // layer 0's padding while waiting
		{0, 508, false, false, keep, true, 504},
		{1, 42, true, false, keep, false, 0},
		{1, 43, false, true, keep, true, 505}, // the switch: one past the last number, padding or not
		{1, 44, true, false, keep, false, 0},
		{1, 45, false, false, keep, true, 506},
		{0, 509, false, false, keep, false, 0}, // the old layer no longer goes out
	}
	for i, s := range steps {
		if s.want != keep {
			c.m.want = s.want
		}
		out, ok := c.in(s.idx, s.seq, s.padding, s.key, i*5)
		if ok != s.ok || (ok && out != s.out) {
			t.Fatalf("step %d (layer %d seq %d padding %v): got ok=%v out %d; want ok=%v out %d", i, s.idx, s.seq, s.padding, ok, out, s.ok, s.out)
		}
	}
	// Every outgoing number resends the packet it carried.
	for _, r := range []struct {
		out uint16
		idx int
		seq uint16
	}{{500, 0, 500}, {501, 0, 502}, {502, 0, 505}, {503, 0, 506}, {504, 0, 508}, {505, 1, 43}, {506, 1, 45}} {
		idx, seq, ok := c.resend(r.out)
		if !ok || idx != r.idx || seq != r.seq {
			t.Errorf("NACK %d: ok=%v layer %d seq %d; want layer %d seq %d", r.out, ok, idx, seq, r.idx, r.seq)
		}
	}
	if _, seq, ok := c.resend(507); ok {
		t.Errorf("NACK 507, never sent, resent seq %d", seq)
	}
}
