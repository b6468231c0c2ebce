package client

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Synthetic media is RTP whose payload carries its send time, its frame
// and packet numbers and a fill pattern derived from them, so receivers
// measure latency and loss and check every byte (ParseSynthetic). The
// payload starts as VP8 (video) or Opus (audio) would, so an SFU sees
// keyframes and frame starts where real media has them.

var syntheticMagic = [3]byte{'C', 'R', 'V'}

const syntheticHeader = 3 + 1 + 8 + 4 + 2 + 2 // magic, flags, sent, frame, index, count

// SyntheticInfo is what a synthetic payload says about itself.
type SyntheticInfo struct {
	Sent     time.Time
	Frame    uint32
	Index    int // packet within the frame
	Count    int // packets in the frame
	Keyframe bool
}

// ParseSynthetic reads a synthetic payload (video=true for VP8-framed
// video). ok is false if it is not one or any byte of it is wrong.
func ParseSynthetic(payload []byte, video bool) (info SyntheticInfo, ok bool) {
	skip := 1
	if video && len(payload) > 0 && payload[0]&0x10 != 0 {
		skip = 4 // descriptor and the 3-byte VP8 frame tag
	}
	if len(payload) < skip+syntheticHeader {
		return info, false
	}
	b := payload[skip:]
	if [3]byte(b[:3]) != syntheticMagic {
		return info, false
	}
	info.Keyframe = b[3]&1 != 0
	info.Sent = time.Unix(0, int64(binary.BigEndian.Uint64(b[4:12])))
	info.Frame = binary.BigEndian.Uint32(b[12:16])
	info.Index = int(binary.BigEndian.Uint16(b[16:18]))
	info.Count = int(binary.BigEndian.Uint16(b[18:20]))
	for i, v := range b[syntheticHeader:] {
		if v != fill(info.Frame, info.Index, i) {
			return info, false
		}
	}
	return info, true
}

func fill(frame uint32, index, i int) byte { return byte(int(frame)*31 + index*7 + i) }

func appendSynthetic(dst []byte, info SyntheticInfo, size int) []byte {
	var flags byte
	if info.Keyframe {
		flags = 1
	}
	dst = append(dst, syntheticMagic[:]...)
	dst = append(dst, flags)
	dst = binary.BigEndian.AppendUint64(dst, uint64(info.Sent.UnixNano()))
	dst = binary.BigEndian.AppendUint32(dst, info.Frame)
	dst = binary.BigEndian.AppendUint16(dst, uint16(info.Index))
	dst = binary.BigEndian.AppendUint16(dst, uint16(info.Count))
	for i := 0; i < size; i++ {
		dst = append(dst, fill(info.Frame, info.Index, i))
	}
	return dst
}

// SyntheticAudio is an Opus-like source: 50 packets a second with an
// RFC 6464 audio level, as if someone were speaking at Level dBov.
type SyntheticAudio struct {
	Level uint8 // dBov, 0 (loudest) to 127 (silence); default 0 is loud speech
	track *webrtc.TrackLocalStaticRTP
}

// NewSyntheticAudio returns a synthetic mic.
func NewSyntheticAudio() *SyntheticAudio {
	t, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "crvnode")
	return &SyntheticAudio{track: t}
}

// Tracks is the one audio track.
func (a *SyntheticAudio) Tracks() []webrtc.TrackLocal { return []webrtc.TrackLocal{a.track} }

// Start sends 20 ms packets until ctx ends.
func (a *SyntheticAudio) Start(ctx context.Context, sender *webrtc.RTPSender, _ string) {
	go drainRTCP(sender, "", nil)
	levelID := extID(sender, audioLevelURI)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var seq uint16
	var ts uint32
	buf := make([]byte, 0, 128)
	for n := uint32(0); ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts}}
		if levelID != 0 {
			_ = pkt.SetExtension(levelID, []byte{a.Level & 0x7f})
		}
		buf = append(buf[:0], 0xfc) // an Opus TOC byte
		pkt.Payload = appendSynthetic(buf, SyntheticInfo{Sent: time.Now(), Frame: n, Count: 1}, 40)
		if err := a.track.WriteRTP(&pkt); err != nil {
			return
		}
		seq++
		ts += 960
	}
}

// SyntheticVideo is a VP8-like camera at Bitrate bits/s and FPS frames a
// second, with a keyframe every 2 s and whenever the node asks. With
// Simulcast it sends three layers, rids "f", "h" and "q", at the full,
// half and quarter bitrate.
type SyntheticVideo struct {
	Bitrate   int
	FPS       int
	Simulcast bool
	// KeyframeInterval is the time between unrequested keyframes; zero
	// means 2 s.
	KeyframeInterval time.Duration
	layers           []*synthLayer
}

