package sfu

import (
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/crvnode/crvnode/protocol"
)

// nackCounter counts the NACKs a PeerConnection sends.
type nackCounter struct {
	interceptor.NoOp
	nacks *atomic.Int64
}

func (n *nackCounter) NewInterceptor(string) (interceptor.Interceptor, error) { return n, nil }

func (n *nackCounter) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		for _, p := range pkts {
			if nk, ok := p.(*rtcp.TransportLayerNack); ok {
				for _, pair := range nk.Nacks {
					n.nacks.Add(int64(len(pair.PacketList())))
				}
			}
		}
		return w.Write(pkts, a)
	})
}

// TestPaddingNotForwarded: a publisher sends a padding-only packet after
// every third VP8 packet; the subscriber, which NACKs what it misses,
// gets no padding, contiguous sequence numbers, and so sends no NACK.
func TestPaddingNotForwarded(t *testing.T) {
	s, err := New(Config{UDPAddr: "127.0.0.1:0", TCPAddr: "-", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	pubEv, subEv := newEvents(), newEvents()
	pub, _ := s.NewParticipant("pub", pubEv)
	sub, _ := s.NewParticipant("sub", subEv)
	t.Cleanup(func() { pub.Close(); sub.Close() })
	pub.Join("app/1")
	sub.Join("app/1")
	publishPadded(t, pub, pubEv, false, 3)
	pub.SetSending(protocol.SourceCamera, true)
	sub.Watch("pub", protocol.SourceCamera, 0, true)

	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	var nacks atomic.Int64
	reg := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor(nack.GeneratorInterval(20 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	reg.Add(gen)
	reg.Add(&nackCounter{nacks: &nacks})
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	down, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = down.Close() })
	down.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			_ = sub.AddDownCandidate(toProto(c.ToJSON()))
		}
	})

	const want = 60 // packets received in a row
	type result struct {
		seqs    []uint16
		padding int
	}
	got := make(chan result, 1)
	down.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		var r result
		defer func() { got <- r }()
		for len(r.seqs) < want {
			_ = tr.SetReadDeadline(time.Now().Add(10 * time.Second))
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if pkt.Padding && len(pkt.Payload) == 0 {
				r.padding++
			}
			r.seqs = append(r.seqs, pkt.SequenceNumber)
		}
	})
	deadline := time.After(30 * time.Second)
	var r result
wait:
	for {
		select {
		case o := <-subEv.offers:
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
		case c := <-subEv.down:
			_ = down.AddICECandidate(fromProto(c))
		case r = <-got:
			break wait
		case <-deadline:
			t.Fatal("no video within 30 s")
		}
	}
	if len(r.seqs) < want {
		t.Fatalf("the track ended after %d packets", len(r.seqs))
	}
	if r.padding > 0 {
		t.Errorf("%d padding-only packets of %d reached the subscriber", r.padding, len(r.seqs))
	}
	for i := 1; i < len(r.seqs); i++ {
		if r.seqs[i] != r.seqs[i-1]+1 {
			t.Fatalf("sequence numbers not contiguous: %v", r.seqs)
		}
	}
	if n := nacks.Load(); n > 0 {
		t.Errorf("the subscriber NACKed %d packets", n)
	}
	if d := testutil.ToFloat64(s.metrics.dropped.WithLabelValues("padding")); d < want/3-2 {
		t.Errorf("%v padding packets dropped; want about %d", d, want/3)
	}
}
