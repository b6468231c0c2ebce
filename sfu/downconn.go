package sfu

import (
	"sort"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/protocol"
)

// syncDown makes the down connection carry exactly wants, and offers the
// change. It runs on the actor.
func (p *Participant) syncDown(wants map[pubKey]want) {
	changed := false
	for k, dt := range p.subs {
		w, ok := wants[k]
		if ok && w.pub == dt.pub {
			dt.setMaxHeight(w.maxHeight)
			continue
		}
		p.removeSub(k, dt)
		changed = true
	}
	for k, pub := range p.noCodec {
		if w, ok := wants[k]; !ok || w.pub != pub {
			delete(p.noCodec, k) // not wanted any more, or published anew
		}
	}
	for k, w := range wants {
		if _, ok := p.subs[k]; ok || p.noCodec[k] == w.pub {
			continue
		}
		if p.down == nil && !p.newDown() {
			return
		}
		dt := newDownTrack(w.pub, p, k, w.maxHeight)
		sender, err := p.down.AddTrack(dt)
		if err != nil {
			p.log.Warn("add down track", "track", k, "err", err)
			continue
		}
		dt.sender = sender
		p.subs[k] = dt
		w.pub.addSub(dt)
		p.sfu.goroutine(dt.readRTCP)
		changed = true
	}
	if changed {
		p.offerDown()
	}
}

func (p *Participant) removeSub(k pubKey, dt *DownTrack) {
	dt.pub.removeSub(dt)
	if p.down != nil {
		_ = p.down.RemoveTrack(dt.sender)
	}
	delete(p.subs, k)
}

func (p *Participant) newDown() bool {
	pc, err := p.sfu.downAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		p.log.Error("new down connection", "err", err)
		return false
	}
	p.down = pc
	p.downReady.Store(false)
	p.sfu.metrics.peers.WithLabelValues("down").Inc()
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st != webrtc.PeerConnectionStateConnected {
			return
		}
		p.post(func() {
			if p.down != pc {
				return
			}
			// Keyframes asked for before the connection was up would have
			// been lost: ask now that SRTP can carry them.
			p.downReady.Store(true)
			for _, dt := range p.subs {
				dt.connected()
			}
		})
	})
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		// Through the actor: gathering starts inside offerDown, and a
		// candidate must not reach the client before the offer it
		// belongs to, nor at all once that connection is closed.
		cand := toProto(c.ToJSON())
		p.post(func() {
			if p.down == pc {
				p.ev.DownCandidate(cand)
			}
		})
	})
	return true
}

// offerDown sends a new offer of the down connection, unless one is
// waiting for its answer: then it is sent when that answer comes, so that
// offers never overlap.
func (p *Participant) offerDown() {
	if p.down == nil {
		return
	}
	if p.downOffering {
		p.downAgain = true
		return
	}
	var opts *webrtc.OfferOptions
	if p.downRestart {
		opts = &webrtc.OfferOptions{ICERestart: true}
		p.downRestart = false
	}
	offer, err := p.down.CreateOffer(opts)
	if err == nil {
		err = p.down.SetLocalDescription(offer)
	}
	if err != nil {
		p.log.Error("down offer", "err", err)
		return
	}
	p.downOffering = true
	tracks := []protocol.DownTrack{}
	p.offered = map[string]*DownTrack{}
	for _, t := range p.down.GetTransceivers() {
		if s := t.Sender(); s != nil {
			if dt, ok := s.Track().(*DownTrack); ok {
				tracks = append(tracks, protocol.DownTrack{Mid: t.Mid(), UserID: dt.key.peer, Source: dt.key.source})
				p.offered[t.Mid()] = dt
			}
		}
	}
	sort.Slice(tracks, func(i, j int) bool { return tracks[i].Mid < tracks[j].Mid })
	p.ev.DownOffer(protocol.DownOffer{SDP: p.down.LocalDescription().SDP, Tracks: tracks})
}

// RestartDown offers the down connection again with new ICE credentials,
// after its client lost the network for longer than ICE could ride out.
// Without a down connection it does nothing. It does not block.
func (p *Participant) RestartDown() {
	p.post(func() {
		if p.down == nil {
			return
		}
		p.downRestart = true
		p.offerDown() // or, if an offer waits for its answer, right after it
	})
}

// closeDown ends every subscription and closes the down connection (the
// peer left its room).
func (p *Participant) closeDown() {
	for k, dt := range p.subs {
		dt.pub.removeSub(dt)
		delete(p.subs, k)
	}
	if p.down != nil {
		_ = p.down.Close()
		p.down = nil
		p.sfu.metrics.peers.WithLabelValues("down").Dec()
	}
	p.downOffering, p.downAgain, p.downRestart, p.downCands, p.offered = false, false, false, nil, nil
}

// noteRefused records, from an answer the down connection could not take,
// the subscriptions whose track the client refused: a media section
// missing, rejected (port 0) or without the publication's codec, or one
// pion could not bind. They are left out of the next down connections
// (syncDown), so that a client is not offered a codec it cannot take over
// and over. It runs on the actor, before closeDown.
func (p *Participant) noteRefused(answer string) {
	var desc sdp.SessionDescription
	// Judge by the sections only for something that looks like an answer.
	parsed := desc.UnmarshalString(answer) == nil && len(desc.MediaDescriptions) > 0
	sections := map[string]*sdp.MediaDescription{}
	for _, m := range desc.MediaDescriptions {
		if mid, ok := m.Attribute(sdp.AttrKeyMID); ok {
			sections[mid] = m
		}
	}
	// Only the tracks of the offer answered: one added since has no
	// section yet, and is offered next.
	for mid, dt := range p.offered {
		if p.subs[dt.key] != dt {
			continue
		}
		refused := dt.noCodec.Load()
		if parsed && !refused {
			m := sections[mid]
			refused = m == nil || m.MediaName.Port.Value == 0 || !offersCodec(m, dt.pub.codec.MimeType)
		}
		if refused {
			p.log.Info("subscriber refused a track: left out", "track", dt.key, "codec", dt.pub.codec.MimeType)
			p.noCodec[dt.key] = dt.pub
		}
	}
}

// offersCodec reports whether a media section lists the codec of mime
// ("video/VP8") in its rtpmap lines.
func offersCodec(m *sdp.MediaDescription, mime string) bool {
	_, name, _ := strings.Cut(mime, "/")
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		// "96 VP8/90000"
		_, enc, _ := strings.Cut(a.Value, " ")
		enc, _, _ = strings.Cut(enc, "/")
		if strings.EqualFold(enc, name) {
			return true
		}
	}
	return false
}
