package loadgen

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/protocol"
)

// Soak configures `crvload soak`: workers that run the node's features at
// random for a long time, each step with its own clients and each ending
// with them gone, so that the node must come back to its idle level.
type Soak struct {
	URL        string // the node's WebSocket endpoint
	MetricsURL string // its /metrics; "" derives it from URL
	App        string
	Secret     string

	Duration time.Duration // the load phase
	Workers  int           // steps running at once (default 4)
	Sample   time.Duration // how often the node is sampled (default 10 s)
	// Settle bounds the wait, after the load, for the node to come back
	// to its idle level; it must exceed the node's resume grace window,
	// which sessions cut abruptly wait out (default 90 s).
	Settle time.Duration
	// Loopback keeps the clients' PeerConnections on loopback.
	Loopback bool
	TempDir  string // for the files transferred ("" : the system's)
	Progress func(format string, args ...any)
}

// Soak step kinds.
const (
	StepPresence = "presence" // login, notify, DND, status list, logout
	StepCall     = "call"     // call, accept, hold, hang up
	StepMeeting  = "meeting"  // a meeting with video and audio watched by a member
	StepTransfer = "transfer" // a command, a buffer and a file between two users
	StepAbrupt   = "abrupt"   // a session whose TCP connection is cut, left to the grace window
	StepResume   = "resume"   // a session whose TCP connection is cut, resumed
)

var soakSteps = []struct {
	name   string
	weight int
}{
	{StepPresence, 4}, {StepCall, 3}, {StepMeeting, 2}, {StepTransfer, 2}, {StepAbrupt, 2}, {StepResume, 2},
}

// SoakReport is what a soak saw.
type SoakReport struct {
	URL      string         `json:"url"`
	Duration float64        `json:"durationSeconds"`
	Steps    map[string]int `json:"steps"` // completed steps by kind
	// Codes counts the CRVideo codes the steps' requests and events
	// failed with, as "step: code"; Unexpected lists the ones a healthy
	// node does not give.
	Codes      map[string]int `json:"codes"`
	Unexpected map[string]int `json:"unexpected"` // "step request: code" → count
	// Example is one error message of each unexpected kind.
	Example    map[string]string `json:"example"`
	Idle       Resources         `json:"idle"`   // before the load
	During     []Resources       `json:"during"` // every sample of the load phase
	After      Resources         `json:"after"`  // once settled
	Settled    bool              `json:"settled"`
	SettleTime float64           `json:"settleSeconds"`
	// RSSEarly and RSSLate are the mean RSS of the load phase's second
	// and last quarters (the first is the warm-up).
	RSSEarly int64    `json:"rssEarlyBytes"`
	RSSLate  int64    `json:"rssLateBytes"`
	Failures []string `json:"failures"` // why the soak failed; empty if it passed
}

// Max returns the highest goroutines, fds and RSS of the load phase.
func (r *SoakReport) Max() Resources {
	var m Resources
	for _, s := range r.During {
		m.Goroutines = max(m.Goroutines, s.Goroutines)
		m.OpenFDs = max(m.OpenFDs, s.OpenFDs)
		m.RSS = max(m.RSS, s.RSS)
		m.Sessions = max(m.Sessions, s.Sessions)
		m.Waiting = max(m.Waiting, s.Waiting)
	}
	return m
}

// Tolerances of the soak's verdict: what may remain above the idle level
// (the HTTP server's and the runtime's own goroutines come and go), and
// how much RSS may grow from the second quarter to the last.
const (
	soakGoroutineSlack = 10
	soakFDSlack        = 4
	soakRSSGrowth      = 1.25
	soakRSSSlack       = 32 << 20
)

