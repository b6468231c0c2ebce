package loadgen

import (
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/client"
)

// ConnState is what a subscriber's receiving PeerConnection looked like
// when it was judged: enough to tell a negotiation that never finished
// from ICE that never connected from media that never came.
type ConnState struct {
	Exists     bool
	Signaling  webrtc.SignalingState
	ICE        webrtc.ICEConnectionState
	Connection webrtc.PeerConnectionState
	Tracks     int    // transceivers negotiated to receive, with a mid
	RTPPackets uint64 // RTP packets pion counted in (its inbound-rtp stats)
}

func (s ConnState) String() string {
	if !s.Exists {
		return "no down connection"
	}
	return fmt.Sprintf("signaling %s, ICE %s, connection %s, %d tracks negotiated, %d RTP packets in",
		s.Signaling, s.ICE, s.Connection, s.Tracks, s.RTPPackets)
}

// StateOf reads pc's state; pc may be nil.
func StateOf(pc *webrtc.PeerConnection) ConnState {
	if pc == nil {
		return ConnState{}
	}
	s := ConnState{Exists: true, Signaling: pc.SignalingState(), ICE: pc.ICEConnectionState(), Connection: pc.ConnectionState()}
	for _, t := range pc.GetTransceivers() {
		d := t.Direction()
		if t.Mid() != "" && (d == webrtc.RTPTransceiverDirectionRecvonly || d == webrtc.RTPTransceiverDirectionSendrecv) {
			s.Tracks++
		}
	}
	for _, st := range pc.GetStats() {
		if in, ok := st.(webrtc.InboundRTPStreamStats); ok {
			s.RTPPackets += uint64(in.PacketsReceived)
		}
	}
	return s
}

// downState is the receiving connection of a subscription, whichever
// server it belongs to: a crvnode client's down connection, or the
// baseline's one PeerConnection.
func downState(sub any) ConnState {
	switch s := sub.(type) {
	case *client.Client:
		_, down := s.Connections()
		return StateOf(down)
	case *webrtc.PeerConnection:
		return StateOf(s)
	}
	return ConnState{}
}

// describeMissing names the subscribers without a keyframe, each with its
// receiving connection's state and what its Receiver counted.
func describeMissing(subs []any, recvs []*Receiver) string {
	var b strings.Builder
	missing := 0
	for i, r := range recvs {
		select {
		case <-r.FirstKeyframe():
			continue
		default:
		}
		missing++
		c := r.Counts()
		var sub any
		if i < len(subs) {
			sub = subs[i]
		}
		fmt.Fprintf(&b, "\n  subscriber %d: %s; received %d tracks (%d video), %d packets (%d video)",
			i, downState(sub), c.Tracks, c.VideoTracks, c.Packets, c.VideoPackets)
	}
	return fmt.Sprintf("%d of %d without a keyframe:%s", missing, len(recvs), b.String())
}
