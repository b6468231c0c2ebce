package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/protocol"
)

// idleSession is a logged-in WebSocket that does nothing else: one
// goroutine reads what the node sends (answering its pings, which gorilla
// does while reading) until the connection closes. Ten thousand of them
// fit in one process because that goroutine and a small read buffer are
// all a session holds; package client, built for sessions that do
// things, runs three goroutines per connection.
type idleSession struct {
	conn *websocket.Conn
	done chan struct{}

	// Browser-style sessions (`crvload idle`) also keep the browser
	// SDK's heartbeat: times in Unix nanoseconds.
	lastRecv atomic.Int64 // the last message from the node
	lastSent atomic.Int64 // the last message to it
	pingAt   atomic.Int64 // when the unanswered ping went out; 0: none
	lost     atomic.Bool  // silent past the SDK's loss time since the last message
	closing  atomic.Bool  // crvload is logging it out: its end is no error
	nextID   int64        // the next request id; the pinger's alone
}

// idleDialer keeps idle sessions small: 1 KiB read buffers, write buffers
// only while writing.
func idleDialer() *websocket.Dialer {
	return &websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 1024, WriteBufferPool: &sync.Pool{},
		HandshakeTimeout: 10 * time.Second}
}

// dialIdle connects and logs in; it returns the session and how long the
// login request took.
func dialIdle(ctx context.Context, d *websocket.Dialer, url string, p protocol.LoginParams) (*idleSession, time.Duration, error) {
	conn, _, took, err := loginIdle(ctx, d, url, string(p.UserID), p)
	if err != nil {
		return nil, 0, err
	}
	s := &idleSession{conn: conn, done: make(chan struct{})}
	go s.read()
	return s, took, nil
}

// loginIdle connects and sends a login with params; it returns the
// connection once the login has its answer, the login's result and how
// long the request took.
func loginIdle(ctx context.Context, d *websocket.Dialer, url, user string, params any) (*websocket.Conn, json.RawMessage, time.Duration, error) {
	conn, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, nil, 0, err
	}
	req, err := protocol.NewRequest(1, protocol.MethodLogin, params)
	if err != nil {
		conn.Close()
		return nil, nil, 0, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetWriteDeadline(dl)
		_ = conn.SetReadDeadline(dl)
	}
	t0 := time.Now()
	if err := conn.WriteJSON(req); err != nil {
		conn.Close()
		return nil, nil, 0, err
	}
	for {
		var msg protocol.Message
		if err := conn.ReadJSON(&msg); err != nil {
			conn.Close()
			return nil, nil, 0, err
		}
		if !msg.IsResponse() || string(msg.ID) != string(req.ID) {
			continue // an event before the response
		}
		took := time.Since(t0)
		if msg.Error != nil {
			conn.Close()
			return nil, nil, 0, fmt.Errorf("login %s: %w", user, msg.Error)
		}
		_ = conn.SetReadDeadline(time.Time{})
		_ = conn.SetWriteDeadline(time.Time{})
		return conn, msg.Result, took, nil
	}
}

func (s *idleSession) read() {
	defer close(s.done)
	for {
		if _, _, err := s.conn.NextReader(); err != nil {
			return
		}
	}
}

// RaiseFileLimit lifts this process's open-file limit to its hard limit
// (children, the node among them, inherit it) and returns the new limit.
// Calling setrlimit explicitly also stops Go from restoring the original
// limit in child processes.
func RaiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	return l.Cur, nil
}

// idleParams are the login params of idle user i.
func idleParams(run string, i int) protocol.LoginParams {
	id := fmt.Sprintf("idle-%s-%06d", run, i)
	return protocol.LoginParams{AppID: BenchApp, AppSecret: MD5Hex(BenchApp), UserID: id, NickName: id}
}

// ---------------------------------------------------------------------
// `crvload idle`: what one idle, logged-in browser user costs the node.

// IdleApp is an app the idle users log in to.
type IdleApp struct {
	ID     string `json:"id"`
	Secret string `json:"-"`
}

