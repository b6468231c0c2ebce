package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/internal/queue"
	"github.com/crvnode/crvnode/protocol"
)

// RemoteTrack is a member's audio or video as the node sends it.
type RemoteTrack struct {
	UserID   protocol.UserID
	Source   protocol.Source
	Track    *webrtc.TrackRemote
	Receiver *webrtc.RTPReceiver
}

// media is the client's WebRTC side: the up connection it offers (what it
// publishes, and its data channels) and the down connection the node
// offers (what it receives). Node negotiation events are handled on one
// goroutine, in order, off the socket reader.
type media struct {
	c    *Client
	api  *webrtc.API
	ops  *queue.Queue[func()]
	done chan struct{}

	negMu sync.Mutex // serialises negotiations of the up connection

	mu          sync.Mutex
	ice         []webrtc.ICEServer
	up          *webrtc.PeerConnection
	down        *webrtc.PeerConnection
	published   map[protocol.Source]*published
	downInfo    map[string]protocol.DownTrack // mid -> whose track
	upCands     []webrtc.ICECandidateInit     // the node's, waiting for the answer
	downCands   []webrtc.ICECandidateInit     // the node's, waiting for the offer
	upLocal     []webrtc.ICECandidateInit     // ours, waiting for the offer to be sent
	downLocal   []webrtc.ICECandidateInit     // ours, waiting for the answer to be sent
	upSent      bool
	downSent    bool
	downSession string // SDP session of the down connection: only the media goroutine
	closed      bool
	restarting  map[*webrtc.PeerConnection]bool // ICE restarts asked for, until connected again

	closeOnce sync.Once

	ep        *datachannel.Endpoint // transfers, on the up connection's channel
	dataReady chan struct{}         // closed when that channel opens

	// The up connection's idle close (Options.UpIdleTimeout).
	lastUse time.Time   // the last time something used the up connection
	holds   int         // operations under way that need it (opening, publishing, sending)
	idle    *time.Timer // checks for idleness while the up connection exists
}

type published struct {
	src    MediaSource
	sender *webrtc.RTPSender
	cancel context.CancelFunc
}

func newMedia(c *Client) (*media, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
		return nil, err
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: audioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
		return nil, err
	}
	reg.Add(rembFactory{})
	se := webrtc.SettingEngine{}
	if c.opts.SettingEngine != nil {
		se = *c.opts.SettingEngine
	} else {
		se.SetIncludeLoopbackCandidate(true)                    // a node on this machine offers loopback candidates
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled) // nodes never use mDNS names
	}
	// On the up connection the client is the DTLS server and picks the
	// SRTP profile: AES-128-GCM, as the node does on the down connection
	// (cheaper than pion's default AES-256-GCM), AES-CM with HMAC-SHA1 as
	// the fallback every WebRTC peer has. This holds for a SettingEngine
	// given in Options too.
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AEAD_AES_256_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	m := &media{
		c: c, ops: queue.New[func()](), done: make(chan struct{}),
		api:        webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)),
		published:  map[protocol.Source]*published{},
		downInfo:   map[string]protocol.DownTrack{},
		restarting: map[*webrtc.PeerConnection]bool{},
	}
	go m.run()
	return m, nil
}

const audioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

func (m *media) run() {
	defer close(m.done)
	for {
		op, ok := m.ops.Pop()
		if !ok {
			return
		}
		op()
	}
}

// close ends both connections and the negotiation goroutine.
// Every caller waits until the first one has finished: pion's Close
// returns early when another Close is under way.
func (m *media) close() {
	m.closeOnce.Do(m.closeNow)
}

func (m *media) closeNow() {
	m.mu.Lock()
	m.closed = true
	if m.idle != nil {
		m.idle.Stop()
	}
	up, down := m.up, m.down
	pubs := m.published
	m.published = map[protocol.Source]*published{}
	m.mu.Unlock()
	for _, p := range pubs {
		p.cancel()
	}
	for _, pc := range []*webrtc.PeerConnection{up, down} {
		if pc != nil {
			_ = pc.Close()
		}
	}
	if m.ep != nil {
		_ = m.ep.Close()
	}
	m.ops.Close()
	<-m.done
}

