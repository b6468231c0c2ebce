package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/protocol"
)

// Scenario configures `crvload run`: simulated users of one node, some in
// meetings (publishers of synthetic audio and video, and members watching
// them), some in pairs that call each other over and over.
type Scenario struct {
	URL        string // the node's WebSocket endpoint
	MetricsURL string // its /metrics; "" derives it from URL
	App        string
	Secret     string // the app secret; login sends its MD5

	Users        int // in all: 2×CallPairs callers, the rest in meetings
	Meetings     int
	Publishers   int // per meeting
	CallPairs    int
	CallsPerPair int // 0: until Duration ends
	Bitrate      int // each publisher's video, bits/s
	FPS          int
	Simulcast    bool

	Duration     time.Duration // the steady phase, after setup
	SetupTimeout time.Duration // logins, entering, first media
	Concurrency  int           // users connecting at once
	Loopback     bool          // keep the users' PeerConnections on loopback
	// Progress, if set, gets a snapshot every Interval (default 1 s).
	Progress func(Progress)
	Interval time.Duration
}

func (s *Scenario) defaults() error {
	if s.MetricsURL == "" {
		s.MetricsURL = MetricsURL(s.URL)
	}
	if s.FPS <= 0 {
		s.FPS = 30
	}
	if s.Bitrate <= 0 {
		s.Bitrate = 500_000
	}
	if s.SetupTimeout <= 0 {
		s.SetupTimeout = time.Minute
	}
	if s.Concurrency <= 0 {
		s.Concurrency = 32
	}
	if s.Interval <= 0 {
		s.Interval = time.Second
	}
	inMeetings := s.Users - 2*s.CallPairs
	switch {
	case s.Users <= 0 || s.CallPairs < 0 || s.Meetings < 0 || s.Publishers < 0:
		return fmt.Errorf("%w: negative or zero counts", ErrConfig)
	case inMeetings < 0:
		return fmt.Errorf("%w: %d call pairs need %d users, have %d", ErrConfig, s.CallPairs, 2*s.CallPairs, s.Users)
	case s.Meetings > 0 && inMeetings < s.Meetings*max(s.Publishers, 1):
		return fmt.Errorf("%w: %d meetings with %d publishers need %d users besides the callers, have %d",
			ErrConfig, s.Meetings, s.Publishers, s.Meetings*max(s.Publishers, 1), inMeetings)
	}
	return nil
}

// simUser is one simulated user.
type simUser struct {
	id        protocol.UserID
	c         *client.Client
	recv      *Receiver
	meeting   int // -1: none
	publisher bool
	call      *callPeer // call-storm users only
	enterAt   time.Time // when a subscriber began entering its meeting
	entered   bool      // guarded by runState.mu
	// What it should receive: every other publisher's camera and mic.
	wantVideo, wantAudio int
}

// runState is a running scenario's shared state.
type runState struct {
	s     Scenario
	runID string
	ctx   context.Context // the run's: event handlers use it
	users []*simUser
	meets []protocol.MeetInfo
	hc    *http.Client

	mu        sync.Mutex
	phase     string
	login     Hist
	callSetup Hist
	counts    failureCounts
	errs      []string
	usage     usageTrack
}

// failureCounts are what went right and wrong, by step.
type failureCounts struct {
	LoggedIn, Entered, Publishing      int
	LoginFailures, EnterFailures       int
	PublishFailures, SubscribeFailures int
	CallsOK, CallsFailed               int
}

// maxErrors is how many error messages a report keeps.
const maxErrors = 20

func (st *runState) fail(kind *int, format string, args ...any) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if kind != nil {
		*kind++
	}
	if len(st.errs) < maxErrors {
		st.errs = append(st.errs, fmt.Sprintf(format, args...))
	}
}

func (st *runState) count(kind *int) {
	st.mu.Lock()
	*kind++
	st.mu.Unlock()
}

func (st *runState) record(h *Hist, d time.Duration) {
	st.mu.Lock()
	h.Record(d)
	st.mu.Unlock()
}

func (st *runState) setPhase(p string) {
	st.mu.Lock()
	st.phase = p
	st.mu.Unlock()
}

// Run plays the scenario against the node and reports. The report is
// returned even when ctx ends early (Ctrl-C): it covers what ran. Every
// client is closed before Run returns.
func Run(ctx context.Context, s Scenario) (*Report, error) {
	if err := s.defaults(); err != nil {
		return nil, err
	}
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	st := &runState{s: s, ctx: ctx, runID: hex.EncodeToString(id), phase: "login",
		hc: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}}
	defer st.hc.CloseIdleConnections()
	st.layout()
	start := time.Now()
	_, _ = st.scrape(ctx) // the node's usage before the load
	stopProgress := st.watch(ctx, start)
	defer func() {
		st.setPhase("closing")
		st.closeUsers()
	}()
	st.setup(ctx)
	rep := st.steady(ctx)
	stopProgress()
	rep.TotalSeconds = time.Since(start).Seconds()
	return rep, nil
}

// layout assigns roles: the first 2×CallPairs users call, the others are
// spread over the meetings, the first Publishers of each publishing.
func (st *runState) layout() {
	s := st.s
	st.users = make([]*simUser, s.Users)
	st.meets = make([]protocol.MeetInfo, s.Meetings)
	perMeeting := make([]int, s.Meetings)
	for i := range st.users {
		u := &simUser{id: fmt.Sprintf("load-%s-%05d", st.runID, i), recv: NewReceiver(), meeting: -1}
		if i < 2*s.CallPairs {
			u.call = newCallPeer(st.ctx, func(err error) { st.fail(nil, "%s: %v", u.id, err) })
		} else if s.Meetings > 0 {
			u.meeting = (i - 2*s.CallPairs) % s.Meetings
			u.publisher = perMeeting[u.meeting] < s.Publishers
			perMeeting[u.meeting]++
		}
		st.users[i] = u
	}
	for _, u := range st.users {
		if u.meeting < 0 {
			continue
		}
		pubs := min(s.Publishers, perMeeting[u.meeting])
		if u.publisher {
			pubs--
		}
		u.wantVideo, u.wantAudio = pubs, pubs
	}
}

// closeUsers closes every client, in parallel.
func (st *runState) closeUsers() {
	var wg sync.WaitGroup
	for _, u := range st.users {
		if u.c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = u.c.Close()
		}()
	}
	wg.Wait()
}