// Idle configures `crvload idle`: N users log in the way the browser SDK
// does and then do nothing but its heartbeat, and the node is measured
// before, while and after it holds them.
type Idle struct {
	// URL is a running node's WebSocket endpoint; "" starts a node
	// process of its own from NodeBin, with limits raised for the run and
	// its Go profiles on (to force a collection before each reading).
	URL     string
	NodeBin string
	TempDir string
	// Apps the users are spread over, round robin. With a node of its own
	// and none given, four apps idle1..idle4 are configured.
	Apps        []IdleApp
	Sessions    int           // idle browser-style sessions (default 10,000)
	SDKSessions int           // more sessions by package client, signaling only, to compare (default 2; negative: none)
	Concurrency int           // logins at once (default 32)
	Hold        time.Duration // after the last login, before the reading (default 10 s)
	// Heartbeat is the browser SDK's: a ping request once a session has
	// neither received nor sent for this long (web/sdk/core.js,
	// HEARTBEAT_IDLE, checked every 500 ms). Default 2 s; negative: none.
	Heartbeat time.Duration
	Settle    time.Duration // bound on the wait for the node to come back to idle after the logouts (default 30 s)
	// HeapDir, if set, receives the node's heap profiles (pprof) at idle,
	// with the sessions held and after their logouts: heap-idle.pb.gz,
	// heap-held.pb.gz, heap-after.pb.gz.
	HeapDir  string
	Progress func(format string, args ...any) `json:"-"`
}

// The goal for a node carrying idle logged-in browser users
// (docs/benchmarks.md#idle-sessions), and the heartbeat's constants.
const (
	IdleGoalRSSPerSession        = 40 << 10 // bytes
	IdleGoalGoroutinesPerSession = 3

	idleBeatCheck = 500 * time.Millisecond // how often the SDK looks at its heartbeat
	idleBeatLost  = 6 * time.Second        // silence after which the SDK takes the connection for lost
	// idleGoroutineSlack is what may remain above the idle goroutines
	// after the logouts (the HTTP server's own come and go).
	idleGoroutineSlack = 10
)

// IdleReading is the node at one moment.
type IdleReading struct {
	Goroutines int     `json:"goroutines"`      // go_goroutines
	OpenFDs    int     `json:"openFds"`         // process_open_fds
	RSS        int64   `json:"rssBytes"`        // /proc/<pid>/status VmRSS, or process_resident_memory_bytes
	HeapInuse  int64   `json:"heapInuseBytes"`  // go_memstats_heap_inuse_bytes
	StackInuse int64   `json:"stackInuseBytes"` // go_memstats_stack_inuse_bytes
	Sessions   int     `json:"sessions"`        // crvnode_sessions, over all apps
	CPU        float64 `json:"cpuSeconds"`      // the node's since it started
	// GCForced says the node collected its garbage just before
	// (GET /debug/pprof/heap?gc=1); otherwise the reading is the last of
	// samples that agreed.
	GCForced bool `json:"gcForced"`
	Samples  int  `json:"samples"` // taken before it was stable
}

// IdleReport is what `crvload idle` measured.
type IdleReport struct {
	URL       string   `json:"url"`
	NodePID   int      `json:"nodePid,omitempty"` // 0: a running node (-addr)
	FileLimit uint64   `json:"fileLimit"`         // crvload's open-file limit, and its node's
	Apps      []string `json:"apps"`
	Heartbeat float64  `json:"heartbeatSeconds"`

	Sessions     int            `json:"sessions"` // asked for
	LoggedIn     int            `json:"loggedIn"`
	LoginErrors  int            `json:"loginErrors"`
	LoginError   map[string]int `json:"loginError,omitempty"` // by kind
	Concurrency  int            `json:"concurrency"`
	Login        Summary        `json:"login"`
	LoginSeconds float64        `json:"loginSeconds"`
	LoginRate    float64        `json:"loginsPerSecond"`

	Idle  IdleReading `json:"idle"`  // before any session (after a warm-up)
	Held  IdleReading `json:"held"`  // with the sessions held
	After IdleReading `json:"after"` // once the sessions have logged out

	RSSPerSession        float64 `json:"rssPerSessionBytes"` // (RSS_N − RSS_0) / N
	HeapPerSession       float64 `json:"heapPerSessionBytes"`
	StackPerSession      float64 `json:"stackPerSessionBytes"`
	GoroutinesPerSession float64 `json:"goroutinesPerSession"`
	FDsPerSession        float64 `json:"fdsPerSession"`
	HoldCPU              float64 `json:"holdCpuCores"` // the node's CPU while holding them, in cores
	// LoadRSSPerSession is what a session cost crvload itself.
	LoadRSSPerSession float64 `json:"loadRssPerSessionBytes"`

	Pings         int64          `json:"pings"`
	PingRTT       Summary        `json:"pingRtt"`
	KeepaliveLost int64          `json:"keepaliveLost"` // times a session heard nothing for 6 s, when the SDK gives the connection up
	Events        map[string]int `json:"events"`        // what the idle sessions were sent besides answers
	ClosedByNode  map[string]int `json:"closedByNode"`  // sessions the node ended during the run, by how

	// The package client's sessions, for comparison.
	SDKSessions             int            `json:"sdkSessions"`
	SDKGoroutinesPerSession float64        `json:"sdkGoroutinesPerSession"`
	SDKEvents               map[string]int `json:"sdkEvents"`
	SDKDiffers              []string       `json:"sdkDiffers,omitempty"`

	Settled       bool     `json:"settled"`
	SettleSeconds float64  `json:"settleSeconds"`
	Failures      []string `json:"failures"` // the goal or a check missed; empty if it passed
}

