package signaling

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crvnode/crvnode/protocol"
)

// metrics are the signaling server's Prometheus collectors. Gauges are
// read from live state at scrape time, so no code path has to keep them in
// step.
type metrics struct {
	requests    *prometheus.CounterVec
	calls       *prometheus.CounterVec
	slowClients prometheus.Counter
	oversized   prometheus.Counter
	abuseCloses prometheus.Counter
	refused     *prometheus.CounterVec
	resumes     *prometheus.CounterVec
	moves       *prometheus.CounterVec
	queue       queueMetrics // queue_metrics.go
}

// Call outcomes counted in crvnode_calls_total.
const (
	outcomeAccepted  = "accepted"
	outcomeRejected  = "rejected"
	outcomeNoAnswer  = "no_answer"
	outcomeCancelled = "cancelled" // hung up while ringing, or a party went away
)

func newMetrics(reg prometheus.Registerer, srv *Server) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crvnode_requests_total", Help: "JSON-RPC requests handled, by method and CRVideo result code.",
		}, []string{"method", "code"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crvnode_calls_total", Help: "Calls and invites that stopped ringing, by outcome.",
		}, []string{"kind", "outcome"}),
		slowClients: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crvnode_slow_clients_total", Help: "Connections closed because their send queue was full.",
		}),
		oversized: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crvnode_oversized_messages_total", Help: "Connections closed (1009) for a message over the size limit.",
		}),
		abuseCloses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crvnode_rate_abuse_closes_total", Help: "Connections closed for sending far past the rate limit.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crvnode_connections_refused_total", Help: "WebSocket connections refused or closed before a login, by reason (max_connections, login_timeout).",
		}, []string{"reason"}),
		moves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crvnode_session_moves_total",
			Help: "Sessions moved between the nodes of a service, by outcome: sent (answered with a MoveTo), taken (moveIn took one over), refused.",
		}, []string{"outcome"}),
		resumes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crvnode_resumes_total",
			Help: "Resume attempts and sessions that waited for one in vain, by outcome (resumed, expired, overflow, kicked, reused, unknown, restarted, mismatch, bad_seq, too_old, busy).",
		}, []string{"outcome"}),
	}
	gauge := func(name, help string, f func(*app) int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			n := 0
			for _, a := range srv.apps {
				a.mu.Lock()
				n += f(a)
				a.mu.Unlock()
			}
			return float64(n)
		})
	}
	collectors := []prometheus.Collector{
		m.requests, m.calls, m.slowClients, m.oversized, m.abuseCloses, m.refused, m.resumes, m.moves,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "crvnode_sessions_waiting_resume", Help: "Sessions whose connection was lost, waiting for a resume.",
		}, func() float64 {
			srv.mu.Lock()
			defer srv.mu.Unlock()
			return float64(len(srv.detached))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "crvnode_connections", Help: "Open WebSocket connections.",
		}, func() float64 {
			srv.mu.Lock()
			defer srv.mu.Unlock()
			return float64(len(srv.links))
		}),
		gauge("crvnode_sessions", "Logged-in users.", func(a *app) int {
			n := 0
			for _, u := range a.users {
				if u.sess != nil {
					n++
				}
			}
			return n
		}),
		gauge("crvnode_meetings", "Meetings that exist (created and not destroyed).", func(a *app) int { return len(a.meetings) }),
		gauge("crvnode_meetings_active", "Meetings with at least one member.", func(a *app) int {
			n := 0
			for _, m := range a.meetings {
				if len(m.members) > 0 {
					n++
				}
			}
			return n
		}),
		gauge("crvnode_members", "Members in meetings.", func(a *app) int {
			n := 0
			for _, m := range a.meetings {
				n += len(m.members)
			}
			return n
		}),
		gauge("crvnode_calls_ringing", "Calls and invites ringing now.", func(a *app) int {
			n := 0
			for _, c := range a.calls {
				if !c.accepted {
					n++
				}
			}
			return n
		}),
	}
	m.queue = newQueueMetrics()
	collectors = append(collectors, m.queue.collectors(srv)...)
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// request counts one handled request. Only methods the node serves are
// labels (see session.handle), so clients cannot grow the label set.
func (m *metrics) request(method string, code protocol.Code) {
	m.requests.WithLabelValues(method, strconv.Itoa(int(code))).Inc()
}

func (m *metrics) callEnded(c *call, outcome string) {
	if m == nil {
		return
	}
	kind := "call"
	if c.invite {
		kind = "invite"
	}
	m.calls.WithLabelValues(kind, outcome).Inc()
}
