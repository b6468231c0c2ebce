package sfu

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/internal/queue"
	"github.com/crvnode/crvnode/protocol"
)

// Events is how the SFU reaches one peer's client; signaling implements it
// by sending JSON-RPC events. Its methods must not block.
type Events interface {
	UpCandidate(protocol.ICECandidate)
	DownOffer(protocol.DownOffer)
	DownCandidate(protocol.ICECandidate)
	// AudioLevel reports the peer's own speaking level (0-10) when it
	// changes, at most a few times a second.
	AudioLevel(level int)
}

// DataChannelHandler is given the data channels a client opens on its up
// connection (transfers use them).
type DataChannelHandler func(*webrtc.DataChannel)

// Participant is one client's media: its up and down connections, what it
// publishes and what it receives. Its negotiation runs on one goroutine
// (the actor); pion callbacks and signaling post work to it.
type Participant struct {
	sfu *SFU
	id  string
	ev  Events
	log *slog.Logger

	ops   *queue.Queue[func()] // the actor's: posting never blocks
	done  chan struct{}
	start sync.Once // the actor starts with the first operation: an idle session costs no goroutine

	mu        sync.Mutex // guards the fields below; lock order: Room.mu, then Participant.mu
	room      *Room
	pubs      map[protocol.Source]*Publication
	upSources map[string]protocol.Source // mid -> source
	open      map[protocol.Source]bool   // sources signaling lets through; nil outside a room
	watch     map[pubKey]int             // videos watched, with their shown height; nil outside a room
	closed    bool
	onData    DataChannelHandler
	upPC      *webrtc.PeerConnection // the up connection, as the track goroutines check it

	// Owned by the actor goroutine.
	up, down     *webrtc.PeerConnection
	upSession    string // the o= session id of the client's up offers: another is another PeerConnection
	downOffering bool   // an offer waits for its answer
	downAgain    bool   // subscriptions changed meanwhile: offer again after it
	downRestart  bool   // the next offer restarts ICE (RestartDown)
	downCands    []webrtc.ICECandidateInit
	subs         map[pubKey]*DownTrack
	noCodec      map[pubKey]*Publication // publications this client's answers cannot take: not offered again
	offered      map[string]*DownTrack   // the tracks of the last down offer, by mid

	downReady atomic.Bool // the down connection is connected: SRTP can carry a keyframe
}

// NewParticipant creates the media side of a logged-in client. id is the user ID
// subscribers see as the publisher of its tracks.
func (s *SFU) NewParticipant(id string, ev Events) (*Participant, error) {
	p := &Participant{
		sfu: s, id: id, ev: ev, log: s.log.With("peer", id),
		done:      make(chan struct{}),
		ops:       queue.New[func()](),
		pubs:      map[protocol.Source]*Publication{},
		upSources: map[string]protocol.Source{},
		subs:      map[pubKey]*DownTrack{},
		noCodec:   map[pubKey]*Publication{},
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	s.participants[p] = struct{}{}
	s.wg.Add(1) // done when the actor ends, started by the first operation or Close
	s.mu.Unlock()
	return p, nil
}

// startActor starts the actor goroutine unless it runs.
func (p *Participant) startActor() {
	p.start.Do(func() {
		go func() {
			defer p.sfu.wg.Done()
			p.run()
		}()
	})
}

// OnDataChannel sets the handler of data channels the client opens.
func (p *Participant) OnDataChannel(h DataChannelHandler) {
	p.mu.Lock()
	p.onData = h
	p.mu.Unlock()
}

// run is the actor loop: it runs posted operations one at a time until
// the peer closes, then tears the connections down.
func (p *Participant) run() {
	for {
		op, ok := p.ops.Pop()
		if !ok {
			break
		}
		op()
	}
	p.teardown()
	close(p.done)
}

// post queues op for the actor; it never blocks.
func (p *Participant) post(op func()) {
	p.startActor()
	p.ops.Push(op)
}

// onActor runs op on the actor and waits for its error.
func (p *Participant) onActor(op func() error) error {
	res := make(chan error, 1)
	p.startActor()
	if !p.ops.Push(func() { res <- op() }) {
		return ErrClosed
	}
	select {
	case err := <-res:
		return err
	case <-p.done:
		return ErrClosed
	}
}

// UpOffer answers the client's offer for its up connection. tracks says
// which source each sending transceiver (by mid) carries.
func (p *Participant) UpOffer(sdp string, tracks []protocol.UpTrack) (answer string, err error) {
	err = p.onActor(func() error {
		// An offer of another SDP session comes from a new PeerConnection
		// of the client, which closed the old one (its upClose lost, or
		// never sent): the old connection is closed here too.
		sess := sdpSessionID(sdp)
		if p.up != nil && sess != "" && p.upSession != "" && sess != p.upSession {
			p.dropUp()
		}
		if p.up == nil {
			if err := p.newUp(); err != nil {
				return err
			}
		}
		p.mu.Lock()
		for _, t := range tracks {
			p.upSources[t.Mid] = t.Source
		}
		p.mu.Unlock()
		if err := p.up.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
			return fmt.Errorf("%w: %v", ErrBadSDP, err)
		}
		p.upSession = sess
		ans, err := p.up.CreateAnswer(nil)
		if err != nil {
			return err
		}
		if err := p.up.SetLocalDescription(ans); err != nil {
			return err
		}
		answer = p.up.LocalDescription().SDP
		return nil
	})
	return answer, err
}