func (b *Idle) defaults() error {
	if b.Sessions == 0 {
		b.Sessions = 10000
	}
	if b.SDKSessions == 0 {
		b.SDKSessions = 2
	}
	b.SDKSessions = max(b.SDKSessions, 0)
	if b.Concurrency <= 0 {
		b.Concurrency = 32
	}
	if b.Hold <= 0 {
		b.Hold = 10 * time.Second
	}
	if b.Heartbeat == 0 {
		b.Heartbeat = 2 * time.Second
	}
	if b.Settle <= 0 {
		b.Settle = 30 * time.Second
	}
	if b.Progress == nil {
		b.Progress = func(string, ...any) {}
	}
	if b.Sessions < 0 {
		return fmt.Errorf("%w: %d idle sessions", ErrConfig, b.Sessions)
	}
	if b.URL == "" && b.NodeBin == "" {
		return fmt.Errorf("%w: neither a node URL nor a node binary", ErrConfig)
	}
	if len(b.Apps) == 0 {
		if b.URL != "" {
			return fmt.Errorf("%w: no app to log in to", ErrConfig)
		}
		for i := 1; i <= 4; i++ {
			id := "idle" + strconv.Itoa(i)
			b.Apps = append(b.Apps, IdleApp{ID: id, Secret: id})
		}
	}
	return nil
}

// nodeConfig is the configuration of the node the run starts: its apps,
// and room for every session with some to spare. The other limits keep
// their defaults, so that the figures are those of a node as shipped.
func (b *Idle) nodeConfig() string {
	var sb strings.Builder
	sb.WriteString("apps:\n")
	for _, a := range b.Apps {
		fmt.Fprintf(&sb, "  - id: %q\n    secret: %q\n", a.ID, a.Secret)
	}
	fmt.Fprintf(&sb, "limits:\n  maxConnections: %d\n", max(b.Sessions+b.SDKSessions+1000, 50000))
	return sb.String()
}

// idleRun is one run's state.
type idleRun struct {
	b       *Idle
	rep     *IdleReport
	hc      *http.Client
	metrics string // the node's /metrics
	gcURL   string // its heap profile with a collection first; "" once it proved absent
	pid     int    // the node process, 0 for a running node
	url     string

	mu       sync.Mutex
	sessions []*idleSession
	rtt      Hist
	events   map[string]int
	closed   map[string]int
	pings    atomic.Int64
}

// RunIdle logs in b.Sessions idle browser-style sessions, holds them and
// logs them out, reading the node before, while and after.
func RunIdle(ctx context.Context, b Idle) (rep *IdleReport, err error) {
	if err := b.defaults(); err != nil {
		return nil, err
	}
	rep = &IdleReport{Sessions: b.Sessions, Concurrency: b.Concurrency, Heartbeat: max(b.Heartbeat, 0).Seconds(),
		Events: map[string]int{}, ClosedByNode: map[string]int{}, SDKEvents: map[string]int{}, LoginError: map[string]int{}}
	for _, a := range b.Apps {
		rep.Apps = append(rep.Apps, a.ID)
	}
	if b.HeapDir != "" {
		if err := os.MkdirAll(b.HeapDir, 0o755); err != nil {
			return nil, err
		}
	}
	limit, err := RaiseFileLimit()
	if err != nil {
		return nil, err
	}
	rep.FileLimit = limit
	if need := uint64(b.Sessions + b.SDKSessions + 256); limit < need {
		return nil, fmt.Errorf("%w: %d sessions need %d open files in crvload and in the node; the hard limit (ulimit -Hn) is %d: raise it or lower -n",
			ErrConfig, b.Sessions, need, limit)
	}
	r := &idleRun{b: &b, rep: rep, events: rep.Events, closed: rep.ClosedByNode,
		hc: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 60 * time.Second}}
	defer r.hc.CloseIdleConnections()
	if b.URL == "" {
		dir, err := os.MkdirTemp(b.TempDir, "crvload-node-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		proc, err := startIdleNode(ctx, b.NodeBin, dir, b.nodeConfig())
		if err != nil {
			return nil, err
		}
		defer func() { err = errors.Join(err, proc.Stop(10*time.Second)) }()
		b.URL = "ws://" + proc.Addr() + "/ws"
		r.pid, rep.NodePID = proc.Pid(), proc.Pid()
		b.Progress("node process %d on %s (open-file limit %d)", proc.Pid(), proc.Addr(), limit)
	}
	r.url, rep.URL = b.URL, b.URL
	r.metrics = MetricsURL(b.URL)
	r.gcURL = strings.TrimSuffix(r.metrics, "/metrics") + "/debug/pprof/heap?gc=1"
	return rep, r.run(ctx)
}