func (s *Soak) defaults() error {
	if s.MetricsURL == "" {
		s.MetricsURL = MetricsURL(s.URL)
	}
	if s.Workers <= 0 {
		s.Workers = 4
	}
	if s.Sample <= 0 {
		s.Sample = 10 * time.Second
	}
	if s.Settle <= 0 {
		s.Settle = 90 * time.Second
	}
	if s.Progress == nil {
		s.Progress = func(string, ...any) {}
	}
	if s.Duration <= 0 {
		return fmt.Errorf("%w: soak duration %v", ErrConfig, s.Duration)
	}
	return nil
}

// RunSoak runs a soak and judges the node: goroutines and open files back
// to the idle level, RSS flat, no unexpected error code.
func RunSoak(ctx context.Context, s Soak) (*SoakReport, error) {
	if err := s.defaults(); err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	rep := &SoakReport{URL: s.URL, Steps: map[string]int{}, Codes: map[string]int{}, Unexpected: map[string]int{}, Example: map[string]string{}}
	run := &soakRun{s: &s, rep: rep}

	// Warm up: one step of each kind, so that what the node sets up once
	// (its database connections, the SFU's workers) is in the idle level.
	s.Progress("warm-up: one step of each kind")
	for _, st := range soakSteps {
		run.step(ctx, 0, st.name)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	idle, ok, err := run.settle(ctx, hc, nil)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.Progress("the node did not settle after the warm-up; idle is its last sample")
	}
	rep.Idle = idle
	s.Progress("idle: %d goroutines, %d open files, RSS %.1f MiB", idle.Goroutines, idle.OpenFDs, float64(idle.RSS)/(1<<20))

	start := time.Now()
	lctx, cancel := context.WithTimeout(ctx, s.Duration)
	var wg sync.WaitGroup
	for w := 1; w <= s.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lctx.Err() == nil {
				run.step(lctx, w, pickStep())
			}
		}()
	}
	tick := time.NewTicker(s.Sample)
sampling:
	for {
		select {
		case <-lctx.Done():
			break sampling
		case <-tick.C:
			r, err := ScrapeResources(ctx, hc, s.MetricsURL)
			if err != nil {
				run.fail("sample: %v", err)
				continue
			}
			rep.During = append(rep.During, r)
			run.mu.Lock()
			steps := 0
			for _, n := range rep.Steps {
				steps += n
			}
			run.mu.Unlock()
			s.Progress("%4.0fs: %d steps; node: %d sessions (%d waiting for a resume), %d goroutines, %d open files, RSS %.1f MiB",
				time.Since(start).Seconds(), steps, r.Sessions, r.Waiting, r.Goroutines, r.OpenFDs, float64(r.RSS)/(1<<20))
		}
	}
	tick.Stop()
	cancel()
	wg.Wait()
	rep.Duration = time.Since(start).Seconds()
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}

	s.Progress("load over; waiting for the node to settle (up to %v)", s.Settle)
	settleStart := time.Now()
	after, ok, err := run.settle(ctx, hc, &rep.Idle)
	if err != nil {
		return rep, err
	}
	rep.After, rep.Settled, rep.SettleTime = after, ok, time.Since(settleStart).Seconds()
	run.judge()
	return rep, nil
}

// pickStep draws a step kind by weight.
func pickStep() string {
	total := 0
	for _, st := range soakSteps {
		total += st.weight
	}
	n := mrand.IntN(total)
	for _, st := range soakSteps {
		if n < st.weight {
			return st.name
		}
		n -= st.weight
	}
	return StepPresence
}

type soakRun struct {
	s   *Soak
	mu  sync.Mutex
	rep *SoakReport
}

func (r *soakRun) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.Failures = append(r.rep.Failures, fmt.Sprintf(format, args...))
}