func iceServers(list []protocol.ICEServer) []webrtc.ICEServer {
	out := make([]webrtc.ICEServer, 0, len(list))
	for _, s := range list {
		out = append(out, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return out
}

// refreshICE fetches fresh TURN credentials before a connection is made:
// the login's may have expired. A node that cannot refresh leaves the
// login's in place.
func (m *media) refreshICE() {
	ctx, cancel := context.WithTimeout(context.Background(), m.c.opts.RequestTimeout)
	defer cancel()
	var res protocol.ICEServersResult
	if err := m.c.Do(ctx, protocol.MethodRefreshICEServers, protocol.Empty{}, &res); err == nil {
		m.mu.Lock()
		m.ice = iceServers(res.ICEServers)
		m.mu.Unlock()
	}
}

// upConn returns the up connection, creating it with its transfer channel.
func (m *media) upConn() (*webrtc.PeerConnection, error) {
	return m.conn(&m.up, &m.upSent, &m.upLocal, protocol.MethodUpCandidate, func(pc *webrtc.PeerConnection) error {
		m.watchFailure(pc, func() { m.restartUp(pc) })
		if err := m.openData(pc); err != nil {
			return err
		}
		m.lastUse = time.Now()
		if d := m.c.opts.UpIdleTimeout; d > 0 && m.idle == nil {
			m.idle = time.AfterFunc(d, m.idleCheck)
		}
		return nil
	})
}

// ensureUp opens and negotiates the up connection unless that is done,
// and returns its transfer endpoint. The caller holds the connection
// (hold) while it needs it.
func (m *media) ensureUp(ctx context.Context) (*datachannel.Endpoint, error) {
	m.hold()
	defer m.release()
	for range 2 { // once more if an idle close came between
		m.mu.Lock()
		sent, ep, ready := m.upSent, m.ep, m.dataReady
		m.mu.Unlock()
		if !sent || ep == nil {
			if err := m.negotiateUp(ctx); err != nil {
				return nil, err
			}
			continue
		}
		select {
		case <-ready:
			return ep, nil
		case <-ctx.Done():
			return nil, protocol.Errorf(protocol.SendFail, "the transfer channel did not open: %v", ctx.Err())
		}
	}
	return nil, protocol.Errorf(protocol.SendFail, "the up connection closed while opening")
}

// hold and release bracket an operation that needs the up connection, so
// that it is not closed as idle meanwhile.
func (m *media) hold()    { m.use(1) }
func (m *media) release() { m.use(-1) }

// touch notes a use of the up connection (a transfer event, a meeting
// left): the idle time counts from the last one.
func (m *media) touch() { m.use(0) }

// use notes a use of the up connection and changes the holds by n.
func (m *media) use(n int) {
	m.mu.Lock()
	m.holds += n
	m.lastUse = time.Now()
	m.mu.Unlock()
}

// idleCheck runs on the idle timer: it closes the up connection once it
// has been idle for Options.UpIdleTimeout outside a meeting, and checks
// again later otherwise. Negotiations wait meanwhile (negMu).
func (m *media) idleCheck() {
	inMeeting := m.c.inMeeting()
	m.negMu.Lock()
	defer m.negMu.Unlock()
	m.mu.Lock()
	m.idle = nil
	if m.closed || m.up == nil {
		m.mu.Unlock()
		return
	}
	d := m.c.opts.UpIdleTimeout
	if inMeeting || m.holds > 0 || (m.ep != nil && m.ep.Busy()) {
		m.lastUse = time.Now()
	}
	if wait := d - time.Since(m.lastUse); wait > 0 {
		m.idle = time.AfterFunc(wait, m.idleCheck)
		m.mu.Unlock()
		return
	}
	pc, ep, pubs := m.up, m.ep, m.published
	m.up, m.ep, m.upSent, m.upLocal, m.upCands = nil, nil, false, nil, nil
	m.published = map[protocol.Source]*published{}
	delete(m.restarting, pc)
	m.mu.Unlock()
	for _, p := range pubs {
		p.cancel() // outside a meeting nobody receives them; the next opening publishes anew
	}
	if ep != nil {
		_ = ep.Close()
	}
	_ = pc.Close()
	ctx, cancel := context.WithTimeout(m.c.closed, m.c.opts.RequestTimeout)
	defer cancel()
	if err := m.c.Do(ctx, protocol.MethodUpClose, protocol.Empty{}, nil); err != nil {
		m.c.log.Info("crvnode client: closing the idle up connection", "err", err)
		return
	}
	m.c.log.Debug("crvnode client: idle up connection closed")
}

// conn returns *slot, creating the PeerConnection if needed: with fresh
// ICE servers, trickling its candidates with method once *sent says its
// offer or answer is out (until then they wait in *local), and set up by
// init before anyone else sees it.
func (m *media) conn(slot **webrtc.PeerConnection, sent *bool, local *[]webrtc.ICECandidateInit, method string,
	init func(*webrtc.PeerConnection) error) (*webrtc.PeerConnection, error) {
	m.mu.Lock()
	exists := *slot != nil
	m.mu.Unlock()
	if !exists {
		m.refreshICE()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errMediaClosed
	}
	if *slot != nil {
		return *slot, nil
	}
	pc, err := m.api.NewPeerConnection(webrtc.Configuration{ICEServers: m.ice, ICETransportPolicy: m.c.opts.ICETransportPolicy})
	if err != nil {
		return nil, err
	}
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if !*sent {
			*local = append(*local, cand.ToJSON())
			return
		}
		m.sendCandidate(method, cand.ToJSON())
	})
	if err := init(pc); err != nil {
		_ = pc.Close()
		return nil, err
	}
	*slot = pc
	return pc, nil
}

