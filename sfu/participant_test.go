package sfu

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"github.com/crvnode/crvnode/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// events records what the SFU sends one peer's client.
type events struct {
	offers chan protocol.DownOffer
	up     chan protocol.ICECandidate
	down   chan protocol.ICECandidate

	mu    sync.Mutex
	order []string // "offer" and "candidate", as the down connection's events came
}

func newEvents() *events {
	return &events{offers: make(chan protocol.DownOffer, 16), up: make(chan protocol.ICECandidate, 64), down: make(chan protocol.ICECandidate, 64)}
}

func (e *events) UpCandidate(c protocol.ICECandidate) { e.up <- c }
func (e *events) DownOffer(o protocol.DownOffer)      { e.note("offer"); e.offers <- o }
func (e *events) DownCandidate(c protocol.ICECandidate) {
	e.note("candidate")
	select {
	case e.down <- c:
	default:
	}
}
func (e *events) AudioLevel(int) {}

func (e *events) note(what string) {
	e.mu.Lock()
	e.order = append(e.order, what)
	e.mu.Unlock()
}

func (e *events) nextOffer(t *testing.T) protocol.DownOffer {
	t.Helper()
	select {
	case o := <-e.offers:
		return o
	case <-time.After(5 * time.Second):
		t.Fatal("no down offer")
	}
	return protocol.DownOffer{}
}

// publish connects a pion PeerConnection as pub's client and sends VP8
// keyframes on it, and Opus packets if mic, until the test ends.
func publish(t *testing.T, pub *Participant, ev *events, mic bool) {
	t.Helper()
	publishPadded(t, pub, ev, mic, 0)
}

// publishPadded is publish with a padding-only packet (a browser's
// bandwidth probe) after every padEvery-th VP8 packet, if padEvery > 0.
func publishPadded(t *testing.T, pub *Participant, ev *events, mic bool, padEvery int) {
	t.Helper()
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	track, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "pub")
	if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	upTracks := []protocol.UpTrack{{Mid: "0", Source: protocol.SourceCamera}}
	var audio *webrtc.TrackLocalStaticRTP
	if mic {
		audio, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "pub")
		if _, err := pc.AddTransceiverFromTrack(audio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
		upTracks = append(upTracks, protocol.UpTrack{Mid: "1", Source: protocol.SourceMic})
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			_ = pub.AddUpCandidate(toProto(c.ToJSON()))
		}
	})
	offer, _ := pc.CreateOffer(nil)
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	answer, err := pub.UpOffer(pc.LocalDescription().SDP, upTracks)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		vseq := uint16(0)
		for seq := uint16(0); ; seq++ {
			select {
			case <-stop:
				return
			case c := <-ev.up:
				_ = pc.AddICECandidate(fromProto(c))
			case <-time.After(30 * time.Millisecond):
			}
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: vseq, Timestamp: uint32(seq) * 3000, Marker: true},
				Payload: []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}} // a VP8 keyframe start
			vseq++
			if err := track.WriteRTP(pkt); err != nil && !errors.Is(err, io.ErrClosedPipe) {
				return
			}
			if padEvery > 0 && seq%uint16(padEvery) == uint16(padEvery-1) {
				pad := &rtp.Packet{Header: rtp.Header{Version: 2, Padding: true, PaddingSize: 224, SequenceNumber: vseq, Timestamp: uint32(seq) * 3000}}
				vseq++
				if err := track.WriteRTP(pad); err != nil && !errors.Is(err, io.ErrClosedPipe) {
					return
				}
			}
			if audio != nil {
				_ = audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 960}, Payload: []byte{0xfc}})
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done; _ = pc.Close() })
}

// TestBadDownAnswerDoesNotStall refuses a subscriber's unusable answer and
// offers a new down connection instead of waiting forever for an answer.
func TestBadDownAnswerDoesNotStall(t *testing.T) {
	sub, subEv := watchPair(t, false)

	o := subEv.nextOffer(t)
	if len(o.Tracks) != 1 || o.Tracks[0].UserID != "pub" || o.Tracks[0].Source != protocol.SourceCamera {
		t.Fatalf("offer tracks %+v", o.Tracks)
	}
	if err := sub.DownAnswer("v=0\r\nnot an answer\r\n"); !isBadRequest(err) {
		t.Fatalf("bad answer: %v", err)
	}
	// Not stuck: a new down connection is offered with the subscription.
	again := subEv.nextOffer(t)
	if len(again.Tracks) != 1 || sdpSessionID(again.SDP) == sdpSessionID(o.SDP) {
		t.Fatalf("after a bad answer: tracks %+v, session %s (was %s)", again.Tracks, sdpSessionID(again.SDP), sdpSessionID(o.SDP))
	}
}

