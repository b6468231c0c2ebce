package loadgen

import (
	"context"
	"sync"
	"time"
)

// Progress is a running scenario's state, reported every second.
type Progress struct {
	Elapsed    time.Duration
	Phase      string // login, meetings, publish, subscribe, media, steady, closing
	Users      int
	LoggedIn   int
	Entered    int
	Publishing int
	Receiving  int // members receiving every track they should
	Failures   int
	RxBps      float64 // every subscriber together, over the last interval
	Loss       float64 // since the steady phase began (before it: since setup)
	E2E        Summary // likewise
	CallsOK    int
	CallsFail  int
	CallSetup  Summary
	Node       Usage
	NodeCPU    float64 // share of one core over the last interval
	NodeErr    error   // the last scrape's
}

// usageTrack follows the node's resource use over the run.
type usageTrack struct {
	first, last         Usage
	firstAt, lastAt     time.Time
	maxRSS              int64
	haveFirst, haveLast bool
}

// scrape reads the node's usage and folds it into the run's track.
func (st *runState) scrape(ctx context.Context) (Usage, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u, err := ScrapeUsage(ctx, st.hc, st.s.MetricsURL)
	if err != nil {
		return u, err
	}
	now := time.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	t := &st.usage
	if !t.haveFirst {
		t.first, t.firstAt, t.haveFirst = u, now, true
	}
	t.last, t.lastAt, t.haveLast = u, now, true
	t.maxRSS = max(t.maxRSS, u.RSS)
	return u, nil
}

// watch reports Progress every Interval until the returned stop is called.
func (st *runState) watch(ctx context.Context, start time.Time) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(st.s.Interval)
		defer t.Stop()
		var prevBytes uint64
		var prev Usage
		prevAt := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			p, bytes := st.progress(start)
			now := time.Now()
			p.RxBps = float64((bytes-prevBytes)*8) / now.Sub(prevAt).Seconds()
			p.Node, p.NodeErr = st.scrape(ctx)
			if p.NodeErr == nil && prev.CPU > 0 {
				p.NodeCPU = (p.Node.CPU - prev.CPU).Seconds() / now.Sub(prevAt).Seconds()
			}
			if p.NodeErr == nil {
				prev = p.Node
			}
			prevBytes, prevAt = bytes, now
			if st.s.Progress != nil && ctx.Err() == nil {
				st.s.Progress(p)
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// progress snapshots the run; it also returns the bytes received so far.
func (st *runState) progress(start time.Time) (Progress, uint64) {
	p := Progress{Elapsed: time.Since(start), Users: len(st.users)}
	var total RecvCounts
	var lat Hist
	for _, u := range st.users {
		c := u.recv.Counts()
		total = total.Add(c)
		u.recv.AddLatency(&lat, false)
		if u.meeting >= 0 && (u.wantVideo > 0 || u.wantAudio > 0) && u.receiving() {
			p.Receiving++
		}
	}
	p.Loss, p.E2E = total.Loss(), lat.Summary()
	st.mu.Lock()
	defer st.mu.Unlock()
	f := st.counts
	p.Phase, p.LoggedIn, p.Entered, p.Publishing = st.phase, f.LoggedIn, f.Entered, f.Publishing
	p.Failures = f.LoginFailures + f.EnterFailures + f.PublishFailures + f.SubscribeFailures + f.CallsFailed
	p.CallsOK, p.CallsFail, p.CallSetup = f.CallsOK, f.CallsFailed, st.callSetup.Summary()
	return p, total.Bytes
}

// NodeUsageSummary is the node's resource use over the run, from its
// /metrics (for an -embedded node: the whole crvload process, load
// included).
type NodeUsageSummary struct {
	MetricsURL       string  `json:"metricsURL"`
	CPUSeconds       float64 `json:"cpuSeconds"`       // first to last scrape
	SteadyCPUSeconds float64 `json:"steadyCpuSeconds"` // the steady phase
	SteadyCPUPercent float64 `json:"steadyCpuPercent"` // of one core
	RSSStartBytes    int64   `json:"rssStartBytes"`
	RSSEndBytes      int64   `json:"rssEndBytes"`
	RSSMaxBytes      int64   `json:"rssMaxBytes"`
	Error            string  `json:"error,omitempty"`
}

func (st *runState) nodeUsage(u0, u1 Usage, err error, steady time.Duration) NodeUsageSummary {
	st.mu.Lock()
	t := st.usage
	st.mu.Unlock()
	n := NodeUsageSummary{MetricsURL: st.s.MetricsURL, RSSStartBytes: t.first.RSS, RSSEndBytes: t.last.RSS, RSSMaxBytes: t.maxRSS}
	if t.haveFirst && t.haveLast {
		n.CPUSeconds = (t.last.CPU - t.first.CPU).Seconds()
	}
	if err != nil {
		n.Error = err.Error()
		return n
	}
	n.SteadyCPUSeconds = (u1.CPU - u0.CPU).Seconds()
	n.SteadyCPUPercent = 100 * n.SteadyCPUSeconds / steady.Seconds()
	return n
}