// settle waits until the node has no session and, given an idle level,
// its goroutines and open files are back within the slack of it; it
// returns the last sample and whether it settled.
func (r *soakRun) settle(ctx context.Context, hc *http.Client, idle *Resources) (Resources, bool, error) {
	deadline := time.Now().Add(r.s.Settle)
	var last Resources
	for {
		cur, err := ScrapeResources(ctx, hc, r.s.MetricsURL)
		if err != nil {
			return last, false, err
		}
		last = cur
		settled := cur.Sessions == 0 && cur.Waiting == 0
		if idle != nil {
			settled = settled && cur.Goroutines <= idle.Goroutines+soakGoroutineSlack && cur.OpenFDs <= idle.OpenFDs+soakFDSlack
		}
		if settled || time.Now().After(deadline) {
			return last, settled, nil
		}
		if err := sleepCtx(ctx, time.Second); err != nil {
			return last, false, err
		}
	}
}

// judge fills in the verdict.
func (r *soakRun) judge() {
	rep := r.rep
	if !rep.Settled {
		rep.Failures = append(rep.Failures, fmt.Sprintf("the node did not come back to its idle level within the settle time: after %+v, idle %+v", rep.After, rep.Idle))
	}
	if n := len(rep.During); n >= 4 {
		q := n / 4
		rep.RSSEarly, rep.RSSLate = meanRSS(rep.During[q:2*q]), meanRSS(rep.During[n-q:])
		if limit := max(int64(float64(rep.RSSEarly)*soakRSSGrowth), rep.RSSEarly+soakRSSSlack); rep.RSSLate > limit {
			rep.Failures = append(rep.Failures, fmt.Sprintf("RSS grew from %.1f MiB (second quarter) to %.1f MiB (last quarter)",
				float64(rep.RSSEarly)/(1<<20), float64(rep.RSSLate)/(1<<20)))
		}
	}
	kinds := slices.Sorted(maps.Keys(rep.Unexpected))
	for _, k := range kinds {
		rep.Failures = append(rep.Failures, fmt.Sprintf("unexpected error ×%d: %s, e.g. %s", rep.Unexpected[k], k, rep.Example[k]))
	}
}

func meanRSS(rs []Resources) int64 {
	var sum int64
	for _, r := range rs {
		sum += r.RSS
	}
	return sum / int64(len(rs))
}

// expected are the codes a step may fail with on a healthy node: a cut
// connection's requests (207). Steps cut short by the end of the load
// phase are not counted at all (record).
var expected = map[string]map[protocol.Code]bool{
	StepAbrupt: {protocol.ConnectionLost: true},
}

// record counts err for step; an error that is not expected of the step
// is listed. Errors of a step interrupted by the end of the run are not
// the node's.
func (r *soakRun) record(ctx context.Context, step, what string, err error) {
	if err == nil || ctx.Err() != nil {
		return
	}
	code := protocol.CodeOf(err)
	key := fmt.Sprintf("%s: %d", step, code)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.Codes[key]++
	if !expected[step][code] {
		k := fmt.Sprintf("%s %s: code %d", step, what, code)
		if r.rep.Unexpected[k]++; r.rep.Unexpected[k] == 1 {
			r.rep.Example[k] = trimErr(err)
		}
	}
}

