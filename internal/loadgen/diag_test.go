package loadgen

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/client"
)

// TestDescribeMissingNamesStates: a bench that gives up on subscribers
// says which ones, and what their receiving connections looked like.
func TestDescribeMissingNamesStates(t *testing.T) {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}

	got, noConn, waiting := NewReceiver(), NewReceiver(), NewReceiver()
	tc := &trackCount{video: true}
	got.tracks = append(got.tracks, tc)
	got.record(tc, &rtp.Packet{}, 100, time.Now(), client.SyntheticInfo{Sent: time.Now(), Keyframe: true}, true)

	s := describeMissing([]any{pc, nil, pc}, []*Receiver{got, noConn, waiting})
	for _, want := range []string{
		"2 of 3 without a keyframe",
		"subscriber 1: no down connection",
		"subscriber 2: signaling stable, ICE new, connection new, 0 tracks negotiated, 0 RTP packets in; received 0 tracks (0 video)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("description lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "subscriber 0") {
		t.Errorf("a subscriber with a keyframe is described:\n%s", s)
	}
}
