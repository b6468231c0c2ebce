package sfu

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// DownTrack is one publication as one subscriber receives it. It rewrites
// what it forwards into the subscriber's terms: its SSRC, payload type and
// header-extension IDs, and one continuous sequence and timestamp space
// across simulcast layer switches.
type DownTrack struct {
	pub    *Publication
	sub    *Participant
	key    pubKey
	sender *webrtc.RTPSender

	noCodec atomic.Bool // the subscriber's answer could not take the publication's codec

	mu         sync.Mutex
	bound      bool
	ssrc       uint32
	pt         uint8
	levelExt   uint8
	writer     webrtc.TrackLocalWriter
	m          munger // what goes out, under which numbers
	maxHeight  int
	estimate   int64 // subscriber's bandwidth estimate (REMB), bits/s; 0: unknown
	lastChoice time.Time
	ext        [1]rtp.Extension
	resend     []byte
}

func newDownTrack(pub *Publication, sub *Participant, key pubKey, maxHeight int) *DownTrack {
	return &DownTrack{pub: pub, sub: sub, key: key, maxHeight: maxHeight, m: newMunger(!pub.audio(), pub.codec.ClockRate)}
}

// ID is the track's id in the subscriber's SDP: its source.
func (dt *DownTrack) ID() string { return dt.key.source }

// StreamID is the publisher's user ID, so clients group a member's tracks.
func (dt *DownTrack) StreamID() string { return dt.key.peer }

// RID is empty: a subscriber receives one encoding.
func (dt *DownTrack) RID() string { return "" }

// Kind is the publication's kind.
func (dt *DownTrack) Kind() webrtc.RTPCodecType { return dt.pub.kind }

// Bind picks the subscriber's payload type for the publisher's codec and
// the subscriber's audio-level extension ID.
func (dt *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	c, err := matchCodec(dt.pub.codec, ctx.CodecParameters())
	if err != nil {
		dt.noCodec.Store(true)
		return c, err
	}
	dt.mu.Lock()
	defer dt.mu.Unlock()
	dt.bound, dt.ssrc, dt.pt, dt.writer, dt.m.clock = true, uint32(ctx.SSRC()), uint8(c.PayloadType), ctx.WriteStream(), c.ClockRate
	for _, e := range ctx.HeaderExtensions() {
		if e.URI == extAudioLevel {
			dt.levelExt = uint8(e.ID)
		}
	}
	if !dt.pub.audio() {
		dt.chooseLayerLocked(time.Now())
		if dt.sub.downReady.Load() {
			dt.pub.requestKeyframe(dt.m.want)
		}
	}
	return c, nil
}

// connected runs when the subscriber's down connection is up: a video
// subscriber still waiting for its first keyframe asks for it now.
func (dt *DownTrack) connected() {
	dt.mu.Lock()
	want, waiting := dt.m.want, dt.m.waitKey
	dt.mu.Unlock()
	if waiting {
		dt.pub.forceKeyframe(want)
	}
}

// Unbind stops writing.
func (dt *DownTrack) Unbind(webrtc.TrackLocalContext) error {
	dt.mu.Lock()
	dt.bound = false
	dt.mu.Unlock()
	return nil
}