// startIdleNode is StartNode with the node's Go profiles on: the heap
// profile's ?gc=1 is how a reading collects the node's garbage first.
func startIdleNode(ctx context.Context, bin, dir, config string) (*Proc, error) {
	path := filepath.Join(dir, "crvload.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		return nil, err
	}
	return StartProc(ctx, ProcSpec{Path: bin, Ready: nodeReady,
		Args: []string{"-http", "127.0.0.1:0", "-rtc", "127.0.0.1:0", "-turn", "", "-data", dir, "-config", path, "-pprof"}})
}

func (r *idleRun) run(ctx context.Context) error {
	b, rep := r.b, r.rep
	// Warm up: what the node sets up once (its database connection, the
	// apps' first users, the HTTP server's buffers) belongs to its idle
	// level, not to the sessions.
	b.Progress("warm-up: 20 sessions in and out")
	if err := r.warmUp(ctx); err != nil {
		return err
	}
	var err error
	if rep.Idle, err = r.read(ctx, "idle"); err != nil {
		return err
	}
	b.Progress("idle: %d goroutines, %d open files, RSS %.1f MiB, heap %.1f MiB (%s)", rep.Idle.Goroutines, rep.Idle.OpenFDs,
		float64(rep.Idle.RSS)/(1<<20), float64(rep.Idle.HeapInuse)/(1<<20), readingHow(rep.Idle))

	beatCtx, stopBeat := context.WithCancel(ctx)
	var beats sync.WaitGroup
	if b.Heartbeat > 0 {
		pingers := max(1, min(8, b.Sessions/2500))
		for p := range pingers {
			beats.Add(1)
			go func() { defer beats.Done(); r.heartbeat(beatCtx, p, pingers) }()
		}
	}
	defer func() {
		stopBeat()
		beats.Wait()
		r.logoutAll()
	}()

	load0 := selfRSS()
	if err := r.loginAll(ctx); err != nil {
		return err
	}
	rep.LoadRSSPerSession = perSession(float64(selfRSS()-load0), rep.LoggedIn)
	b.Progress("%d sessions logged in in %.2f s (%.0f/s, p50 %v p99 %v), %d failed; holding them %v",
		rep.LoggedIn, rep.LoginSeconds, rep.LoginRate, rep.Login.P50, rep.Login.P99, rep.LoginErrors, b.Hold)
	cpu0, err := r.sample(ctx)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := sleepCtx(ctx, b.Hold); err != nil {
		return err
	}
	cpu1, err := r.sample(ctx)
	if err != nil {
		return err
	}
	rep.HoldCPU = (cpu1.CPU - cpu0.CPU) / time.Since(t0).Seconds()
	if rep.Held, err = r.read(ctx, "held"); err != nil {
		return err
	}
	n := rep.LoggedIn
	rep.RSSPerSession = perSession(float64(rep.Held.RSS-rep.Idle.RSS), n)
	rep.HeapPerSession = perSession(float64(rep.Held.HeapInuse-rep.Idle.HeapInuse), n)
	rep.StackPerSession = perSession(float64(rep.Held.StackInuse-rep.Idle.StackInuse), n)
	rep.GoroutinesPerSession = perSession(float64(rep.Held.Goroutines-rep.Idle.Goroutines), n)
	rep.FDsPerSession = perSession(float64(rep.Held.OpenFDs-rep.Idle.OpenFDs), n)
	b.Progress("%d sessions: %d goroutines, %d open files, RSS %.1f MiB, heap %.1f MiB: per session %.1f KiB RSS (%.1f KiB heap, %.1f KiB stacks), %.2f goroutines, %.2f open files; node CPU %.2f cores",
		n, rep.Held.Goroutines, rep.Held.OpenFDs, float64(rep.Held.RSS)/(1<<20), float64(rep.Held.HeapInuse)/(1<<20),
		rep.RSSPerSession/1024, rep.HeapPerSession/1024, rep.StackPerSession/1024, rep.GoroutinesPerSession, rep.FDsPerSession, rep.HoldCPU)

	if b.SDKSessions > 0 {
		if err := r.compareSDK(ctx); err != nil {
			return err
		}
	}

	stopBeat()
	beats.Wait()
	r.mu.Lock()
	rep.PingRTT, rep.Pings = r.rtt.Summary(), r.pings.Load()
	r.mu.Unlock()
	b.Progress("logging the sessions out")
	r.logoutAll()
	settle0 := time.Now()
	rep.After, rep.Settled, err = r.settle(ctx)
	rep.SettleSeconds = time.Since(settle0).Seconds()
	if err != nil {
		return err
	}
	b.Progress("after: %d goroutines, %d open files, RSS %.1f MiB, %d sessions; back to idle: %v (%.1f s)", rep.After.Goroutines,
		rep.After.OpenFDs, float64(rep.After.RSS)/(1<<20), rep.After.Sessions, rep.Settled, rep.SettleSeconds)
	r.judge()
	return nil
}

