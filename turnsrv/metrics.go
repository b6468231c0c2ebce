package turnsrv

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Refusal reasons, the values of crvnode_turn_refusals_total{reason}.
const (
	reasonAuth        = "auth"         // malformed username, wrong password or secret, wrong realm
	reasonExpired     = "expired"      // Allocate with an expired username
	reasonQuotaUser   = "quota_user"   // the user holds MaxAllocationsPerUser allocations
	reasonQuotaTotal  = "quota_total"  // the server holds MaxAllocations allocations
	reasonPeerAddress = "peer_address" // permission or channel to a refused peer address
	reasonConnections = "connections"  // a TCP/TLS connection past the connection cap
)

var refusalReasons = []string{reasonAuth, reasonExpired, reasonQuotaUser, reasonQuotaTotal, reasonPeerAddress, reasonConnections}

// metrics are the server's Prometheus collectors.
type metrics struct {
	reg        prometheus.Registerer
	collectors []prometheus.Collector
	relayed    prometheus.Counter
	refusals   *prometheus.CounterVec
}

// newMetrics creates the collectors and registers them on reg (if not
// nil). allocations is read at scrape time.
func newMetrics(reg prometheus.Registerer, allocations func() float64) (*metrics, error) {
	m := &metrics{
		reg: reg,
		relayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crvnode_turn_relayed_bytes_total",
			Help: "Bytes sent and received on TURN relay sockets, both directions.",
		}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crvnode_turn_refusals_total",
			Help: "TURN requests and connections refused, by reason.",
		}, []string{"reason"}),
	}
	for _, r := range refusalReasons {
		m.refusals.WithLabelValues(r) // every reason shows in /metrics from the start
	}
	m.collectors = []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "crvnode_turn_allocations",
			Help: "Live TURN allocations.",
		}, allocations),
		m.relayed,
		m.refusals,
	}
	if reg == nil {
		return m, nil
	}
	for i, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			for _, done := range m.collectors[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("turnsrv: register metrics: %w", err)
		}
	}
	return m, nil
}

// unregister removes the collectors, so a new Server can register on the
// same registry.
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}

func (m *metrics) refuse(reason string) { m.refusals.WithLabelValues(reason).Inc() }
