package node

import (
	"log/slog"
	"sync"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/protocol"
	"github.com/crvnode/crvnode/sfu"
	"github.com/crvnode/crvnode/signaling"
)

// sfuMedia adapts the SFU, and the relay of data transfers that rides on
// the same up connections, to the interface signaling drives them through.
type sfuMedia struct {
	s     *sfu.SFU
	relay *datachannel.Relay
}

func mediaOf(s *sfu.SFU, relay *datachannel.Relay) signaling.Media {
	if s == nil {
		return nil
	}
	return sfuMedia{s, relay}
}

// NewPeer creates a session's media: an SFU participant whose transfer
// channel on its up connection is attached to the relay under (app, user).
func (m sfuMedia) NewPeer(appID string, userID protocol.UserID, ev signaling.MediaEvents) (signaling.MediaPeer, error) {
	p, err := m.s.NewParticipant(userID, ev)
	if err != nil {
		return nil, err
	}
	mp := &participant{Participant: p}
	p.OnDataChannel(func(dc *webrtc.DataChannel) {
		if dc.Label() != datachannel.ChannelLabel {
			return
		}
		// Attached before any message can arrive; what waits for the user
		// is sent once the channel is open.
		rp := m.relay.AttachOpening(appID, userID, dc.Send)
		dc.OnMessage(func(msg webrtc.DataChannelMessage) {
			if !msg.IsString {
				rp.Handle(msg.Data)
			}
		})
		dc.OnOpen(rp.Ready)
		dc.OnClose(rp.Close)
		mp.attach(rp)
	})
	return mp, nil
}

// participant is an SFU participant whose Close also detaches its
// transfer channels from the relay, so that its transfers fail at once
// rather than when SCTP notices.
type participant struct {
	*sfu.Participant
	mu     sync.Mutex
	relays []*datachannel.RelayChannel
	closed bool
}

func (p *participant) attach(r *datachannel.RelayChannel) {
	p.mu.Lock()
	closed := p.closed
	if !closed {
		p.relays = append(p.relays, r)
	}
	p.mu.Unlock()
	if closed {
		r.Close()
	}
}

// Close ends the participant's media and transfers.
func (p *participant) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.closeRelays()
	p.Participant.Close()
}

// CloseUp closes the up connection and fails the transfers on its
// channels at once; a new up connection attaches new ones.
func (p *participant) CloseUp() error {
	p.closeRelays()
	return p.Participant.CloseUp()
}

func (p *participant) closeRelays() {
	p.mu.Lock()
	relays := p.relays
	p.relays = nil
	p.mu.Unlock()
	for _, r := range relays {
		r.Close()
	}
}

// newRelay builds the node's transfer relay and exports its state. A
// transfer to a logged-in user with no data channel wakes the user
// through wake (signaling's upNeeded) and waits for the channel; one to a
// user of another node of the cluster goes on the link remote finds.
func newRelay(reg prometheus.Registerer, log *slog.Logger, wake func(app string, user protocol.UserID) bool,
	remote func(app string, user protocol.UserID) (*datachannel.Link, bool)) (*datachannel.Relay, error) {
	relay, err := datachannel.NewRelay(datachannel.RelayConfig{Logger: log, Wake: wake, Remote: remote})
	if err != nil {
		return nil, err
	}
	stat := func(f func(datachannel.RelayStats) float64) func() float64 {
		return func() float64 { return f(relay.Stats()) }
	}
	cs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crvnode_transfer_buffered_bytes",
			Help: "Transfer bytes the relay holds now (bounded by one window per transfer)."},
			func() float64 { return float64(relay.BufferedBytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crvnode_transfer_active", Help: "Transfers under way."},
			stat(func(s datachannel.RelayStats) float64 { return float64(s.ActiveTasks) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crvnode_transfer_waiting_receivers",
			Help: "Users asked to open their data channel (upNeeded) with transfers waiting for it."},
			stat(func(s datachannel.RelayStats) float64 { return float64(s.Waiting) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "crvnode_transfer_relayed_bytes_total", Help: "Content bytes relayed."},
			stat(func(s datachannel.RelayStats) float64 { return float64(s.BytesRelayed) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "crvnode_transfer_failed_total", Help: "Transfers that failed."},
			stat(func(s datachannel.RelayStats) float64 { return float64(s.TasksFailed) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "crvnode_transfer_malformed_frames_total", Help: "Frames refused as malformed."},
			stat(func(s datachannel.RelayStats) float64 { return float64(s.FramesMalformed) })),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return relay, nil
}