func perSession(v float64, n int) float64 {
	if n <= 0 {
		return 0
	}
	return v / float64(n)
}

func readingHow(r IdleReading) string {
	if r.GCForced {
		return "after a forced GC"
	}
	return fmt.Sprintf("stable over %d samples, no GC forced", r.Samples)
}

// warmUp logs 20 sessions in and out.
func (r *idleRun) warmUp(ctx context.Context) error {
	d := idleDialer()
	for i := range 20 {
		s, err := r.loginOne(ctx, d, "warm", i)
		if err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		s.logout()
	}
	return nil
}

// browserLogin is what the browser SDK sends to log in (login.js:
// CRVideo_Login), its empty userAuthCode included.
type browserLogin struct {
	AppID        string `json:"appID"`
	AppSecret    string `json:"appSecret"`
	NickName     string `json:"nickName"`
	UserID       string `json:"userID"`
	UserAuthCode string `json:"userAuthCode"`
}

func (r *idleRun) user(run string, i int) (IdleApp, string) {
	return r.b.Apps[i%len(r.b.Apps)], fmt.Sprintf("%s-%06d", run, i)
}

// loginOne logs in browser-style session i of run and starts its reader.
func (r *idleRun) loginOne(ctx context.Context, d *websocket.Dialer, run string, i int) (*idleSession, error) {
	s, _, err := r.loginTimed(ctx, d, run, i)
	return s, err
}

func (r *idleRun) loginTimed(ctx context.Context, d *websocket.Dialer, run string, i int) (*idleSession, time.Duration, error) {
	app, id := r.user(run, i)
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, _, took, err := loginIdle(lctx, d, r.url, id,
		browserLogin{AppID: app.ID, AppSecret: MD5Hex(app.Secret), NickName: id, UserID: id})
	if err != nil {
		return nil, 0, err
	}
	s := &idleSession{conn: conn, done: make(chan struct{})}
	now := time.Now().UnixNano()
	s.lastRecv.Store(now)
	s.lastSent.Store(now)
	s.nextID = 2
	go s.readBrowser(r)
	return s, took, nil
}

// readBrowser reads what the node sends, as the SDK's onmessage does:
// answers to its pings, and events, which are counted and dropped.
func (s *idleSession) readBrowser(r *idleRun) {
	defer close(s.done)
	var m struct {
		Method string `json:"method"`
	}
	for {
		_, b, err := s.conn.ReadMessage()
		if err != nil {
			if !s.closing.Load() {
				r.count(r.closed, closeCode(err))
			}
			return
		}
		now := time.Now().UnixNano()
		s.lastRecv.Store(now)
		s.lost.Store(false)
		m.Method = ""
		if json.Unmarshal(b, &m) != nil {
			r.count(r.events, "(not JSON)")
			continue
		}
		if m.Method != "" {
			r.count(r.events, m.Method)
			continue
		}
		if t0 := s.pingAt.Swap(0); t0 != 0 {
			r.mu.Lock()
			r.rtt.Record(time.Duration(now - t0))
			r.mu.Unlock()
		}
	}
}

