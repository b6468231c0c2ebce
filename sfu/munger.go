package sfu

import "time"

const (
	historySize = 1024   // sent packets remembered for answering NACKs
	switchGuard = 0x4000 // packets after a switch during which older ones of the new layer are dropped
	foldHistory = 128    // dropped padding packets remembered, for numbering late packets
)

// munger is one subscriber's rewrite of one publication, with no locks
// and no I/O (DownTrack holds it under its mutex). It decides which
// packets go out: video starts, and changes simulcast layer, only at a
// keyframe of the layer wanted. It numbers what goes out in one sequence
// and timestamp space, continuous across layer switches, as a subscriber's
// jitter buffer and decoder need. And it remembers what it sent, so that a
// NACK for an outgoing number finds the packet that number came from.
// The incoming numbers it sees are a layer's numbers without its dropped
// padding (padFold), which the packet cache is keyed by too.
type munger struct {
	video bool
	clock uint32 // RTP clock rate, for the timestamp step at a switch

	started   bool // something has gone out: last* are valid
	waitKey   bool // video: nothing goes out until a keyframe of want
	cur, want int  // layer going out, and the layer to switch to (-1: none chosen yet)

	seqOffset uint16 // incoming minus outgoing sequence number, for cur
	tsOffset  uint32 // incoming minus outgoing timestamp, for cur
	lastSeq   uint16 // the highest outgoing sequence number
	lastTS    uint32 // and its timestamp
	lastSent  time.Time
	switchSeq uint16 // the incoming number at which cur began
	since     int    // packets since then, up to switchGuard
	history   [historySize]sent
}

// sent is one remembered outgoing packet.
type sent struct {
	outSeq   uint16
	inSeq    uint16
	tsOffset uint32
	layer    int8
	ok       bool
}

func newMunger(video bool, clock uint32) munger {
	return munger{video: video, clock: clock, waitKey: video, want: -1}
}

// forward decides about one incoming packet of layer idx with sequence
// number seq and timestamp ts, keyframe if it starts a keyframe: whether
// it goes out, and under which sequence number and timestamp. Audio has
// one layer and always goes out.
func (m *munger) forward(idx int, seq uint16, ts uint32, keyframe bool, now time.Time) (outSeq uint16, outTS uint32, ok bool) {
	if m.video {
		switch {
		case idx == m.want && keyframe && (m.waitKey || m.want != m.cur):
			m.switchTo(idx, seq, ts, now)
		case m.waitKey || idx != m.cur:
			return 0, 0, false
		case m.since < switchGuard:
			if seqBefore(seq, m.switchSeq) {
				return 0, 0, false // of the new layer, but from before the switch: its number is the old layer's
			}
			m.since++
		}
	}
	outSeq, outTS = seq-m.seqOffset, ts-m.tsOffset
	if !m.started || !seqBefore(outSeq, m.lastSeq) {
		m.lastSeq, m.lastTS, m.lastSent = outSeq, outTS, now
	}
	m.started = true
	m.history[outSeq%historySize] = sent{outSeq: outSeq, inSeq: seq, tsOffset: m.tsOffset, layer: int8(idx), ok: true}
	return outSeq, outTS, true
}

// switchTo makes layer idx the one going out, from its keyframe with
// sequence number seq and timestamp ts: the first packet continues the
// outgoing numbers, and its timestamp follows the last by the time that
// has passed.
func (m *munger) switchTo(idx int, seq uint16, ts uint32, now time.Time) {
	if m.started {
		m.seqOffset = seq - (m.lastSeq + 1)
		elapsed := uint32(now.Sub(m.lastSent).Microseconds() * int64(m.clock) / 1e6)
		if elapsed == 0 {
			elapsed = 1
		}
		m.tsOffset = ts - (m.lastTS + elapsed)
	}
	m.cur, m.waitKey = idx, false
	m.switchSeq, m.since = seq, 0
}

// resent finds what went out as outSeq: its layer, incoming sequence
// number and timestamp offset; ok is false once it is forgotten.
func (m *munger) resent(outSeq uint16) (layer int, inSeq uint16, tsOffset uint32, ok bool) {
	h := m.history[outSeq%historySize]
	if !h.ok || h.outSeq != outSeq {
		return 0, 0, 0, false
	}
	return int(h.layer), h.inSeq, h.tsOffset, true
}

// padFold drops a layer's padding-only packets (a publisher's bandwidth
// probes: the RTP padding bit set and nothing but padding) before any
// subscriber's work, and numbers the rest of the layer without the gaps
// they leave: the layer number of a packet is its incoming number minus
// the padding dropped before it. Every subscriber's munger works on layer
// numbers, so what goes out is contiguous (a gap would be NACKed for a
// packet that never existed), and the packet cache is keyed by them, so a
// NACK finds the packet its number came from and never a dropped one.
//
// Only padding newer than every packet seen is dropped. A padding packet
// that comes late goes out as any packet does: the packets after it have
// been numbered with it counted. A late packet is numbered by the drops
// remembered after it; one older than the drops remembered, or a repeat of
// a dropped one, is dropped too. It has no locks: one layer's read
// goroutine owns it.
type padFold struct {
	started  bool
	high     uint64 // the highest extended incoming number seen
	dropped  uint64 // padding packets dropped so far
	drops    [foldHistory]uint64
	n, next  int    // valid entries in drops (oldest first from next-n), and the next slot
	forgot   uint64 // the newest drop no longer in drops
	forgotOK bool
}

// fold decides about one incoming packet with sequence number seq,
// padding if it carries nothing but padding: ok is false if it is
// dropped, and otherwise layer is its number with the dropped padding
// taken out.
func (f *padFold) fold(seq uint16, padding bool) (layer uint16, ok bool) {
	if !f.started {
		f.started, f.high = true, 1<<32|uint64(seq) // room below for late packets
		if padding {
			f.drop(f.high)
			return 0, false
		}
		return seq, true
	}
	ext := f.high&^0xffff | uint64(seq)
	switch {
	case ext > f.high+0x8000:
		ext -= 0x10000
	case ext+0x8000 < f.high:
		ext += 0x10000
	}
	if ext > f.high {
		f.high = ext
		if padding {
			f.drop(ext)
			return 0, false
		}
		return uint16(ext - f.dropped), true
	}
	if f.forgotOK && ext <= f.forgot {
		return 0, false // the drops before it are forgotten: no number is sure to be its own
	}
	after := uint64(0)
	for i := 1; i <= f.n; i++ {
		d := f.drops[(f.next-i+foldHistory)%foldHistory]
		if d == ext {
			return 0, false // a dropped packet again
		}
		if d < ext {
			break
		}
		after++
	}
	return uint16(ext - (f.dropped - after)), true
}

func (f *padFold) drop(ext uint64) {
	if f.n == foldHistory {
		f.forgot, f.forgotOK = f.drops[f.next], true
	} else {
		f.n++
	}
	f.drops[f.next] = ext
	f.next = (f.next + 1) % foldHistory
	f.dropped++
}

// seqBefore reports whether sequence number a comes before b, modulo
// 2^16 (RFC 3550's comparison).
func seqBefore(a, b uint16) bool {
	return a != b && b-a < 0x8000
}
