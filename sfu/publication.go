package sfu

import (
	"errors"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/protocol"
)

const (
	pliInterval   = 500 * time.Millisecond // PLIs to a publisher are at most this frequent, and repeated this often until a keyframe comes
	pliAnswered   = 100 * time.Millisecond // the gap allowed after the last PLI's keyframe came: joiners in a burst wait less
	levelInterval = 250 * time.Millisecond // speaking level reported at most this often
)

// Publication is one source a peer publishes (its mic, camera or screen),
// with one layer per simulcast encoding.
type Publication struct {
	owner  *Participant
	source protocol.Source
	kind   webrtc.RTPCodecType
	codec  webrtc.RTPCodecParameters
	pc     *webrtc.PeerConnection // the owner's up connection, for PLIs

	subs   atomic.Pointer[[]*DownTrack] // copy-on-write: the read loops never lock
	subsMu sync.Mutex                   // serialises writers of subs

	mu     sync.Mutex
	layers []*layer // by quality, lowest first
	ended  bool

	levelExt   uint8 // the publisher's audio-level extension ID
	lastLevel  int
	levelMax   int
	levelSince time.Time
}

// layer is one encoding of a publication: a simulcast rid, or the only one.
type layer struct {
	track     *webrtc.TrackRemote
	rid       string
	index     atomic.Int32 // position in Publication.layers, lowest quality 0
	cache     *packetCache // by layer number (padFold)
	fold      padFold      // the read goroutine's
	wantKey   atomic.Bool  // a subscriber waits for a keyframe
	lastPLI   atomic.Int64 // unix nanos
	lastKey   atomic.Int64 // unix nanos of the last keyframe
	bitrate   atomic.Int64 // bits per second, measured each second
	bytes     int64
	rateStart time.Time
}

func (p *Publication) audio() bool { return p.kind == webrtc.RTPCodecTypeAudio }

// onTrack runs for each track (or simulcast layer) a client publishes.
func (p *Participant) onTrack(pc *webrtc.PeerConnection, t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	p.mu.Lock()
	if p.upPC != pc { // a track of an up connection closed meanwhile
		p.mu.Unlock()
		return
	}
	source, ok := p.upSources[r.RTPTransceiver().Mid()]
	if !ok {
		source = protocol.SourceCamera
		if t.Kind() == webrtc.RTPCodecTypeAudio {
			source = protocol.SourceMic
		}
	}
	pub := p.pubs[source]
	isNew := pub == nil
	if isNew {
		pub = &Publication{owner: p, source: source, kind: t.Kind(), codec: t.Codec(), pc: pc}
		pub.subs.Store(&[]*DownTrack{})
		for _, e := range r.GetParameters().HeaderExtensions {
			if e.URI == extAudioLevel {
				pub.levelExt = uint8(e.ID)
			}
		}
		p.pubs[source] = pub
	}
	p.mu.Unlock()
	l := pub.addLayer(t, p.sfu.cfg.PacketCache)
	p.log.Info("publishing", "source", source, "codec", t.Codec().MimeType, "rid", t.RID(), "ssrc", t.SSRC())
	if isNew {
		p.publicationsChanged()
	}
	pub.readLoop(l) // pion runs OnTrack on its own goroutine: it becomes the layer's read goroutine
	if pub.layerEnded(l) {
		p.mu.Lock()
		if p.pubs[source] == pub {
			delete(p.pubs, source)
		}
		p.mu.Unlock()
		p.publicationsChanged()
	}
}

func (pub *Publication) addLayer(t *webrtc.TrackRemote, cacheSize int) *layer {
	l := &layer{track: t, rid: t.RID(), rateStart: time.Now()}
	if !pub.audio() {
		l.cache = newPacketCache(cacheSize)
	}
	pub.mu.Lock()
	pub.layers = append(pub.layers, l)
	sortLayers(pub.layers)
	pub.mu.Unlock()
	return l
}

// layerEnded drops a finished layer; it reports whether it was the last.
func (pub *Publication) layerEnded(l *layer) bool {
	pub.mu.Lock()
	defer pub.mu.Unlock()
	for i, x := range pub.layers {
		if x == l {
			pub.layers = append(pub.layers[:i], pub.layers[i+1:]...)
			sortLayers(pub.layers)
			break
		}
	}
	if len(pub.layers) == 0 && !pub.ended {
		pub.ended = true
		return true
	}
	return false
}

// close ends the publication for its subscribers (the owner went away).
func (pub *Publication) close() {
	pub.mu.Lock()
	pub.ended = true
	pub.mu.Unlock()
}

