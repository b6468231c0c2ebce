package client

import (
	"context"
	"strings"

	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/protocol"
)

// answerDown answers the node's offer of the down connection, creating the
// connection on the first offer. It runs on the media goroutine.
func (m *media) answerDown(o *protocol.DownOffer) {
	// The node closes a member's down connection when it leaves a meeting
	// and offers a new one in the next: a new SDP session, new connection.
	if sid := sdpSession(o.SDP); sid != m.downSession {
		m.closeDown()
		m.downSession = sid
	}
	pc, err := m.downConn()
	if err != nil {
		m.c.log.Warn("crvnode client: down connection", "err", err)
		return
	}
	m.mu.Lock()
	for _, t := range o.Tracks {
		m.downInfo[t.Mid] = t
	}
	m.mu.Unlock()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
		m.c.log.Warn("crvnode client: down offer", "err", err)
		return
	}
	answer, err := pc.CreateAnswer(nil)
	if err == nil {
		err = pc.SetLocalDescription(answer)
	}
	if err != nil {
		m.c.log.Warn("crvnode client: down answer", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.c.opts.RequestTimeout)
	defer cancel()
	if err := m.c.Do(ctx, protocol.MethodDownAnswer, protocol.DownAnswerParams{SDP: pc.LocalDescription().SDP}, nil); err != nil {
		m.c.log.Warn("crvnode client: downAnswer", "err", err)
		return
	}
	m.exchanged(pc, &m.downSent, &m.downLocal, &m.downCands, protocol.MethodDownCandidate)
}

func (m *media) downConn() (*webrtc.PeerConnection, error) {
	return m.conn(&m.down, &m.downSent, &m.downLocal, protocol.MethodDownCandidate, func(pc *webrtc.PeerConnection) error {
		pc.OnTrack(m.onTrack)
		m.watchFailure(pc, m.restartDown)
		return nil
	})
}

// onTrack hands a remote track to Options.OnTrack with whose it is.
func (m *media) onTrack(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	m.mu.Lock()
	info, ok := m.downInfo[r.RTPTransceiver().Mid()]
	m.mu.Unlock()
	if !ok {
		info = protocol.DownTrack{UserID: t.StreamID(), Source: t.ID()}
	}
	if h := m.c.opts.OnTrack; h != nil {
		h(&RemoteTrack{UserID: info.UserID, Source: info.Source, Track: t, Receiver: r})
		return
	}
	discard(t)
}

// closeDown closes the down connection (on the media goroutine): the node
// has closed its side.
func (m *media) closeDown() {
	m.mu.Lock()
	pc := m.down
	m.down, m.downSent, m.downLocal, m.downCands = nil, false, nil, nil
	m.downInfo = map[string]protocol.DownTrack{}
	m.mu.Unlock()
	if pc != nil {
		_ = pc.Close()
	}
}

// sdpSession is the session ID of an SDP's o= line, which stays the same
// across the offers of one connection.
func sdpSession(sdp string) string {
	for _, line := range strings.Split(sdp, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "o="); ok {
			if f := strings.Fields(rest); len(f) > 1 {
				return f[1]
			}
		}
	}
	return ""
}

// discard reads a track nobody asked for, so that its buffers drain.
func discard(t *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := t.Read(buf); err != nil {
			return
		}
	}
}