func matchCodec(want webrtc.RTPCodecParameters, have []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, error) {
	var fallback *webrtc.RTPCodecParameters
	for i, c := range have {
		if !strings.EqualFold(c.MimeType, want.MimeType) {
			continue
		}
		if c.SDPFmtpLine == want.SDPFmtpLine {
			return c, nil
		}
		if fallback == nil {
			fallback = &have[i]
		}
	}
	if fallback != nil {
		return *fallback, nil
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

func (dt *DownTrack) setMaxHeight(h int) {
	dt.mu.Lock()
	dt.maxHeight = h
	dt.mu.Unlock()
}

// forward sends one packet of layer idx, if it is the layer this
// subscriber gets. It runs on the publication's read goroutine.
func (dt *DownTrack) forward(idx int, pkt *rtp.Packet, keyframe bool, now time.Time) {
	dt.mu.Lock()
	defer dt.mu.Unlock()
	if !dt.bound {
		return
	}
	if dt.m.video {
		if dt.m.waitKey && !dt.sub.downReady.Load() {
			return // a keyframe now would be lost before SRTP is up
		}
		if now.Sub(dt.lastChoice) > 500*time.Millisecond {
			dt.chooseLayerLocked(now)
		}
	}
	seq, ts, ok := dt.m.forward(idx, pkt.SequenceNumber, pkt.Timestamp, keyframe, now)
	if !ok {
		return
	}
	out := pkt.Header
	out.SequenceNumber, out.Timestamp = seq, ts
	dt.writeLocked(&out, pkt)
}

// chooseLayerLocked picks the best layer the subscriber's shown size and
// bandwidth estimate allow, and asks for a keyframe of it if it changes.
func (dt *DownTrack) chooseLayerLocked(now time.Time) {
	dt.lastChoice = now
	n := dt.pub.layerCount()
	if n == 0 {
		return
	}
	best := n - 1
	if dt.maxHeight > 0 && n > 1 {
		switch {
		case dt.maxHeight <= 240:
			best = 0
		case dt.maxHeight <= 480 && n > 2:
			best = 1
		}
	}
	if dt.estimate > 0 {
		for best > 0 {
			l := dt.pub.layer(best)
			if l == nil || l.bitrate.Load() <= dt.estimate*9/10 {
				break
			}
			best--
		}
	}
	if best != dt.m.want {
		dt.m.want = best
		if dt.m.started && best != dt.m.cur {
			dt.pub.requestKeyframe(best)
		}
	}
}

// writeLocked writes a forwarded or resent packet in the subscriber's terms.
func (dt *DownTrack) writeLocked(out *rtp.Header, pkt *rtp.Packet) {
	out.SSRC, out.PayloadType = dt.ssrc, dt.pt
	// Only the audio level travels on, under the subscriber's ID; the
	// array behind Extensions is the DownTrack's, so this allocates nothing.
	out.Extensions, out.Extension = dt.ext[:0], false
	if dt.levelExt != 0 && dt.pub.levelExt != 0 {
		if v := pkt.GetExtension(dt.pub.levelExt); len(v) > 0 {
			_ = out.SetExtension(dt.levelExt, v)
		}
	}
	if _, err := dt.writer.WriteRTP(out, pkt.Payload); err != nil {
		dt.pub.owner.sfu.metrics.dropped.WithLabelValues("write").Inc()
	}
}

// readRTCP handles the subscriber's feedback on this track until the
// sender stops: NACKs are answered from the cache, PLIs and FIRs become a
// (throttled) keyframe request, REMB updates the bandwidth estimate.
func (dt *DownTrack) readRTCP() {
	for {
		pkts, _, err := dt.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.TransportLayerNack:
				for _, pair := range p.Nacks {
					pair.Range(func(seq uint16) bool { dt.resendOne(seq); return true })
				}
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				dt.mu.Lock()
				layer := dt.m.cur
				dt.mu.Unlock()
				dt.pub.requestKeyframe(layer)
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				dt.mu.Lock()
				dt.estimate = int64(p.Bitrate)
				dt.mu.Unlock()
			}
		}
	}
}

// resendOne answers a NACK for the subscriber's sequence number seq.
func (dt *DownTrack) resendOne(seq uint16) {
	dt.mu.Lock()
	defer dt.mu.Unlock()
	idx, inSeq, tsOffset, ok := dt.m.resent(seq)
	if !ok || !dt.bound {
		return
	}
	l := dt.pub.layer(idx)
	if l == nil || l.cache == nil {
		return
	}
	buf, ok := l.cache.get(inSeq, dt.resend)
	if !ok {
		dt.pub.owner.sfu.metrics.nacks.WithLabelValues("miss").Inc()
		return
	}
	dt.resend = buf
	var pkt rtp.Packet // its header has the publisher's number, not the layer's (inSeq)
	if pkt.Unmarshal(buf) != nil {
		return
	}
	out := pkt.Header
	out.SequenceNumber = seq
	out.Timestamp = pkt.Timestamp - tsOffset
	dt.writeLocked(&out, &pkt)
	dt.pub.owner.sfu.metrics.nacks.WithLabelValues("resent").Inc()
}