type synthLayer struct {
	track   *webrtc.TrackLocalStaticRTP
	rid     string
	bitrate int
	key     atomic.Bool
	seq     uint16
}

// NewSyntheticVideo returns a synthetic camera.
func NewSyntheticVideo(bitrate, fps int, simulcast bool) *SyntheticVideo {
	v := &SyntheticVideo{Bitrate: bitrate, FPS: fps, Simulcast: simulcast}
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	if !simulcast {
		t, _ := webrtc.NewTrackLocalStaticRTP(codec, "camera", "crvnode")
		v.layers = []*synthLayer{{track: t, bitrate: bitrate}}
		return v
	}
	for i, rid := range []string{"f", "h", "q"} {
		t, _ := webrtc.NewTrackLocalStaticRTP(codec, "camera", "crvnode", webrtc.WithRTPStreamID(rid))
		v.layers = append(v.layers, &synthLayer{track: t, rid: rid, bitrate: bitrate >> i})
	}
	return v
}

// Tracks are the layers, highest first.
func (v *SyntheticVideo) Tracks() []webrtc.TrackLocal {
	out := make([]webrtc.TrackLocal, len(v.layers))
	for i, l := range v.layers {
		out[i] = l.track
	}
	return out
}

// Start sends frames until ctx ends.
func (v *SyntheticVideo) Start(ctx context.Context, sender *webrtc.RTPSender, mid string) {
	midID, ridID := extID(sender, sdp.SDESMidURI), extID(sender, sdp.SDESRTPStreamIDURI)
	for _, l := range v.layers {
		go drainRTCP(sender, l.rid, &l.key)
		l.key.Store(true)
	}
	fps := v.FPS
	if fps <= 0 {
		fps = 30
	}
	tick := time.NewTicker(time.Second / time.Duration(fps))
	defer tick.Stop()
	every := v.KeyframeInterval
	if every <= 0 {
		every = 2 * time.Second
	}
	var buf []byte
	lastKey := time.Now()
	for frame := uint32(0); ; frame++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		periodic := now.Sub(lastKey) >= every
		if periodic {
			lastKey = now
		}
		for _, l := range v.layers {
			if periodic {
				l.key.Store(true)
			}
			key := l.key.Swap(false)
			size := l.bitrate / 8 / fps
			if err := l.sendFrame(frame, key, size, now, fps, mid, midID, ridID, &buf); err != nil {
				return
			}
		}
	}
}

const maxSyntheticPayload = 1100

func (l *synthLayer) sendFrame(frame uint32, key bool, size int, now time.Time, fps int, mid string, midID, ridID uint8, buf *[]byte) error {
	count := (size + maxSyntheticPayload - 1) / maxSyntheticPayload
	if count == 0 {
		count = 1
	}
	per := size / count
	for i := 0; i < count; i++ {
		b := (*buf)[:0]
		if i == 0 {
			tag := byte(1) // VP8 frame tag, bit 0: inter frame
			if key {
				tag = 0
			}
			b = append(b, 0x10, tag, 0, 0)
		} else {
			b = append(b, 0x00)
		}
		b = appendSynthetic(b, SyntheticInfo{Sent: now, Frame: frame, Index: i, Count: count, Keyframe: key}, max(per-syntheticHeader, 0))
		*buf = b
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: l.seq, Timestamp: frame * uint32(90000/fps), Marker: i == count-1}, Payload: b}
		if l.rid != "" {
			if midID != 0 {
				_ = pkt.SetExtension(midID, []byte(mid))
			}
			if ridID != 0 {
				_ = pkt.SetExtension(ridID, []byte(l.rid))
			}
		}
		l.seq++
		if err := l.track.WriteRTP(&pkt); err != nil {
			return err
		}
	}
	return nil
}

// extID is the header extension ID negotiated for uri on sender, or 0.
func extID(sender *webrtc.RTPSender, uri string) uint8 {
	for _, e := range sender.GetParameters().HeaderExtensions {
		if e.URI == uri {
			return uint8(e.ID)
		}
	}
	return 0
}

// drainRTCP reads a sender's RTCP (for one simulcast rid, or all when
// rid is ""), which keeps the NACK responder working, and flags key when
// the node asks for a keyframe.
func drainRTCP(sender *webrtc.RTPSender, rid string, key *atomic.Bool) {
	for {
		var pkts []rtcp.Packet
		var err error
		if rid == "" {
			pkts, _, err = sender.ReadRTCP()
		} else {
			pkts, _, err = sender.ReadSimulcastRTCP(rid)
		}
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if key != nil {
					key.Store(true)
				}
			}
		}
	}
}
