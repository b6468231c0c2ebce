package loadgen

import (
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/client"
)

// Receiver records what one simulated subscriber receives on all of its
// tracks: packets, bytes, sequence gaps (loss) and the latency of video
// packets (receive time minus the send time the synthetic payload
// carries). The load side of every scenario and of both servers of the
// SFU bench records through it, so their figures are measured alike.
type Receiver struct {
	mu         sync.Mutex
	lat        Hist // video packets since the last ResetLatency
	tracks     []*trackCount
	bad        uint64 // payloads that are not intact synthetic media
	firstVideo time.Time
	firstKey   time.Time     // the first packet of the first whole keyframe
	videoCh    chan struct{} // closed at the first video packet
	keyCh      chan struct{} // closed at firstKey
}

// trackCount is one track's counters, guarded by the Receiver's mutex.
type trackCount struct {
	video    bool
	packets  uint64
	bytes    uint64
	started  bool
	firstExt uint64 // extended sequence number of the first packet
	highExt  uint64 // highest extended sequence number
}

// NewReceiver returns an empty Receiver.
func NewReceiver() *Receiver {
	return &Receiver{videoCh: make(chan struct{}), keyCh: make(chan struct{})}
}

// Consume reads track until it ends, recording every packet. It is meant
// to be Options.OnTrack's body (or pion's OnTrack's), which runs on the
// track's own goroutine.
func (r *Receiver) Consume(t *webrtc.TrackRemote) {
	tc := &trackCount{video: t.Kind() == webrtc.RTPCodecTypeVideo}
	r.mu.Lock()
	r.tracks = append(r.tracks, tc)
	r.mu.Unlock()
	buf := make([]byte, 1600)
	var pkt rtp.Packet
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		info, ok := client.ParseSynthetic(pkt.Payload, tc.video)
		r.record(tc, &pkt, n, now, info, ok)
	}
}

func (r *Receiver) record(tc *trackCount, pkt *rtp.Packet, n int, now time.Time, info client.SyntheticInfo, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tc.packets++
	tc.bytes += uint64(n)
	tc.advance(pkt.SequenceNumber)
	if !ok {
		r.bad++
		return
	}
	if !tc.video {
		return
	}
	r.lat.Record(now.Sub(info.Sent))
	if r.firstVideo.IsZero() {
		r.firstVideo = now
		close(r.videoCh)
	}
	if info.Keyframe && info.Index == 0 && r.firstKey.IsZero() {
		r.firstKey = now
		close(r.keyCh)
	}
}

// advance unwraps a 16-bit sequence number against the highest seen.
func (tc *trackCount) advance(seq uint16) {
	if !tc.started {
		tc.started = true
		tc.firstExt = 1<<16 | uint64(seq) // room below for reordered packets
		tc.highExt = tc.firstExt
		return
	}
	ext := tc.highExt&^0xffff | uint64(seq)
	switch {
	case ext > tc.highExt && ext-tc.highExt > 0x8000:
		ext -= 1 << 16
	case ext < tc.highExt && tc.highExt-ext > 0x8000:
		ext += 1 << 16
	}
	if ext > tc.highExt {
		tc.highExt = ext
	}
	if ext < tc.firstExt {
		tc.firstExt = ext
	}
}

// FirstVideo is closed when the first video packet arrives.
func (r *Receiver) FirstVideo() <-chan struct{} { return r.videoCh }

// FirstVideoAt is when the first video packet arrived; zero before.
func (r *Receiver) FirstVideoAt() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstVideo
}

// FirstKeyframe is closed when the first packet of a keyframe arrives:
// from then on the subscriber can show video. (An SFU that forwards from
// any packet gets FirstVideo sooner, but nothing to decode.)
func (r *Receiver) FirstKeyframe() <-chan struct{} { return r.keyCh }

// FirstKeyframeAt is when the first keyframe began to arrive; zero before.
func (r *Receiver) FirstKeyframeAt() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstKey
}

// RecvCounts are a Receiver's totals at one moment; the difference of two
// is what arrived between them.
type RecvCounts struct {
	Tracks       int
	VideoTracks  int
	Packets      uint64
	VideoPackets uint64
	Bytes        uint64
	Expected     uint64 // packets the sequence numbers say were sent
	Bad          uint64
}

// Counts returns the totals so far.
func (r *Receiver) Counts() RecvCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := RecvCounts{Tracks: len(r.tracks), Bad: r.bad}
	for _, t := range r.tracks {
		c.Packets += t.packets
		c.Bytes += t.bytes
		if t.started {
			c.Expected += t.highExt - t.firstExt + 1
		}
		if t.video {
			c.VideoTracks++
			c.VideoPackets += t.packets
		}
	}
	return c
}

// Sub is c minus an earlier snapshot o.
func (c RecvCounts) Sub(o RecvCounts) RecvCounts {
	return RecvCounts{
		Tracks: c.Tracks, VideoTracks: c.VideoTracks,
		Packets: c.Packets - o.Packets, VideoPackets: c.VideoPackets - o.VideoPackets,
		Bytes: c.Bytes - o.Bytes, Expected: c.Expected - o.Expected, Bad: c.Bad - o.Bad,
	}
}

// Add sums two snapshots (of different receivers).
func (c RecvCounts) Add(o RecvCounts) RecvCounts {
	return RecvCounts{
		Tracks: c.Tracks + o.Tracks, VideoTracks: c.VideoTracks + o.VideoTracks,
		Packets: c.Packets + o.Packets, VideoPackets: c.VideoPackets + o.VideoPackets,
		Bytes: c.Bytes + o.Bytes, Expected: c.Expected + o.Expected, Bad: c.Bad + o.Bad,
	}
}

// Loss is the share of expected packets that did not arrive (0 to 1).
// Retransmissions that arrive twice can make it slightly negative; it is
// clamped at 0.
func (c RecvCounts) Loss() float64 {
	if c.Expected == 0 || c.Packets >= c.Expected {
		return 0
	}
	return 1 - float64(c.Packets)/float64(c.Expected)
}

// AddLatency adds the video latency samples recorded since the last reset
// to dst; with reset, the Receiver starts afresh (a measurement window
// begins).
func (r *Receiver) AddLatency(dst *Hist, reset bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if dst != nil {
		dst.Merge(&r.lat)
	}
	if reset {
		r.lat.Reset()
	}
}