func (r *idleRun) count(m map[string]int, key string) {
	r.mu.Lock()
	m[key]++
	r.mu.Unlock()
}

// heartbeat is the browser SDK's, for sessions p, p+n, p+2n, ...: every
// 500 ms, a session that has neither received nor sent for b.Heartbeat
// sends ping; one silent for 6 s is counted as lost (the SDK would drop
// the connection and resume).
func (r *idleRun) heartbeat(ctx context.Context, p, n int) {
	tick := time.NewTicker(idleBeatCheck)
	defer tick.Stop()
	idle, lost := int64(r.b.Heartbeat), int64(idleBeatLost)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r.mu.Lock()
		ss := r.sessions
		r.mu.Unlock()
		for i := p; i < len(ss) && ctx.Err() == nil; i += n {
			s := ss[i]
			now := time.Now().UnixNano()
			recv := s.lastRecv.Load()
			if now-recv >= lost && s.lost.CompareAndSwap(false, true) {
				r.mu.Lock()
				r.rep.KeepaliveLost++
				r.mu.Unlock()
			}
			if now-recv < idle || now-s.lastSent.Load() < idle {
				continue
			}
			id := s.nextID
			s.nextID++
			msg := `{"jsonrpc":"2.0","id":` + strconv.FormatInt(id, 10) + `,"method":"ping"}`
			// Before the write: the answer may be read before it returns.
			s.pingAt.Store(now)
			s.lastSent.Store(now)
			_ = s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if s.conn.WriteMessage(websocket.TextMessage, []byte(msg)) != nil {
				s.pingAt.Store(0)
				continue // the reader sees the end
			}
			r.pings.Add(1)
		}
	}
}

// loginAll logs in the sessions, b.Concurrency at a time.
func (r *idleRun) loginAll(ctx context.Context) error {
	b, rep := r.b, r.rep
	b.Progress("logging in %d sessions, %d at a time, over %d apps", b.Sessions, b.Concurrency, len(b.Apps))
	d := idleDialer()
	sem := make(chan struct{}, b.Concurrency)
	var wg sync.WaitGroup
	var lat Hist
	var done atomic.Int64
	t0 := time.Now()
	stopProgress := make(chan struct{})
	go func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-tick.C:
				b.Progress("  %d of %d logged in", done.Load(), b.Sessions)
			}
		}
	}()
	for i := 0; i < b.Sessions && ctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s, took, err := r.loginTimed(ctx, d, "idle", i)
			r.mu.Lock()
			defer r.mu.Unlock()
			if err != nil {
				if ctx.Err() == nil {
					rep.LoginErrors++
					rep.LoginError[loginErrKind(err)]++
				}
				return
			}
			lat.Record(took)
			r.sessions = append(r.sessions, s)
			done.Add(1)
		}()
	}
	wg.Wait()
	close(stopProgress)
	rep.LoginSeconds = time.Since(t0).Seconds()
	rep.LoggedIn = int(done.Load())
	rep.Login = lat.Summary()
	if rep.LoginSeconds > 0 {
		rep.LoginRate = float64(rep.LoggedIn) / rep.LoginSeconds
	}
	return ctx.Err()
}

