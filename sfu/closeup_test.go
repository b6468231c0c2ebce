package sfu

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/crvnode/crvnode/protocol"
)

// TestCloseUpEndsItsTracksAndReopens: an up connection closed by its
// client (upClose) takes its tracks away from the room's subscribers, and
// the client's next offer opens a new connection whose tracks flow again.
func TestCloseUpEndsItsTracksAndReopens(t *testing.T) {
	s, err := New(Config{UDPAddr: "127.0.0.1:0", TCPAddr: "-", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	pubEv, subEv := newEvents(), newEvents()
	pub, _ := s.NewParticipant("pub", pubEv)
	sub, _ := s.NewParticipant("sub", subEv)
	t.Cleanup(func() { pub.Close(); sub.Close() })
	ups := func() float64 { return testutil.ToFloat64(s.metrics.peers.WithLabelValues("up")) }

	if err := pub.CloseUp(); err != nil || ups() != 0 {
		t.Fatalf("closing no connection: %v, %v up", err, ups())
	}
	pub.Join("app/1")
	sub.Join("app/1")
	publish(t, pub, pubEv, false)
	pub.SetSending(protocol.SourceCamera, true)
	sub.Watch("pub", protocol.SourceCamera, 0, true)

	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	down, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = down.Close() })
	// answer answers the next down offer on the one down connection and
	// returns how many tracks it carries.
	answer := func() int {
		t.Helper()
		o := subEv.nextOffer(t)
		if err := down.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
			t.Fatal(err)
		}
		a, err := down.CreateAnswer(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := down.SetLocalDescription(a); err != nil {
			t.Fatal(err)
		}
		if err := sub.DownAnswer(a.SDP); err != nil {
			t.Fatal(err)
		}
		return len(o.Tracks)
	}
	// until answers offers until one carries want tracks.
	until := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for answer() != want {
			if time.Now().After(deadline) {
				t.Fatalf("no offer with %d tracks", want)
			}
		}
	}
	until(1)
	if ups() != 1 {
		t.Fatalf("%v up connections, want 1", ups())
	}

	if err := pub.CloseUp(); err != nil {
		t.Fatal(err)
	}
	until(0)
	if ups() != 0 {
		t.Fatalf("%v up connections after CloseUp, want 0", ups())
	}
	if err := pub.AddUpCandidate(protocol.ICECandidate{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"}); err == nil {
		t.Fatal("a candidate for the closed up connection was taken")
	}

	publish(t, pub, pubEv, false) // a new PeerConnection, a new offer
	until(1)
	if ups() != 1 {
		t.Fatalf("%v up connections after the new offer, want 1", ups())
	}

	// A client whose upClose was lost offers from a new PeerConnection
	// (another SDP session): the node replaces the old connection rather
	// than renegotiating it.
	publish(t, pub, pubEv, false)
	if ups() != 1 {
		t.Fatalf("%v up connections after an offer of a new session, want 1", ups())
	}
}
