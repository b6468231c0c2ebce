package signaling

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// queueMetrics are the queue component's collectors: how assignments end,
// how long customers waited before an agent accepted them, and per queue
// the customers waiting and the agents serving, read at scrape time.
type queueMetrics struct {
	assignments *prometheus.CounterVec
	wait        prometheus.Histogram
}

func newQueueMetrics() queueMetrics {
	return queueMetrics{
		assignments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crvnode_queue_assignments_total", Help: "Customers assigned to agents, by how the assignment ended (accepted, rejected, timeout, cancelled).",
		}, []string{"outcome"}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "crvnode_queue_wait_seconds", Help: "Time from startQueuing to the agent's accept.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600},
		}),
	}
}

func (q queueMetrics) collectors(srv *Server) []prometheus.Collector {
	return []prometheus.Collector{q.assignments, q.wait, queueGauges{srv}}
}

func (m *metrics) queueAssignment(outcome string) {
	if m == nil {
		return
	}
	m.queue.assignments.WithLabelValues(outcome).Inc()
}

func (m *metrics) queueWaited(d time.Duration) {
	if m == nil {
		return
	}
	m.queue.wait.Observe(d.Seconds())
}

var (
	queueWaitingDesc = prometheus.NewDesc("crvnode_queue_waiting", "Customers waiting in a queue (assigned ones included, until accepted).", []string{"app", "queue"}, nil)
	queueAgentsDesc  = prometheus.NewDesc("crvnode_queue_agents", "Agents serving a queue.", []string{"app", "queue"}, nil)
)

// queueGauges reads every app's queue counts when scraped.
type queueGauges struct{ srv *Server }

func (g queueGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueWaitingDesc
	ch <- queueAgentsDesc
}

func (g queueGauges) Collect(ch chan<- prometheus.Metric) {
	for id, a := range g.srv.apps {
		a.mu.Lock()
		for _, q := range a.queues.list {
			st := a.queues.statusLocked(q)
			label := strconv.Itoa(q.info.QueID)
			ch <- prometheus.MustNewConstMetric(queueWaitingDesc, prometheus.GaugeValue, float64(st.WaitNum), id, label)
			ch <- prometheus.MustNewConstMetric(queueAgentsDesc, prometheus.GaugeValue, float64(st.AgentNum), id, label)
		}
		a.mu.Unlock()
	}
}