// loginErrKind names an error for the report's tally: a CRVideo code, an
// HTTP refusal or the error's text without addresses.
func loginErrKind(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return "code " + strconv.Itoa(int(pe.Code))
	}
	if errors.Is(err, websocket.ErrBadHandshake) {
		return "handshake refused"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// logout ends a browser-style session as CRVideo_Logout does: a logout
// notification, then a normal close; it waits for the node's close.
func (s *idleSession) logout() {
	s.closing.Store(true)
	dl := time.Now().Add(5 * time.Second)
	_ = s.conn.SetWriteDeadline(dl)
	_ = s.conn.SetReadDeadline(dl)
	if s.conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"logout","params":{}}`)) == nil {
		_ = s.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	}
	<-s.done // the node's close frame, or the deadline
	_ = s.conn.Close()
}

// logoutAll logs every session out, 64 at a time. It runs once the
// heartbeat has stopped (the pinger writes to the sessions).
func (r *idleRun) logoutAll() {
	r.mu.Lock()
	ss := r.sessions
	r.sessions = nil
	r.mu.Unlock()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for _, s := range ss {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.logout()
		}()
	}
	wg.Wait()
}

// compareSDK logs in b.SDKSessions users with package client (signaling
// only, as a browser is until it needs its up connection), holds them
// beside the others and checks the node treats them alike.
func (r *idleRun) compareSDK(ctx context.Context) error {
	b, rep := r.b, r.rep
	b.Progress("%d more sessions with package client (SignalingOnly), to compare", b.SDKSessions)
	var clients []*client.Client
	defer func() {
		for _, c := range clients {
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_ = c.Logout(lctx)
			cancel()
			_ = c.Close()
		}
	}()
	for i := range b.SDKSessions {
		app, id := r.user("sdk", i)
		c, err := client.Dial(ctx, r.url, client.Options{SignalingOnly: true, Handler: func(ev client.Event) {
			r.count(rep.SDKEvents, ev.Method)
		}})
		if err != nil {
			return err
		}
		clients = append(clients, c)
		if _, err := c.Login(ctx, protocol.LoginParams{AppID: app.ID, AppSecret: MD5Hex(app.Secret), UserID: id, NickName: id}); err != nil {
			return fmt.Errorf("package client login: %w", err)
		}
	}
	rep.SDKSessions = len(clients)
	if err := sleepCtx(ctx, min(b.Hold, 5*time.Second)); err != nil {
		return err
	}
	with, err := r.read(ctx, "held with the package client's sessions")
	if err != nil {
		return err
	}
	rep.SDKGoroutinesPerSession = perSession(float64(with.Goroutines-rep.Held.Goroutines), len(clients))
	for i, c := range clients {
		select {
		case <-c.Done():
			rep.SDKDiffers = append(rep.SDKDiffers, fmt.Sprintf("package client session %d ended while held", i))
		default:
		}
	}
	if d := rep.SDKGoroutinesPerSession - rep.GoroutinesPerSession; math.Abs(d) > 1 {
		rep.SDKDiffers = append(rep.SDKDiffers, fmt.Sprintf("a package client session costs the node %.1f goroutines, a browser-style one %.2f",
			rep.SDKGoroutinesPerSession, rep.GoroutinesPerSession))
	}
	r.mu.Lock()
	for m := range rep.SDKEvents {
		if rep.Events[m] == 0 {
			rep.SDKDiffers = append(rep.SDKDiffers, fmt.Sprintf("package client sessions got %s, browser-style ones none", m))
		}
	}
	r.mu.Unlock()
	b.Progress("package client sessions: %.1f goroutines each at the node; events %v", rep.SDKGoroutinesPerSession, rep.SDKEvents)
	return nil
}

// settle waits for the node to have no session and its goroutines back
// within idleGoroutineSlack of idle.
func (r *idleRun) settle(ctx context.Context) (IdleReading, bool, error) {
	deadline := time.Now().Add(r.b.Settle)
	for {
		cur, err := r.sample(ctx)
		if err != nil {
			return cur, false, err
		}
		if cur.Sessions == 0 && cur.Goroutines <= r.rep.Idle.Goroutines+idleGoroutineSlack {
			cur, err = r.read(ctx, "after")
			return cur, err == nil && cur.Goroutines <= r.rep.Idle.Goroutines+idleGoroutineSlack, err
		}
		if time.Now().After(deadline) {
			return cur, false, nil
		}
		if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
			return cur, false, err
		}
	}
}

// read takes a reading of the node: after a collection when the node
// serves its heap profile, and until two samples agree (goroutines equal,
// RSS within 2 % or 1 MiB: writing the profile moves it), at most ten. The heap profiles of the
// idle, held and after readings are kept in b.HeapDir when asked.
func (r *idleRun) read(ctx context.Context, what string) (IdleReading, error) {
	var prev IdleReading
	var profile []byte
	for i := 1; ; i++ {
		forced := false
		if r.gcURL != "" {
			p, ok, err := r.forceGC(ctx)
			if err != nil {
				return prev, err
			}
			if !ok {
				r.b.Progress("the node serves no /debug/pprof/ (run it with -pprof): readings are stable samples without a forced GC")
				r.gcURL = ""
			}
			forced, profile = ok, p
		}
		if err := sleepCtx(ctx, 300*time.Millisecond); err != nil {
			return prev, err
		}
		cur, err := r.sample(ctx)
		if err != nil {
			return cur, err
		}
		cur.GCForced, cur.Samples = forced, i
		if i > 1 && cur.Goroutines == prev.Goroutines &&
			math.Abs(float64(cur.RSS-prev.RSS)) <= max(0.02*float64(prev.RSS), 1<<20) || i == 10 {
			if r.b.HeapDir != "" && profile != nil && (what == "idle" || what == "held" || what == "after") {
				if err := os.WriteFile(filepath.Join(r.b.HeapDir, "heap-"+what+".pb.gz"), profile, 0o644); err != nil {
					return cur, err
				}
			}
			return cur, nil
		}
		prev = cur
		if err := sleepCtx(ctx, 700*time.Millisecond); err != nil {
			return cur, err
		}
	}
}

// forceGC has the node collect its garbage (net/http/pprof's heap profile
// with gc=1 runs runtime.GC first) and returns the profile; ok is false
// when the node serves no profiles.
func (r *idleRun) forceGC(ctx context.Context) (profile []byte, ok bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.gcURL, nil)
	if err != nil {
		return nil, false, err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrMetrics, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || err != nil {
		return nil, false, nil
	}
	return body, true, nil
}

// idleSeries are the /metrics series a sample reads, summed over labels.
var idleSeries = []string{"go_goroutines", "process_open_fds", "process_resident_memory_bytes", "process_cpu_seconds_total",
	"go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes", "crvnode_sessions"}

// sample reads the node's /metrics once, and its RSS and CPU from /proc
// when it is this run's process.
func (r *idleRun) sample(ctx context.Context) (IdleReading, error) {
	var s IdleReading
	v, err := scrapeSeries(ctx, r.hc, r.metrics, idleSeries)
	if err != nil {
		return s, err
	}
	for _, name := range idleSeries[:4] {
		if _, ok := v[name]; !ok {
			return s, fmt.Errorf("%w: %s has no %s", ErrMetrics, r.metrics, name)
		}
	}
	s.Goroutines, s.OpenFDs, s.Sessions = int(v["go_goroutines"]), int(v["process_open_fds"]), int(v["crvnode_sessions"])
	s.RSS, s.CPU = int64(v["process_resident_memory_bytes"]), v["process_cpu_seconds_total"]
	s.HeapInuse, s.StackInuse = int64(v["go_memstats_heap_inuse_bytes"]), int64(v["go_memstats_stack_inuse_bytes"])
	if r.pid != 0 {
		u, err := PidUsage(r.pid)
		if err != nil {
			return s, err
		}
		s.RSS, s.CPU = u.RSS, u.CPU.Seconds()
	}
	return s, nil
}

// selfRSS is crvload's own resident set after a collection, in bytes.
func selfRSS() int64 {
	runtime.GC()
	u, err := PidUsage(os.Getpid())
	if err != nil {
		return 0
	}
	return u.RSS
}

// judge fills in the verdict against the goal and the run's checks.
func (r *idleRun) judge() {
	rep := r.rep
	fail := func(format string, args ...any) { rep.Failures = append(rep.Failures, fmt.Sprintf(format, args...)) }
	if rep.RSSPerSession > IdleGoalRSSPerSession {
		fail("RSS per idle session %.1f KiB, above the goal of %d KiB", rep.RSSPerSession/1024, IdleGoalRSSPerSession>>10)
	}
	if rep.GoroutinesPerSession > IdleGoalGoroutinesPerSession {
		fail("%.2f goroutines per idle session, above the goal of %d", rep.GoroutinesPerSession, IdleGoalGoroutinesPerSession)
	}
	if rep.LoggedIn < rep.Sessions {
		fail("%d of %d sessions did not log in: %v", rep.Sessions-rep.LoggedIn, rep.Sessions, rep.LoginError)
	}
	if rep.KeepaliveLost > 0 {
		fail("%d times a session heard nothing for %v (the browser SDK would have dropped the connection)", rep.KeepaliveLost, idleBeatLost)
	}
	if len(rep.ClosedByNode) > 0 {
		fail("the node ended sessions while they were held: %v", rep.ClosedByNode)
	}
	for _, d := range rep.SDKDiffers {
		fail("%s", d)
	}
	if !rep.Settled {
		fail("the node did not come back to its idle level within the settle time: %d sessions, %d goroutines (idle %d)",
			rep.After.Sessions, rep.After.Goroutines, rep.Idle.Goroutines)
	}
}