func trimErr(err error) string {
	s := err.Error()
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// step runs one step of kind as worker w.
func (r *soakRun) step(ctx context.Context, w int, kind string) {
	sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	st := &soakStep{run: r, ctx: sctx, kind: kind, prefix: fmt.Sprintf("soak%d", w)}
	defer st.close()
	var err error
	switch kind {
	case StepPresence:
		err = st.presence()
	case StepCall:
		err = st.call()
	case StepMeeting:
		err = st.meeting()
	case StepTransfer:
		err = st.transfer()
	case StepAbrupt:
		err = st.abrupt()
	case StepResume:
		err = st.resume()
	}
	if err == nil && ctx.Err() == nil {
		r.mu.Lock()
		r.rep.Steps[kind]++
		r.mu.Unlock()
	}
}

// soakStep is one step's clients; close ends them all.
type soakStep struct {
	run     *soakRun
	ctx     context.Context
	kind    string
	prefix  string
	clients []*soakClient
	files   []string
}

// soakClient is a logged-in client of a step, whose events it reads.
type soakClient struct {
	*client.Client
	id     protocol.UserID
	events chan client.Event
	dir    string
	mu     sync.Mutex
	conns  []net.Conn // the TCP connections it dialed, to cut
	media  int        // RTP packets received
}

func (st *soakStep) close() {
	for _, c := range st.clients {
		_ = c.Close()
		if c.dir != "" {
			_ = os.RemoveAll(c.dir)
		}
	}
	for _, f := range st.files {
		_ = os.Remove(f)
	}
}

// login connects and logs in st.prefix+suffix; media says whether the
// client opens its up connection (transfers and meetings need it).
func (st *soakStep) login(suffix string, media, resume bool) (*soakClient, error) {
	sc := &soakClient{id: st.prefix + suffix, events: make(chan client.Event, 1024)}
	dialer := &websocket.Dialer{HandshakeTimeout: 10 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				sc.mu.Lock()
				sc.conns = append(sc.conns, c)
				sc.mu.Unlock()
			}
			return c, err
		}}
	opts := client.Options{
		Dialer:        dialer,
		SignalingOnly: !media,
		NoResume:      !resume,
		Handler: func(ev client.Event) {
			if ev.Method == protocol.EventMicEnergyUpdate {
				return
			}
			select {
			case sc.events <- ev:
			default: // a step reads what it waits for; the rest may go
			}
		},
		OnTrack: func(rt *client.RemoteTrack) {
			buf := make([]byte, 1500)
			for {
				if _, _, err := rt.Track.Read(buf); err != nil {
					return
				}
				sc.mu.Lock()
				sc.media++
				sc.mu.Unlock()
			}
		},
	}
	if media {
		dir, err := os.MkdirTemp(st.run.s.TempDir, "crvload-soak-")
		if err != nil {
			return nil, err
		}
		sc.dir, opts.TransferDir = dir, dir
	}
	if st.run.s.Loopback {
		opts.SettingEngine = LoopbackSettings()
	}
	c, err := client.Dial(st.ctx, st.run.s.URL, opts)
	if err != nil {
		st.run.record(st.ctx, st.kind, "dial", err)
		return nil, err
	}
	sc.Client = c
	st.clients = append(st.clients, sc)
	if _, err := c.Login(st.ctx, protocol.LoginParams{AppID: st.run.s.App, AppSecret: MD5Hex(st.run.s.Secret),
		UserID: sc.id, NickName: sc.id}); err != nil {
		st.run.record(st.ctx, st.kind, "login", err)
		return nil, err
	}
	return sc, nil
}

// do records what a request's error was.
func (st *soakStep) do(what string, err error) error {
	st.run.record(st.ctx, st.kind, what, err)
	return err
}

// wait reads c's events until one named method (for which match, if
// given, is true).
func (st *soakStep) wait(c *soakClient, method string, match func(any) bool) (any, error) {
	for {
		select {
		case ev := <-c.events:
			if ev.Method == method && (match == nil || match(ev.Data)) {
				return ev.Data, nil
			}
		case <-st.ctx.Done():
			err := protocol.Errorf(protocol.NoServerRsp, "%s got no %s", c.id, method)
			st.run.record(st.ctx, st.kind, "wait "+method, err)
			return nil, err
		}
	}
}

// cut closes c's TCP connections with a reset, as a network that goes away.
func (c *soakClient) cut() {
	c.mu.Lock()
	conns := c.conns
	c.conns = nil
	c.mu.Unlock()
	for _, nc := range conns {
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = nc.Close()
	}
}

func (c *soakClient) packets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.media
}

func holdFor(ctx context.Context, lo, hi time.Duration) {
	_ = sleepCtx(ctx, lo+time.Duration(mrand.Int64N(int64(hi-lo)+1)))
}

