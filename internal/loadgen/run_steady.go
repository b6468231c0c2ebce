package loadgen

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"
)

// steady runs the measured phase: media flows for Duration while the
// call pairs call, then the report is assembled.
func (st *runState) steady(ctx context.Context) *Report {
	st.setPhase("steady")
	c0 := make([]RecvCounts, len(st.users))
	for i, u := range st.users {
		u.recv.AddLatency(nil, true)
		c0[i] = u.recv.Counts()
	}
	u0, err0 := st.scrape(ctx)
	t0 := time.Now()

	sctx, cancel := context.WithTimeout(ctx, st.s.Duration)
	defer cancel()
	var wg sync.WaitGroup
	for k := 0; k < st.s.CallPairs; k++ {
		a, b := st.users[2*k], st.users[2*k+1]
		if a.call.client() == nil || b.call.client() == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.storm(sctx, a, b)
		}()
	}
	wg.Wait()
	<-sctx.Done()
	elapsed := time.Since(t0)
	u1, err1 := st.scrape(context.WithoutCancel(ctx))

	rep := st.report(c0, elapsed)
	rep.Node = st.nodeUsage(u0, u1, errors.Join(err0, err1), elapsed)
	return rep
}

// storm has a and b call each other in turn until ctx ends or they have
// placed CallsPerPair calls.
func (st *runState) storm(ctx context.Context, a, b *simUser) {
	for i := 0; st.s.CallsPerPair == 0 || i < st.s.CallsPerPair; i++ {
		if ctx.Err() != nil {
			return
		}
		caller, callee := a, b
		if i%2 == 1 {
			caller, callee = b, a
		}
		setup, err := callOnce(ctx, caller.call, callee.id)
		switch {
		case err == nil:
			st.mu.Lock()
			st.callSetup.Record(setup)
			st.counts.CallsOK++
			st.mu.Unlock()
		case ctx.Err() != nil:
			return // the phase ended during the call: neither success nor failure
		default:
			st.fail(&st.counts.CallsFailed, "%s calling %s: %v", caller.id, callee.id, err)
			_ = sleepCtx(ctx, 100*time.Millisecond)
		}
	}
}

// Report is what `crvload run` prints.
type Report struct {
	URL                  string  `json:"url"`
	Users                int     `json:"users"`
	Meetings             int     `json:"meetings"`
	PublishersPerMeeting int     `json:"publishersPerMeeting"`
	CallPairs            int     `json:"callPairs"`
	SteadySeconds        float64 `json:"steadySeconds"`
	TotalSeconds         float64 `json:"totalSeconds"`

	LoggedIn          int      `json:"loggedIn"`
	Entered           int      `json:"entered"`
	Publishing        int      `json:"publishing"`
	Receiving         int      `json:"receiving"` // members receiving every track they should
	LoginFailures     int      `json:"loginFailures"`
	EnterFailures     int      `json:"enterFailures"`
	PublishFailures   int      `json:"publishFailures"`
	SubscribeFailures int      `json:"subscribeFailures"`
	NoMedia           int      `json:"noMedia"` // members missing a track at the end
	CallsOK           int      `json:"callsOK"`
	CallsFailed       int      `json:"callsFailed"`
	Errors            []string `json:"errors,omitempty"`

	Login      Summary          `json:"login"`         // the login request
	CallSetup  Summary          `json:"callSetup"`     // call → notifyCallAccepted
	FirstVideo Summary          `json:"firstVideo"`    // enterMeeting → first video packet
	FirstKey   Summary          `json:"firstKeyframe"` // enterMeeting → first keyframe (the first frame to show)
	E2E        Summary          `json:"e2eLatency"`    // synthetic send → receive, steady phase
	Loss       float64          `json:"loss"`          // steady phase, all tracks
	RxBitrate  BitrateSummary   `json:"rxBitratePerSubscriber"`
	Node       NodeUsageSummary `json:"node"`
}

// Failures counts everything that went wrong.
func (r *Report) Failures() int {
	return r.LoginFailures + r.EnterFailures + r.PublishFailures + r.SubscribeFailures + r.NoMedia + r.CallsFailed
}

// BitrateSummary is the spread of subscribers' received bitrates (all
// their RTP, audio and video) over the steady phase, bits/s.
type BitrateSummary struct {
	Subscribers int     `json:"subscribers"`
	Mean        float64 `json:"mean"`
	Min         float64 `json:"min"`
	P50         float64 `json:"p50"`
	Max         float64 `json:"max"`
}

func (st *runState) report(c0 []RecvCounts, elapsed time.Duration) *Report {
	s := st.s
	rep := &Report{URL: s.URL, Users: s.Users, Meetings: s.Meetings, PublishersPerMeeting: s.Publishers,
		CallPairs: s.CallPairs, SteadySeconds: elapsed.Seconds()}
	var total RecvCounts
	var lat, first, key Hist
	var rates []float64
	noMedia, receiving := 0, 0
	for i, u := range st.users {
		c := u.recv.Counts()
		total = total.Add(c.Sub(c0[i]))
		u.recv.AddLatency(&lat, false)
		if u.meeting < 0 || !st.entered(u) {
			continue
		}
		switch {
		case !u.receiving():
			noMedia++
		case u.wantVideo+u.wantAudio > 0:
			receiving++
		}
		if u.wantVideo > 0 {
			rates = append(rates, float64((c.Bytes-c0[i].Bytes)*8)/elapsed.Seconds())
		}
		if !u.publisher && !u.enterAt.IsZero() {
			if at := u.recv.FirstVideoAt(); !at.IsZero() {
				first.Record(at.Sub(u.enterAt))
			}
			if at := u.recv.FirstKeyframeAt(); !at.IsZero() {
				key.Record(at.Sub(u.enterAt))
			}
		}
	}
	rep.E2E, rep.FirstVideo, rep.FirstKey, rep.Loss = lat.Summary(), first.Summary(), key.Summary(), total.Loss()
	rep.RxBitrate = bitrates(rates)
	st.mu.Lock()
	defer st.mu.Unlock()
	f := st.counts
	rep.LoggedIn, rep.Entered, rep.Publishing, rep.Receiving = f.LoggedIn, f.Entered, f.Publishing, receiving
	rep.LoginFailures, rep.EnterFailures, rep.PublishFailures = f.LoginFailures, f.EnterFailures, f.PublishFailures
	rep.SubscribeFailures, rep.NoMedia = f.SubscribeFailures, noMedia
	rep.CallsOK, rep.CallsFailed = f.CallsOK, f.CallsFailed
	rep.Errors = append([]string(nil), st.errs...)
	rep.Login, rep.CallSetup = st.login.Summary(), st.callSetup.Summary()
	return rep
}

func (st *runState) entered(u *simUser) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return u.entered
}

func bitrates(r []float64) BitrateSummary {
	if len(r) == 0 {
		return BitrateSummary{}
	}
	sort.Float64s(r)
	sum := 0.0
	for _, v := range r {
		sum += v
	}
	return BitrateSummary{Subscribers: len(r), Mean: sum / float64(len(r)), Min: r[0], P50: r[(len(r)-1)/2], Max: r[len(r)-1]}
}
