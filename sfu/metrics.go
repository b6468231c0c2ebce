package sfu

import "github.com/prometheus/client_golang/prometheus"

// metrics are the SFU's Prometheus collectors.
type metrics struct {
	peers     *prometheus.GaugeVec
	forwarded prometheus.Counter
	dropped   *prometheus.CounterVec
	nacks     *prometheus.CounterVec
	plis      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, s *SFU) (*metrics, error) {
	m := &metrics{
		peers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "crvnode_sfu_peer_connections", Help: "Open PeerConnections, by direction (up: client publishes, down: client receives).",
		}, []string{"direction"}),
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crvnode_sfu_forwarded_packets_total", Help: "RTP packets handed to subscribers.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crvnode_sfu_dropped_packets_total", Help: "RTP packets not forwarded, by reason.",
		}, []string{"reason"}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crvnode_sfu_nacks_total", Help: "Subscribers' NACKed packets, by result (resent from the cache, or miss).",
		}, []string{"result"}),
		plis: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crvnode_sfu_plis_total", Help: "Keyframe requests sent to publishers.",
		}),
	}
	rooms := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crvnode_sfu_rooms", Help: "Meetings with media."}, func() float64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return float64(len(s.rooms))
	})
	for _, c := range []prometheus.Collector{m.peers, m.forwarded, m.dropped, m.nacks, m.plis, rooms} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