func (st *soakStep) presence() error {
	a, err := st.login("a", false, false)
	if err != nil {
		return err
	}
	if err := st.do("startUserStatusNotify", a.StartUserStatusNotify(st.ctx)); err != nil {
		return err
	}
	if err := st.do("setDNDStatus", a.SetDNDStatus(st.ctx, mrand.IntN(2))); err != nil {
		return err
	}
	if _, err := a.GetUserStatus(st.ctx); st.do("getUserStatus", err) != nil {
		return err
	}
	return st.do("logout", a.Logout(st.ctx))
}

func (st *soakStep) call() error {
	a, b, err := st.pair(false)
	if err != nil {
		return err
	}
	callID, err := st.ring(a, b)
	if err != nil {
		return err
	}
	if err := st.do("acceptCall", b.AcceptCall(st.ctx, callID, nil, "")); err != nil {
		return err
	}
	if _, err := st.wait(a, protocol.EventNotifyCallAccepted, nil); err != nil {
		return err
	}
	holdFor(st.ctx, 200*time.Millisecond, time.Second)
	if err := st.do("hungupCall", a.HungupCall(st.ctx, callID, "")); err != nil {
		return err
	}
	_, err = st.wait(b, protocol.EventNotifyCallHungup, nil)
	return err
}

// pair logs in the step's two users, a and b.
func (st *soakStep) pair(media bool) (a, b *soakClient, err error) {
	if a, err = st.login("a", media, false); err != nil {
		return nil, nil, err
	}
	if b, err = st.login("b", media, false); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

// ring has a call b; it returns once b hears the call.
func (st *soakStep) ring(a, b *soakClient) (callID string, err error) {
	callID, err = a.Call(st.ctx, b.id, nil, "soak")
	if st.do("call", err) != nil {
		return "", err
	}
	if _, err := st.wait(b, protocol.EventNotifyCallIn, nil); err != nil {
		return "", err
	}
	return callID, nil
}

func (st *soakStep) meeting() error {
	a, b, err := st.pair(true)
	if err != nil {
		return err
	}
	meet, err := a.CreateMeeting(st.ctx, "soak", 0)
	if st.do("createMeeting", err) != nil {
		return err
	}
	for _, c := range []*soakClient{a, b} {
		if _, err := c.EnterMeeting(st.ctx, meet.ID, meet.Pswd, ""); st.do("enterMeeting", err) != nil {
			return err
		}
	}
	a.SetCameraSource(client.NewSyntheticVideo(300_000, 15, false))
	a.SetMicSource(client.NewSyntheticAudio())
	if err := st.do("openVideo", a.OpenVideo(st.ctx, a.id)); err != nil {
		return err
	}
	if err := st.do("openMic", a.OpenMic(st.ctx, a.id)); err != nil {
		return err
	}
	if err := st.do("setVideo", b.SetVideo(st.ctx, a.id, protocol.VideoIDCamera, 0)); err != nil {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	for b.packets() < 50 {
		if time.Now().After(deadline) || st.ctx.Err() != nil {
			err := protocol.Errorf(protocol.NoServerRsp, "%s received %d media packets of %s in 15 s", b.id, b.packets(), a.id)
			st.run.record(st.ctx, st.kind, "media", err)
			return err
		}
		_ = sleepCtx(st.ctx, 50*time.Millisecond)
	}
	holdFor(st.ctx, time.Second, 3*time.Second)
	if err := st.do("exitMeeting", b.ExitMeeting(st.ctx)); err != nil {
		return err
	}
	return st.do("destroyMeeting", a.DestroyMeeting(st.ctx, meet.ID))
}

func (st *soakStep) transfer() error {
	a, b, err := st.pair(true)
	if err != nil {
		return err
	}
	// Each side's transfer channel is open at the node once a command of
	// its own has its result (to nobody: 1102).
	for _, c := range []*soakClient{a, b} {
		id, err := c.SendCmd(st.ctx, "nobody", []byte("warm-up"))
		if st.do("sendCmd warm-up", err) != nil {
			return err
		}
		if _, err := st.wait(c, client.EventSendCmdRlst, func(d any) bool { r, ok := d.(*datachannel.Result); return ok && string(r.TaskID) == id }); err != nil {
			return err
		}
	}
	result := func(method string, id string) error {
		d, err := st.wait(a, method, func(d any) bool { r, ok := d.(*datachannel.Result); return ok && string(r.TaskID) == id })
		if err != nil {
			return err
		}
		if r := d.(*datachannel.Result); r.Code != protocol.NoErr {
			return st.do(method, protocol.Errorf(r.Code, "%s of %s", method, id))
		}
		return nil
	}
	id, err := a.SendCmd(st.ctx, b.id, []byte("soak"))
	if st.do("sendCmd", err) != nil {
		return err
	}
	if err := result(client.EventSendCmdRlst, id); err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	_, _ = rand.Read(buf)
	if id, err = a.SendBuffer(st.ctx, b.id, buf); st.do("sendBuffer", err) != nil {
		return err
	}
	if err := result(client.EventSendBufferRlst, id); err != nil {
		return err
	}
	f, err := os.CreateTemp(a.dir, "soak-*.bin")
	if err != nil {
		return err
	}
	file := make([]byte, 256<<10)
	_, _ = rand.Read(file)
	_, werr := f.Write(file)
	if err := errors.Join(werr, f.Close()); err != nil {
		return err
	}
	if id, err = a.SendFile(st.ctx, b.id, f.Name()); st.do("sendFile", err) != nil {
		return err
	}
	if err := result(client.EventSendFileRlst, id); err != nil {
		return err
	}
	d, err := st.wait(b, client.EventNotifyFileData, nil)
	if err != nil {
		return err
	}
	if fd, ok := d.(*datachannel.FileData); ok && filepath.Dir(fd.Path) != b.dir {
		return st.do("notifyFileData", protocol.Errorf(protocol.ErrData, "file landed in %s", fd.Path))
	}
	return nil
}

// abrupt logs a in, puts it in some state (watching presence, ringing b,
// in a call with b) and cuts its connection without a word; the node keeps
// the session for its grace window, then logs it off.
func (st *soakStep) abrupt() error {
	a, err := st.login("a", false, false)
	if err != nil {
		return err
	}
	switch mrand.IntN(3) {
	case 0:
		_ = st.do("startUserStatusNotify", a.StartUserStatusNotify(st.ctx))
	case 1, 2:
		b, err := st.login("b", false, false)
		if err != nil {
			return err
		}
		callID, err := st.ring(a, b)
		if err != nil {
			return err
		}
		if mrand.IntN(2) == 0 {
			_ = st.do("acceptCall", b.AcceptCall(st.ctx, callID, nil, ""))
		}
	}
	a.cut()
	select {
	case <-a.Done():
	case <-st.ctx.Done():
	}
	return nil
}

// resume cuts a's connection and checks that the client resumes the
// session and that it works.
func (st *soakStep) resume() error {
	a, err := st.login("a", false, true)
	if err != nil {
		return err
	}
	if err := st.do("setDNDStatus", a.SetDNDStatus(st.ctx, 1)); err != nil {
		return err
	}
	a.cut()
	if _, err := st.wait(a, protocol.EventNetStateChanged, func(d any) bool {
		return d.(*protocol.NetState).State == protocol.NetRestored
	}); err != nil {
		return err
	}
	st2, err := a.GetUserStatus(st.ctx)
	if st.do("getUserStatus after resume", err) != nil {
		return err
	}
	for _, u := range st2 {
		if u.UserID == a.id && u.DNDType != 1 {
			return st.do("resumed presence", protocol.Errorf(protocol.ErrData, "DND %d after the resume, want 1", u.DNDType))
		}
	}
	return st.do("logout", a.Logout(st.ctx))
}