// TestUnsupportedCodecNotOfferedAgain: a subscriber whose answer cannot
// take a track's codec loses that track only, and is not offered it again
// (no endless re-offers), while what it can take keeps flowing.
func TestUnsupportedCodecNotOfferedAgain(t *testing.T) {
	sub, subEv := watchPair(t, true)

	api := opusOnlyAPI(t)
	// The publisher's tracks may reach the subscriber together or one by
	// one; either way every answer offering the camera is refused, and the
	// microphone ends up received alone.
	sawCamera := false
	for {
		o := subEv.nextOffer(t)
		hasCam, hasMic := false, false
		for _, tr := range o.Tracks {
			hasCam = hasCam || tr.Source == protocol.SourceCamera
			hasMic = hasMic || tr.Source == protocol.SourceMic
		}
		err := answerDown(t, api, sub, o)
		t.Logf("offer %+v session %s: %v", o.Tracks, sdpSessionID(o.SDP), err)
		if hasCam {
			sawCamera = true
			if !isBadRequest(err) {
				t.Fatalf("answer without VP8 to %+v: %v", o.Tracks, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("answer to %+v: %v", o.Tracks, err)
		}
		if hasMic && sawCamera {
			break // the microphone alone, after the camera was refused
		}
	}
	noOffer(t, subEv)
}

// TestUnsupportedOnlyTrackNotOfferedAgain: when the refused track is the
// only one offered, the answer rejects every section; it is not offered
// again either.
func TestUnsupportedOnlyTrackNotOfferedAgain(t *testing.T) {
	sub, subEv := watchPair(t, false) // a camera only

	o := subEv.nextOffer(t)
	if len(o.Tracks) != 1 || o.Tracks[0].Source != protocol.SourceCamera {
		t.Fatalf("offer tracks %+v", o.Tracks)
	}
	if err := answerDown(t, opusOnlyAPI(t), sub, o); !isBadRequest(err) {
		t.Fatalf("an answer refusing the only track: %v", err)
	}
	noOffer(t, subEv)
}

// watchPair starts an SFU with a publisher "pub" sending its camera (and
// its mic if mic) and a subscriber "sub" in one room watching the camera;
// everything closes when the test ends.
func watchPair(t *testing.T, mic bool) (sub *Participant, subEv *events) {
	t.Helper()
	s, err := New(Config{UDPAddr: "127.0.0.1:0", TCPAddr: "-", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	pubEv := newEvents()
	subEv = newEvents()
	pub, _ := s.NewParticipant("pub", pubEv)
	sub, _ = s.NewParticipant("sub", subEv)
	t.Cleanup(func() { pub.Close(); sub.Close() })
	pub.Join("app/1")
	sub.Join("app/1")
	publish(t, pub, pubEv, mic)
	pub.SetSending(protocol.SourceCamera, true)
	if mic {
		pub.SetSending(protocol.SourceMic, true)
	}
	sub.Watch("pub", protocol.SourceCamera, 0, true)
	return sub, subEv
}

// isBadRequest reports whether err is one the node answers as the client's
// fault (a parameter error).
func isBadRequest(err error) bool {
	var br interface{ BadRequest() bool }
	return errors.As(err, &br) && br.BadRequest()
}

// noOffer checks that no down offer comes for half a second.
func noOffer(t *testing.T, ev *events) {
	t.Helper()
	select {
	case o := <-ev.offers:
		t.Fatalf("offered again: tracks %+v", o.Tracks)
	case <-time.After(500 * time.Millisecond):
	}
}

// opusOnlyAPI is a pion API for a subscriber that knows Opus only.
func opusOnlyAPI(t *testing.T) *webrtc.API {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
}

// answerDown answers a down offer with a fresh PeerConnection of api.
func answerDown(t *testing.T, api *webrtc.API, sub *Participant, o protocol.DownOffer) error {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
		t.Fatal(err)
	}
	a, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(a); err != nil {
		t.Fatal(err)
	}
	return sub.DownAnswer(a.SDP)
}

// TestDownCandidatesFollowTheirOffer: the node's candidates of a down
// connection reach the client only after the offer they belong to. A
// client has nowhere to put a candidate for a connection it has not been
// offered yet (a new one replaces the old on every meeting), and one
// that arrives first is lost.
func TestDownCandidatesFollowTheirOffer(t *testing.T) {
	_, subEv := watchPair(t, false)
	subEv.nextOffer(t)
	select {
	case <-subEv.down:
	case <-time.After(5 * time.Second):
		t.Fatal("no down candidate")
	}
	subEv.mu.Lock()
	defer subEv.mu.Unlock()
	if subEv.order[0] != "offer" {
		t.Fatalf("down connection events in the order %v: a candidate before its offer", subEv.order)
	}
}