// readLoop forwards one layer's packets to every subscriber until the
// track ends. A slow subscriber cannot slow it: writes go to the SFU's
// UDP socket and never wait for a client.
func (pub *Publication) readLoop(l *layer) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	m := pub.owner.sfu.metrics
	for {
		n, _, err := l.track.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				pub.owner.log.Debug("track read", "source", pub.source, "err", err)
			}
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			m.dropped.WithLabelValues("malformed").Inc()
			continue
		}
		// Padding-only packets (bandwidth probes) stop here, for every
		// subscriber at once, and count in no layer's bitrate: layers are
		// chosen by what subscribers would get. The rest is numbered
		// without their gaps.
		seq, ok := l.fold.fold(pkt.SequenceNumber, pkt.Padding && len(pkt.Payload) == 0)
		if !ok {
			m.dropped.WithLabelValues("padding").Inc()
			continue
		}
		pkt.SequenceNumber = seq
		now := time.Now()
		l.measure(now, n)
		keyframe := false
		if pub.audio() {
			pub.level(&pkt, now)
		} else {
			l.cache.put(buf[:n], seq)
			keyframe = isKeyframe(pub.codec.MimeType, pkt.Payload)
			if keyframe {
				l.wantKey.Store(false)
				l.lastKey.Store(now.UnixNano())
			} else if l.wantKey.Load() {
				pub.sendPLI(l, now)
			}
		}
		idx := int(l.index.Load())
		subs := *pub.subs.Load()
		for _, dt := range subs {
			dt.forward(idx, &pkt, keyframe, now)
		}
		m.forwarded.Add(float64(len(subs)))
	}
}

func (l *layer) measure(now time.Time, n int) {
	l.bytes += int64(n)
	if d := now.Sub(l.rateStart); d >= time.Second {
		l.bitrate.Store(l.bytes * 8 * int64(time.Second) / int64(d))
		l.bytes, l.rateStart = 0, now
	}
}

// layer returns the layer at quality index i (clamped), or nil.
func (pub *Publication) layer(i int) *layer {
	pub.mu.Lock()
	defer pub.mu.Unlock()
	if len(pub.layers) == 0 {
		return nil
	}
	if i >= len(pub.layers) {
		i = len(pub.layers) - 1
	}
	if i < 0 {
		i = 0
	}
	return pub.layers[i]
}

func (pub *Publication) layerCount() int {
	pub.mu.Lock()
	defer pub.mu.Unlock()
	return len(pub.layers)
}

// requestKeyframe asks the publisher for a keyframe of layer i, now if
// the last request is old enough, and again until one arrives.
func (pub *Publication) requestKeyframe(i int) {
	if pub.audio() {
		return
	}
	if l := pub.layer(i); l != nil {
		l.wantKey.Store(true)
		pub.sendPLI(l, time.Now())
	}
}

// forceKeyframe asks for a keyframe of layer i at once, past the
// throttle: a new subscriber's connection just came up.
func (pub *Publication) forceKeyframe(i int) {
	if l := pub.layer(i); l != nil && !pub.audio() {
		l.wantKey.Store(true)
		l.lastPLI.Store(0)
		pub.sendPLI(l, time.Now())
	}
}

func (pub *Publication) sendPLI(l *layer, now time.Time) {
	last := l.lastPLI.Load()
	gap := pliInterval
	if l.lastKey.Load() > last {
		gap = pliAnswered // the last request was answered: a new joiner need not wait long
	}
	if now.UnixNano()-last < int64(gap) || !l.lastPLI.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	_ = pub.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(l.track.SSRC())}})
	pub.owner.sfu.metrics.plis.Inc()
}

// level turns the publisher's RFC 6464 levels into speaking-energy
// reports: the loudest level of each interval, sent only when it changes.
func (pub *Publication) level(pkt *rtp.Packet, now time.Time) {
	if pub.levelExt == 0 {
		return
	}
	if e, ok := audioLevel(pkt.GetExtension(pub.levelExt)); ok && e > pub.levelMax {
		pub.levelMax = e
	}
	if now.Sub(pub.levelSince) < levelInterval {
		return
	}
	if pub.levelMax != pub.lastLevel {
		pub.lastLevel = pub.levelMax
		pub.owner.ev.AudioLevel(pub.levelMax)
	}
	pub.levelMax, pub.levelSince = 0, now
}

func (pub *Publication) addSub(dt *DownTrack) {
	pub.subsMu.Lock()
	old := *pub.subs.Load()
	next := make([]*DownTrack, len(old), len(old)+1)
	copy(next, old)
	next = append(next, dt)
	pub.subs.Store(&next)
	pub.subsMu.Unlock()
}

func (pub *Publication) removeSub(dt *DownTrack) {
	pub.subsMu.Lock()
	old := *pub.subs.Load()
	next := make([]*DownTrack, 0, len(old))
	for _, x := range old {
		if x != dt {
			next = append(next, x)
		}
	}
	pub.subs.Store(&next)
	pub.subsMu.Unlock()
}

// sortLayers orders simulcast layers from lowest to highest quality by
// their rid: q/h/f, l/m/h, 0/1/2 and low/mid/high are understood.
func sortLayers(ls []*layer) {
	hasF := false
	for _, l := range ls {
		if strings.EqualFold(l.rid, "f") {
			hasF = true
		}
	}
	rank := func(rid string) int {
		switch strings.ToLower(rid) {
		case "q", "l", "0", "low":
			return 0
		case "m", "1", "mid":
			return 1
		case "h":
			if hasF { // q/h/f: h is half; l/m/h: h is high
				return 1
			}
			return 2
		case "f", "2", "high":
			return 2
		}
		return 1
	}
	sort.SliceStable(ls, func(i, j int) bool { return rank(ls[i].rid) < rank(ls[j].rid) })
	for i, l := range ls {
		l.index.Store(int32(i))
	}
}
