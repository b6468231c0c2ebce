package signaling

import (
	"errors"
	"fmt"

	"github.com/crvnode/crvnode/protocol"
)

// Media is the media plane (the SFU) as signaling drives it. The node
// wires crvnode's sfu package in; without one, media methods fail with
// RESOURCEALLOCATEERROR.
type Media interface {
	// NewPeer creates the media side of a logged-in user's session
	// (meeting media, and the data channels transfers use).
	NewPeer(appID string, userID protocol.UserID, ev MediaEvents) (MediaPeer, error)
}

// MediaPeer is one session's media. Join, Leave, SetSending, Watch and
// Close never block: signaling calls them with an app's lock held.
type MediaPeer interface {
	UpOffer(sdp string, tracks []protocol.UpTrack) (answer string, err error)
	AddUpCandidate(protocol.ICECandidate) error
	DownAnswer(sdp string) error
	AddDownCandidate(protocol.ICECandidate) error
	Join(room string)
	Leave()
	SetSending(source protocol.Source, on bool)
	Watch(publisher protocol.UserID, source protocol.Source, maxHeight int, on bool)
	// RestartDown offers the down connection again with new ICE
	// credentials (restartDown, after a resume).
	RestartDown()
	// CloseUp closes the up connection (upClose) and the transfers on its
	// data channel; the next UpOffer opens a new one. It may wait for the
	// media plane: never with an app's lock held.
	CloseUp() error
	Close()
}

// MediaEvents is how the media plane reaches a session's client.
type MediaEvents interface {
	UpCandidate(protocol.ICECandidate)
	DownOffer(protocol.DownOffer)
	DownCandidate(protocol.ICECandidate)
	AudioLevel(level int)
}

// badRequest is implemented by media errors that blame the client's input
// (an SDP that cannot be applied, a candidate for no connection): they
// answer PARAM_ERR rather than RESOURCEALLOCATEERROR.
type badRequest interface{ BadRequest() bool }

// mediaEvents sends a media plane's events to one session.
type mediaEvents struct {
	s *session
	a *app
	u *user
}

func (m mediaEvents) UpCandidate(c protocol.ICECandidate) {
	m.s.send(encodeEvent(protocol.EventUpCandidate, protocol.CandidateParams{Candidate: c}))
}

func (m mediaEvents) DownOffer(o protocol.DownOffer) {
	m.s.send(encodeEvent(protocol.EventDownOffer, o))
}

func (m mediaEvents) DownCandidate(c protocol.ICECandidate) {
	m.s.send(encodeEvent(protocol.EventDownCandidate, protocol.CandidateParams{Candidate: c}))
}

// AudioLevel tells the members of the user's meeting its new speaking
// level (micEnergyUpdate).
func (m mediaEvents) AudioLevel(level int) {
	var ob outbox
	m.a.mu.Lock()
	if mt := m.u.meeting; mt != nil && m.u.sess == m.s {
		if mem := mt.members[m.u.id]; mem != nil && mem.info.AudioStatus == protocol.AStatusOpen {
			m.a.energyLocked(mt, mem, level, &ob)
		}
	}
	m.a.mu.Unlock()
	ob.flush()
}

// energyLocked sets a member's speaking level and tells the meeting if
// it changed.
func (a *app) energyLocked(mt *meeting, mem *member, level int, ob *outbox) {
	if mem.energy == level {
		return
	}
	ev := protocol.MicEnergy{UserID: mem.info.UserID, OldLevel: mem.energy, NewLevel: level}
	mem.energy = level
	for id := range mt.members {
		ob.addUser(a.users[id], protocol.EventMicEnergyUpdate, ev)
	}
}

func (a *app) roomKey(m *meeting) string { return fmt.Sprintf("%s/%d", a.cfg.ID, m.info.ID) }

// mediaPeer returns the session's media peer.
func (s *session) mediaPeer() (MediaPeer, *protocol.Error) {
	a, u, e := s.lock()
	if e != nil {
		return nil, e
	}
	mp := u.media
	a.mu.Unlock()
	if mp == nil {
		return nil, protocol.Errorf(protocol.ResourceAllocateError, "this node has no media")
	}
	return mp, nil
}

func mediaError(err error) *protocol.Error {
	if err == nil {
		return nil
	}
	var br badRequest
	if errors.As(err, &br) && br.BadRequest() {
		return protocol.Errorf(protocol.ParamErr, "%v", err)
	}
	return protocol.Errorf(protocol.ResourceAllocateError, "media: %v", err)
}

func (s *session) upOffer(p *protocol.UpOfferParams) (any, *protocol.Error) {
	for _, t := range p.Tracks {
		if t.Source != protocol.SourceMic && t.Source != protocol.SourceCamera && t.Source != protocol.SourceScreen {
			return nil, protocol.Errorf(protocol.ParamErr, "unknown source %q", t.Source)
		}
	}
	mp, e := s.mediaPeer()
	if e != nil {
		return nil, e
	}
	answer, err := mp.UpOffer(p.SDP, p.Tracks)
	if err != nil {
		return nil, mediaError(err)
	}
	return protocol.SDPResult{SDP: answer}, nil
}

func (s *session) upCandidate(p *protocol.CandidateParams) (any, *protocol.Error) {
	mp, e := s.mediaPeer()
	if e != nil {
		return nil, e
	}
	return nil, mediaError(mp.AddUpCandidate(p.Candidate))
}

func (s *session) downAnswer(p *protocol.DownAnswerParams) (any, *protocol.Error) {
	mp, e := s.mediaPeer()
	if e != nil {
		return nil, e
	}
	return nil, mediaError(mp.DownAnswer(p.SDP))
}

func (s *session) downCandidate(p *protocol.CandidateParams) (any, *protocol.Error) {
	mp, e := s.mediaPeer()
	if e != nil {
		return nil, e
	}
	return nil, mediaError(mp.AddDownCandidate(p.Candidate))
}

func (s *session) upClose(*protocol.Empty) (any, *protocol.Error) {
	mp, e := s.mediaPeer()
	if e != nil {
		return nil, e
	}
	return nil, mediaError(mp.CloseUp())
}

// WakeUp asks a user of an app, if logged in here, to open its up
// connection (the event upNeeded), because data for it waits at the
// transfer relay for the user's data channel. It reports whether the user
// is logged in; a session waiting for a resume counts, and gets the event
// when it resumes. It never blocks.
func (srv *Server) WakeUp(appID string, userID protocol.UserID) bool {
	a := srv.apps[appID]
	if a == nil {
		return false
	}
	a.mu.Lock()
	var s *session
	if u := a.users[userID]; u != nil && u.media != nil {
		s = u.sess
	}
	a.mu.Unlock()
	if s == nil {
		return false
	}
	s.send(encodeEvent(protocol.EventUpNeeded, protocol.Empty{}))
	return true
}