var errMediaClosed = errors.New("crvnode client: media closed")

func (m *media) sendCandidate(method string, c webrtc.ICECandidateInit) {
	p := protocol.CandidateParams{Candidate: protocol.ICECandidate{Candidate: c.Candidate, SDPMid: c.SDPMid,
		SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}}
	_ = m.c.Notify(method, p)
}

func fromProto(c protocol.ICECandidate) webrtc.ICECandidateInit {
	return webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}
}

// negotiateUp offers the up connection's current state and applies the
// node's answer.
func (m *media) negotiateUp(ctx context.Context) error {
	return m.negotiateUpWith(ctx, nil, nil)
}

// negotiateUpWith is negotiateUp with offer options (an ICE restart),
// for the connection only if given: it does nothing once that one is
// gone (closed as idle meanwhile).
func (m *media) negotiateUpWith(ctx context.Context, opts *webrtc.OfferOptions, only *webrtc.PeerConnection) error {
	m.negMu.Lock()
	defer m.negMu.Unlock()
	if only != nil {
		m.mu.Lock()
		cur := m.up
		m.mu.Unlock()
		if cur != only {
			return nil
		}
	}
	pc, err := m.upConn()
	if err != nil {
		return err
	}
	offer, err := pc.CreateOffer(opts)
	if err == nil {
		err = pc.SetLocalDescription(offer)
	}
	if err != nil {
		return fmt.Errorf("crvnode client: up offer: %w", err)
	}
	tracks := []protocol.UpTrack{}
	m.mu.Lock()
	for src, p := range m.published {
		for _, t := range pc.GetTransceivers() {
			if t.Sender() == p.sender {
				tracks = append(tracks, protocol.UpTrack{Mid: t.Mid(), Source: src})
			}
		}
	}
	m.mu.Unlock()
	var res protocol.SDPResult
	if err := m.c.Do(ctx, protocol.MethodUpOffer, protocol.UpOfferParams{SDP: pc.LocalDescription().SDP, Tracks: tracks}, &res); err != nil {
		return err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: res.SDP}); err != nil {
		return fmt.Errorf("crvnode client: up answer: %w", err)
	}
	m.exchanged(pc, &m.upSent, &m.upLocal, &m.upCands, protocol.MethodUpCandidate)
	return nil
}

// exchanged runs once a connection's offer and answer are both set: the
// candidates each side gathered meanwhile go out and in, and later ones
// trickle straight away (*sent).
func (m *media) exchanged(pc *webrtc.PeerConnection, sent *bool, local, remote *[]webrtc.ICECandidateInit, method string) {
	m.mu.Lock()
	*sent = true
	ours, theirs := *local, *remote
	*local, *remote = nil, nil
	for _, c := range ours {
		m.sendCandidate(method, c)
	}
	m.mu.Unlock()
	for _, c := range theirs {
		_ = pc.AddICECandidate(c)
	}
}

// handleEvent takes the node's negotiation events; it reports whether ev
// was one (they are not passed to the Handler).
func (m *media) handleEvent(ev Event) bool {
	if ev.Method == protocol.EventUpNeeded {
		m.c.openUpSoon("a transfer")
		return true
	}
	switch d := ev.Data.(type) {
	case *protocol.DownOffer:
		m.ops.Push(func() { m.answerDown(d) })
	case *protocol.CandidateParams:
		c := fromProto(d.Candidate)
		if ev.Method == protocol.EventUpCandidate {
			m.ops.Push(func() { m.addUpCandidate(c) })
		} else {
			m.ops.Push(func() { m.addDownCandidate(c) })
		}
	default:
		return false
	}
	return true
}

func (m *media) addUpCandidate(c webrtc.ICECandidateInit) {
	m.mu.Lock()
	pc := m.up
	if pc == nil || pc.RemoteDescription() == nil {
		m.upCands = append(m.upCands, c)
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	_ = pc.AddICECandidate(c)
}

func (m *media) addDownCandidate(c webrtc.ICECandidateInit) {
	m.mu.Lock()
	pc := m.down
	if pc == nil || pc.RemoteDescription() == nil {
		m.downCands = append(m.downCands, c)
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	_ = pc.AddICECandidate(c)
}

// isNegotiation reports whether an event belongs to the media negotiation,
// which the client handles itself.
func isNegotiation(method string) bool {
	switch method {
	case protocol.EventDownOffer, protocol.EventUpCandidate, protocol.EventDownCandidate, protocol.EventUpNeeded:
		return true
	}
	return false
}

// closeMedia ends the client's media, if it has any.
func (c *Client) closeMedia() {
	c.mu.Lock()
	m := c.media
	c.mu.Unlock()
	if m != nil {
		m.close()
	}
}