func badCandidate(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %v", ErrBadCandidate, err)
}

func (p *Participant) newUp() error {
	pc, err := p.sfu.upAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	p.up = pc
	p.mu.Lock()
	p.upPC = pc
	p.mu.Unlock()
	p.sfu.metrics.peers.WithLabelValues("up").Inc()
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		cand := toProto(c.ToJSON())
		p.post(func() { // through the actor: none of a connection already closed
			if p.up == pc {
				p.ev.UpCandidate(cand)
			}
		})
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) { p.onTrack(pc, t, r) })
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		p.mu.Lock()
		h := p.onData
		p.mu.Unlock()
		if h != nil {
			h(dc)
		}
	})
	return nil
}

// CloseUp closes the up connection (upClose: a client whose connection
// sat idle): what it published ends for its subscribers, its data
// channels close, and the next UpOffer opens a new connection. Without an
// up connection it does nothing.
func (p *Participant) CloseUp() error {
	return p.onActor(func() error {
		p.dropUp()
		return nil
	})
}

// dropUp closes the up connection, on the actor: its publications end,
// tracks it still announces are ignored (onTrack), and the next offer
// makes a new one.
func (p *Participant) dropUp() {
	pc := p.up
	if pc == nil {
		return
	}
	p.up, p.upSession = nil, ""
	p.sfu.metrics.peers.WithLabelValues("up").Dec()
	p.mu.Lock()
	pubs := p.pubs
	p.pubs = map[protocol.Source]*Publication{}
	p.upSources = map[string]protocol.Source{}
	p.upPC = nil
	p.mu.Unlock()
	for _, pub := range pubs {
		pub.close()
	}
	// pion's Close waits for the track goroutines, which reach the
	// room and this actor: not on the actor.
	p.sfu.goroutine(func() {
		if len(pubs) > 0 {
			p.publicationsChanged()
		}
		_ = pc.Close()
	})
}

// sdpSessionID is the session id of an SDP's o= line ("" if none).
func sdpSessionID(sdp string) string {
	for line := range strings.SplitSeq(sdp, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "o="); ok {
			if f := strings.Fields(rest); len(f) > 1 {
				return f[1]
			}
			return ""
		}
	}
	return ""
}

// AddUpCandidate adds a client's trickled candidate of its up connection.
func (p *Participant) AddUpCandidate(c protocol.ICECandidate) error {
	return p.onActor(func() error {
		if p.up == nil {
			return ErrNoConnection
		}
		return badCandidate(p.up.AddICECandidate(fromProto(c)))
	})
}

// DownAnswer applies the client's answer to the node's last down offer,
// and offers again if subscriptions changed meanwhile.
func (p *Participant) DownAnswer(sdp string) error {
	return p.onActor(func() error {
		if p.down == nil || !p.downOffering {
			return ErrNoConnection
		}
		if err := p.down.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
			// pion cannot roll a local offer back, and the connection would
			// wait forever for an answer that fits: start the down
			// connection afresh (a new SDP session, which clients take as a
			// new connection) with the current subscriptions, less those
			// whose codec the client cannot take, so that it is not offered
			// them over and over.
			p.noteRefused(sdp)
			p.closeDown()
			p.sfu.goroutine(p.publicationsChanged) // takes the room's lock: not on the actor
			return fmt.Errorf("%w: %v", ErrBadSDP, err)
		}
		p.downOffering = false
		for _, c := range p.downCands {
			_ = p.down.AddICECandidate(c)
		}
		p.downCands = nil
		if p.downAgain {
			p.downAgain = false
			p.offerDown()
		}
		return nil
	})
}

// AddDownCandidate adds a client's trickled candidate of its down connection.
func (p *Participant) AddDownCandidate(c protocol.ICECandidate) error {
	return p.onActor(func() error {
		if p.down == nil {
			return ErrNoConnection
		}
		if p.down.RemoteDescription() == nil {
			p.downCands = append(p.downCands, fromProto(c))
			return nil
		}
		return badCandidate(p.down.AddICECandidate(fromProto(c)))
	})
}

// Close ends the peer: its publications end for every subscriber, its
// connections close, its goroutines finish. Close does not wait for them
// (the SFU's Close does).
func (p *Participant) Close() {
	p.Leave()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ops.Close()
	p.startActor() // to tear down: the actor finds the queue closed
}

// teardown runs on the actor after the queue closed.
func (p *Participant) teardown() {
	for k, dt := range p.subs {
		dt.pub.removeSub(dt)
		delete(p.subs, k)
	}
	for _, pc := range []*webrtc.PeerConnection{p.up, p.down} {
		if pc != nil {
			_ = pc.Close()
		}
	}
	if p.up != nil {
		p.sfu.metrics.peers.WithLabelValues("up").Dec()
	}
	if p.down != nil {
		p.sfu.metrics.peers.WithLabelValues("down").Dec()
	}
	p.mu.Lock()
	pubs := p.pubs
	p.pubs = map[protocol.Source]*Publication{}
	p.mu.Unlock()
	for _, pub := range pubs {
		pub.close()
	}
	p.sfu.mu.Lock()
	delete(p.sfu.participants, p)
	p.sfu.mu.Unlock()
}

func toProto(c webrtc.ICECandidateInit) protocol.ICECandidate {
	return protocol.ICECandidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}
}

func fromProto(c protocol.ICECandidate) webrtc.ICECandidateInit {
	return webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}
}
