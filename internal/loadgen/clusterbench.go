package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/protocol"
)

// ClusterBench configures the cluster bench: what it costs that several
// node processes share one Redis. It measures, in one run, call setup on
// one node on its own (no Redis: the baseline), on a cluster with caller
// and callee on the same node, and on the cluster with the two on
// different nodes; then the fan-out of one user's DND changes to watchers
// (startUserStatusNotify) on one node on its own, and spread evenly over
// the cluster's nodes. Then, on a cluster whose nodes run with media,
// the entry into a meeting whose media is on the entering user's node
// against one on another node, which moves the user's session there; and
// transfers from a user to one on the same node against one on another
// node.
type ClusterBench struct {
	NodeBin  string
	RedisBin string // redis-server; default: the one on PATH
	TempDir  string
	Nodes    int // the cluster's node processes
	Calls    int // call setups measured in each call row
	Pairs    int // pairs calling at once, each call after the previous
	Watchers int // users watching the DND changes
	Changes  int // DND changes, one at a time
	// ChangeTimeout is how long a change may take to reach every watcher
	// before the next one is made anyway (the change counts as timed out).
	ChangeTimeout time.Duration
	Concurrency   int // logins at once
	// Entries is the meeting entries of each setup, on the meeting's node
	// and moved to it; Files the files of FileSize bytes sent to a user on
	// the same node and to one on another node; Wakes the commands to a
	// receiver whose up connection is not open, of each setup. 0 means the
	// default, a negative count none.
	Entries  int
	Files    int
	FileSize int64
	Wakes    int
	Progress func(format string, args ...any) `json:"-"`
}

// Setups the cluster bench's rows measure.
const (
	ClusterOneNode     = "one node"              // one node process on its own, no Redis
	ClusterSameNode    = "cluster, same node"    // caller and callee on one node of the cluster
	ClusterAcrossNodes = "cluster, across nodes" // caller and callee on different nodes
	ClusterSpread      = "cluster"               // watchers spread evenly over the nodes
)

// ClusterProcs is what the server processes used during one row: each
// node's CPU time and RSS at the row's end, in node order, and Redis's
// CPU time (0 without Redis).
type ClusterProcs struct {
	NodeCPUSeconds  []float64 `json:"nodeCpuSeconds"`
	NodeRSSBytes    []int64   `json:"nodeRssBytes"`
	RedisCPUSeconds float64   `json:"redisCpuSeconds"`
	RedisRSSBytes   int64     `json:"redisRssBytes,omitempty"`
}

// ClusterCallRow is one call setup row.
type ClusterCallRow struct {
	Setup       string       `json:"setup"`
	Nodes       int          `json:"nodes"`
	CallSetup   Summary      `json:"callSetup"` // call → notifyCallAccepted
	CallsFailed int          `json:"callsFailed"`
	FirstError  string       `json:"firstError,omitempty"`
	Procs       ClusterProcs `json:"procs"`
}

// ClusterPresenceRow is one fan-out row: one user's DND changes, each
// timed from its setDNDStatus request to the last watcher's
// notifyUserStatus for it.
type ClusterPresenceRow struct {
	Setup    string  `json:"setup"`
	Nodes    int     `json:"nodes"`
	Watchers int     `json:"watchers"`
	Changes  int     `json:"changes"`
	FanOut   Summary `json:"fanOut"` // setDNDStatus sent → the last watcher's notifyUserStatus; changes every watcher heard
	// First is the first watcher's notifyUserStatus, for the same changes.
	First Summary `json:"first"`
	// Duplicates are notifications a watcher got for a change it had
	// already heard; Missed are (watcher, change) pairs never heard by the
	// end; TimedOut are changes not heard by every watcher within
	// ChangeTimeout. All three should be 0.
	Duplicates    int          `json:"duplicates"`
	Missed        int          `json:"missed"`
	TimedOut      int          `json:"timedOut"`
	ChangesFailed int          `json:"changesFailed"` // setDNDStatus requests that failed
	FirstError    string       `json:"firstError,omitempty"`
	Procs         ClusterProcs `json:"procs"`
}

// ClusterResult is the cluster bench's report, with the ratios of the
// cluster's p99 to the baseline's.
type ClusterResult struct {
	Calls     []ClusterCallRow     `json:"calls"`     // one node, same node, across nodes
	Presence  []ClusterPresenceRow `json:"presence"`  // one node, cluster
	Entries   []ClusterEntryRow    `json:"entries"`   // same node, moved
	Transfers []ClusterTransferRow `json:"transfers"` // same node, across nodes
	// CallP99SameRatio is p99(cluster, same node) / p99(one node);
	// CallP99AcrossRatio p99(cluster, across nodes) / p99(one node);
	// FanOutP99Ratio p99(cluster) / p99(one node) of the fan-out.
	CallP99SameRatio   float64 `json:"callP99SameRatio"`
	CallP99AcrossRatio float64 `json:"callP99AcrossRatio"`
	FanOutP99Ratio     float64 `json:"fanOutP99Ratio"`
	// EntryP50Ratio and EntryP99Ratio are moved / same node of the meeting
	// entry; TransferRatio the throughput across nodes / on one node;
	// WakeP50Ratio the p50 of the first command to a cold receiver across
	// nodes / on one node.
	EntryP50Ratio float64 `json:"entryP50Ratio"`
	EntryP99Ratio float64 `json:"entryP99Ratio"`
	TransferRatio float64 `json:"transferRatio"`
	WakeP50Ratio  float64 `json:"wakeP50Ratio"`
}

// Failed says what went wrong in a finished run: failed calls or DND
// changes, and notifications duplicated, missed or late; "" when nothing.
func (r *ClusterResult) Failed() string {
	var msg string
	add := func(format string, args ...any) {
		if msg != "" {
			msg += "; "
		}
		msg += fmt.Sprintf(format, args...)
	}
	for _, c := range r.Calls {
		if c.CallsFailed > 0 {
			add("%s: %d calls failed (%s)", c.Setup, c.CallsFailed, c.FirstError)
		}
	}
	for _, e := range r.Entries {
		if e.Failed > 0 {
			add("meeting entry, %s: %d entries failed (%s)", e.Setup, e.Failed, e.FirstError)
		}
		if e.Setup == ClusterEntryMoved && e.Moves != int(e.Enter.Count) {
			add("meeting entry, moved: the meeting's node took %d sessions for %d entries", e.Moves, e.Enter.Count)
		}
	}
	for _, t := range r.Transfers {
		if t.Failed > 0 {
			add("transfers, %s: %d failed (%s)", t.Setup, t.Failed, t.FirstError)
		}
		if files := float64(len(t.Seconds)) * float64(t.Bytes); t.Setup == ClusterAcrossNodes && t.LinkBytes < files {
			add("transfers, %s: %.0f bytes on the link for %.0f bytes of files", t.Setup, t.LinkBytes, files)
		}
	}
	for _, p := range r.Presence {
		if p.Duplicates > 0 || p.Missed > 0 || p.TimedOut > 0 || p.ChangesFailed > 0 {
			add("%s: %d duplicate and %d missed notifications, %d changes late, %d failed (%s)",
				p.Setup, p.Duplicates, p.Missed, p.TimedOut, p.ChangesFailed, p.FirstError)
		}
	}
	return msg
}

func (b *ClusterBench) defaults() error {
	if b.Nodes <= 0 {
		b.Nodes = 3
	}
	if b.Calls <= 0 {
		b.Calls = 1000
	}
	if b.Pairs <= 0 {
		b.Pairs = 4
	}
	if b.Watchers <= 0 {
		b.Watchers = 1000
	}
	if b.Changes <= 0 {
		b.Changes = 100
	}
	if b.ChangeTimeout <= 0 {
		b.ChangeTimeout = 5 * time.Second
	}
	if b.Concurrency <= 0 {
		b.Concurrency = 32
	}
	if b.Entries == 0 {
		b.Entries = 100
	}
	if b.Files == 0 {
		b.Files = 3
	}
	if b.FileSize <= 0 {
		b.FileSize = 8 << 20
	}
	if b.Wakes == 0 {
		b.Wakes = 10
	}
	if b.Progress == nil {
		b.Progress = func(string, ...any) {}
	}
	if b.NodeBin == "" {
		return fmt.Errorf("%w: no node binary", ErrConfig)
	}
	if b.Nodes < 2 {
		return fmt.Errorf("%w: a cluster needs at least 2 nodes", ErrConfig)
	}
	if b.RedisBin == "" {
		bin, err := exec.LookPath("redis-server")
		if err != nil {
			return fmt.Errorf("%w: redis-server is not on PATH (apt-get install redis-server)", ErrConfig)
		}
		b.RedisBin = bin
	}
	limit, err := RaiseFileLimit()
	if err != nil {
		return err
	}
	// crvload's end and the nodes' end of every connection, and the
	// nodes' own files.
	if need := uint64(2*(b.Watchers+4*b.Pairs+1) + 64*(b.Nodes+1)); limit < need {
		return fmt.Errorf("%w: %d watchers need %d open files, the limit is %d", ErrConfig, b.Watchers, need, limit)
	}
	return nil
}

// RunClusterBench runs the cluster bench: first one node process on its
// own, then a redis-server and b.Nodes node processes sharing it, then
// another redis-server and b.Nodes nodes with media. The rows measured
// before an error are returned with it.
func RunClusterBench(ctx context.Context, b ClusterBench) (res ClusterResult, err error) {
	if err := b.defaults(); err != nil {
		return res, err
	}
	dir, err := os.MkdirTemp(b.TempDir, "crvload-cluster-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	defer res.ratios()
	// The baseline: one node on its own.
	if err := b.runGroup(ctx, filepath.Join(dir, "one"), false, &res); err != nil {
		return res, err
	}
	if err := b.runGroup(ctx, filepath.Join(dir, "cluster"), true, &res); err != nil {
		return res, err
	}
	return res, b.runMediaGroup(ctx, filepath.Join(dir, "media"), &res)
}

func (r *ClusterResult) ratios() {
	p99 := func(calls []ClusterCallRow, setup string) time.Duration {
		for _, c := range calls {
			if c.Setup == setup {
				return c.CallSetup.P99
			}
		}
		return 0
	}
	div := func(a, b time.Duration) float64 {
		if b <= 0 || a <= 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	one := p99(r.Calls, ClusterOneNode)
	r.CallP99SameRatio = div(p99(r.Calls, ClusterSameNode), one)
	r.CallP99AcrossRatio = div(p99(r.Calls, ClusterAcrossNodes), one)
	if len(r.Presence) == 2 {
		r.FanOutP99Ratio = div(r.Presence[1].FanOut.P99, r.Presence[0].FanOut.P99)
	}
	if len(r.Entries) == 2 {
		same, moved := r.Entries[0].Enter, r.Entries[1].Enter
		r.EntryP50Ratio, r.EntryP99Ratio = div(moved.P50, same.P50), div(moved.P99, same.P99)
	}
	if len(r.Transfers) == 2 {
		same, across := r.Transfers[0], r.Transfers[1]
		if same.MiBps > 0 {
			r.TransferRatio = across.MiBps / same.MiBps
		}
		r.WakeP50Ratio = div(across.Wake.P50, same.Wake.P50)
	}
}

// benchGroup is the server processes of one group of rows.
type benchGroup struct {
	redis *Proc // nil for one node on its own
	nodes []*Proc
	urls  []string // the nodes' WebSocket URLs
}

// runGroup starts one node on its own (cluster false) or a redis-server
// and b.Nodes nodes, measures its rows into res and stops the processes.
func (b *ClusterBench) runGroup(ctx context.Context, dir string, cluster bool, res *ClusterResult) (err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	g := &benchGroup{}
	defer func() { err = errors.Join(err, g.stop()) }()
	n := 1
	if cluster {
		n = b.Nodes
	}
	if err := g.start(ctx, b, dir, n, cluster, false); err != nil {
		return err
	}
	if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
		return err
	}
	if !cluster {
		row, err := b.callRow(ctx, g, ClusterOneNode, "one", func(int) (int, int) { return 0, 0 })
		res.Calls = append(res.Calls, row)
		if err != nil {
			return err
		}
	} else {
		row, err := b.callRow(ctx, g, ClusterSameNode, "same", func(k int) (int, int) { return k % n, k % n })
		res.Calls = append(res.Calls, row)
		if err != nil {
			return err
		}
		row, err = b.callRow(ctx, g, ClusterAcrossNodes, "across", func(k int) (int, int) { return k % n, (k + 1) % n })
		res.Calls = append(res.Calls, row)
		if err != nil {
			return err
		}
	}
	setup := ClusterOneNode
	if cluster {
		setup = ClusterSpread
	}
	row, err := b.presenceRow(ctx, g, setup)
	res.Presence = append(res.Presence, row)
	return err
}

// start starts n nodes, on a redis-server it starts first if cluster,
// with media or without.
func (g *benchGroup) start(ctx context.Context, b *ClusterBench, dir string, n int, cluster, media bool) (err error) {
	redisURL := ""
	what := "without media"
	if media {
		what = "with media"
	}
	if cluster {
		b.Progress("starting redis-server and %d nodes %s", n, what)
		if g.redis, err = startBenchRedis(ctx, b.RedisBin, dir); err != nil {
			return err
		}
		redisURL = "redis://" + g.redis.Addr()
	} else {
		b.Progress("starting one node on its own, %s", what)
	}
	for i := range n {
		p, err := startClusterNode(ctx, b.NodeBin, filepath.Join(dir, fmt.Sprintf("node%d", i)), redisURL, media)
		if err != nil {
			return err
		}
		g.nodes = append(g.nodes, p)
		g.urls = append(g.urls, "ws://"+p.Addr()+"/ws")
	}
	return nil
}

// stop stops the nodes, then Redis, which they need to leave cleanly.
func (g *benchGroup) stop() error {
	var errs []error
	var wg sync.WaitGroup
	errc := make(chan error, len(g.nodes))
	for _, p := range g.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- p.Stop(10 * time.Second)
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		errs = append(errs, err)
	}
	if g.redis != nil {
		errs = append(errs, g.redis.Stop(5*time.Second))
	}
	return errors.Join(errs...)
}

// usage reads every process's CPU time and RSS.
func (g *benchGroup) usage() (nodes []Usage, redis Usage, err error) {
	for _, p := range g.nodes {
		u, err := p.Usage()
		if err != nil {
			return nil, redis, err
		}
		nodes = append(nodes, u)
	}
	if g.redis != nil {
		if redis, err = g.redis.Usage(); err != nil {
			return nil, redis, err
		}
	}
	return nodes, redis, nil
}

// since is what the processes used from u0/r0 to now.
func (g *benchGroup) since(u0 []Usage, r0 Usage) (ClusterProcs, error) {
	u1, r1, err := g.usage()
	if err != nil {
		return ClusterProcs{}, err
	}
	var p ClusterProcs
	for i := range u1 {
		p.NodeCPUSeconds = append(p.NodeCPUSeconds, (u1[i].CPU - u0[i].CPU).Seconds())
		p.NodeRSSBytes = append(p.NodeRSSBytes, u1[i].RSS)
	}
	if g.redis != nil {
		p.RedisCPUSeconds, p.RedisRSSBytes = (r1.CPU - r0.CPU).Seconds(), r1.RSS
	}
	return p, nil
}

// redisReady matches redis-server's line once it accepts connections.
var redisReady = regexp.MustCompile(`(Ready) to accept connections`)

// startBenchRedis starts a redis-server on a free loopback port that
// saves nothing, with dir as its working directory. Another process may
// take the port between the moment it is found free and the server's
// bind, so a few are tried.
func startBenchRedis(ctx context.Context, bin, dir string) (*Proc, error) {
	var last error
	for range 5 {
		port, err := freeLoopbackPort()
		if err != nil {
			return nil, err
		}
		p, err := StartProc(ctx, ProcSpec{Path: bin, Ready: redisReady, Timeout: 10 * time.Second,
			Args: []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}})
		if err == nil {
			p.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			return p, nil
		}
		if last = err; ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, last
}

func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startClusterNode runs a node process without TURN, with media (an SFU
// on a free loopback UDP port) or without, with the bench's config file,
// in a cluster on redisURL ("": on its own), and waits until its /healthz
// answers ok.
func startClusterNode(ctx context.Context, bin, dataDir, redisURL string, media bool) (*Proc, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dataDir, "crvload.yaml")
	if err := os.WriteFile(cfg, []byte(benchNodeConfig), 0o600); err != nil {
		return nil, err
	}
	rtc := ""
	if media {
		rtc = "127.0.0.1:0"
	}
	args := []string{"-http", "127.0.0.1:0", "-rtc", rtc, "-turn", "", "-data", dataDir, "-config", cfg}
	if redisURL != "" {
		args = append(args, "-redis", redisURL)
	}
	p, err := StartProc(ctx, ProcSpec{Path: bin, Args: args, Ready: nodeReady})
	if err != nil {
		return nil, err
	}
	if err := waitHealthy(ctx, "http://"+p.Addr()+"/healthz", 30*time.Second); err != nil {
		p.Kill()
		return nil, fmt.Errorf("%w: node %s: %w\n%s", ErrProcess, p.Addr(), err, p.Logs())
	}
	return p, nil
}

// waitHealthy polls url until it answers 200.
func waitHealthy(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %s", url, resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("not healthy within %v: %w", timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// loginClient connects a package client user to url and logs it in.
func loginClient(ctx context.Context, url, id string, handler func(client.Event)) (*client.Client, error) {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.Dial(lctx, url, client.Options{Handler: handler, SignalingOnly: true})
	if err != nil {
		return nil, err
	}
	if _, err := c.Login(lctx, protocol.LoginParams{AppID: BenchApp, AppSecret: MD5Hex(BenchApp), UserID: id, NickName: id}); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("login %s: %w", id, err)
	}
	return c, nil
}

// closeClients closes clients at once (each waits briefly for the node
// to answer its close).
func closeClients(cs []*client.Client) {
	var wg sync.WaitGroup
	for _, c := range cs {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Close()
		}()
	}
	wg.Wait()
}

// callRow logs in 2×Pairs users, pair k's caller on node place(k)'s
// first and its callee on the second, and runs b.Calls calls over them as
// the signaling bench does: each pair one call after another, the two
// taking turns to call.
func (b *ClusterBench) callRow(ctx context.Context, g *benchGroup, setup, prefix string, place func(k int) (int, int)) (row ClusterCallRow, err error) {
	row = ClusterCallRow{Setup: setup, Nodes: len(g.nodes)}
	var acceptErrs atomic.Int64
	var firstAccept atomic.Value
	onErr := func(err error) {
		acceptErrs.Add(1)
		firstAccept.CompareAndSwap(nil, err.Error())
	}
	peers := make([]*callPeer, 2*b.Pairs)
	var cs []*client.Client
	defer func() { closeClients(cs) }()
	for k := range b.Pairs {
		na, nc := place(k)
		for j, node := range []int{na, nc} {
			p := newCallPeer(ctx, onErr)
			c, err := loginClient(ctx, g.urls[node], fmt.Sprintf("%s-%03d-%d", prefix, k, j), p.handle)
			if err != nil {
				return row, err
			}
			p.setClient(c)
			cs = append(cs, c)
			peers[2*k+j] = p
		}
	}
	if err := sleepCtx(ctx, 300*time.Millisecond); err != nil {
		return row, err
	}
	u0, r0, err := g.usage()
	if err != nil {
		return row, err
	}
	b.Progress("%s: %d calls over %d pairs", setup, b.Calls, b.Pairs)
	var mu sync.Mutex
	var h Hist
	var wg sync.WaitGroup
	for k := range b.Pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, c := peers[2*k], peers[2*k+1]
			for i := k; i < b.Calls && ctx.Err() == nil; i += b.Pairs {
				caller, callee := a, c
				if (i/b.Pairs)%2 == 1 {
					caller, callee = c, a
				}
				d, err := callOnce(ctx, caller, callee.client().UserID())
				mu.Lock()
				if err != nil {
					row.CallsFailed++
					if row.FirstError == "" {
						row.FirstError = err.Error()
					}
				} else {
					h.Record(d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if row.Procs, err = g.since(u0, r0); err != nil {
		return row, err
	}
	row.CallSetup = h.Summary()
	if n := acceptErrs.Load(); n > 0 && row.FirstError == "" {
		row.FirstError = fmt.Sprintf("%d acceptCall errors, the first: %v", n, firstAccept.Load())
	}
	b.Progress("%s: call setup p50 %v p99 %v max %v, %d failed", setup, row.CallSetup.P50, row.CallSetup.P99, row.CallSetup.Max, row.CallsFailed)
	return row, ctx.Err()
}

// fanOut records what the watchers hear of the changes: change k sets
// the changer's DND status to k+1, so that each notification names its
// change.
type fanOut struct {
	changer protocol.UserID
	n       int // watchers

	mu         sync.Mutex
	heard      [][]uint16 // [watcher][change]: notifications heard
	count      []int      // watchers that heard change k
	first      []time.Time
	last       []time.Time
	all        []chan struct{} // closed when every watcher heard change k
	duplicates int
}

func newFanOut(changer protocol.UserID, watchers, changes int) *fanOut {
	f := &fanOut{changer: changer, n: watchers, heard: make([][]uint16, watchers), count: make([]int, changes),
		first: make([]time.Time, changes), last: make([]time.Time, changes), all: make([]chan struct{}, changes)}
	for i := range f.heard {
		f.heard[i] = make([]uint16, changes)
	}
	for k := range f.all {
		f.all[k] = make(chan struct{})
	}
	return f
}

// handler is watcher w's client Handler.
func (f *fanOut) handler(w int) func(client.Event) {
	return func(ev client.Event) {
		d, ok := ev.Data.(*protocol.NotifyUserStatus)
		if !ok || d.UserStatus.UserID != f.changer {
			return
		}
		now := time.Now()
		k := d.UserStatus.DNDType - 1
		if k < 0 || k >= len(f.count) {
			return // the changer's login, before any change
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.heard[w][k]++; f.heard[w][k] > 1 {
			f.duplicates++
			return
		}
		if f.count[k]++; f.count[k] == 1 {
			f.first[k] = now
		}
		f.last[k] = now
		if f.count[k] == f.n {
			close(f.all[k])
		}
	}
}

// presenceRow logs in the changer on the first node and b.Watchers
// watchers spread evenly over the nodes, then starts their status
// notifications, and makes b.Changes DND changes one at a time.
func (b *ClusterBench) presenceRow(ctx context.Context, g *benchGroup, setup string) (row ClusterPresenceRow, err error) {
	row = ClusterPresenceRow{Setup: setup, Nodes: len(g.nodes), Watchers: b.Watchers, Changes: b.Changes}
	const changer = "dnd-changer"
	f := newFanOut(changer, b.Watchers, b.Changes)
	watchers := make([]*client.Client, b.Watchers)
	var ch *client.Client
	defer func() { closeClients(append(watchers, ch)) }()
	if ch, err = loginClient(ctx, g.urls[0], changer, nil); err != nil {
		return row, err
	}
	// All log in first, then all watch: the watchers do not hear each
	// other's logins.
	b.Progress("%s: logging in %d watchers over %d nodes", setup, b.Watchers, len(g.nodes))
	if err := b.each(ctx, b.Watchers, func(ctx context.Context, i int) error {
		c, err := loginClient(ctx, g.urls[i%len(g.urls)], fmt.Sprintf("watcher-%05d", i), f.handler(i))
		watchers[i] = c
		return err
	}); err != nil {
		return row, err
	}
	if err := b.each(ctx, b.Watchers, func(ctx context.Context, i int) error {
		return watchers[i].StartUserStatusNotify(ctx)
	}); err != nil {
		return row, err
	}
	if err := sleepCtx(ctx, time.Second); err != nil {
		return row, err
	}
	u0, r0, err := g.usage()
	if err != nil {
		return row, err
	}
	b.Progress("%s: %d DND changes heard by %d watchers", setup, b.Changes, b.Watchers)
	var fan, first Hist
	made := make([]bool, b.Changes)
	for k := 0; k < b.Changes && ctx.Err() == nil; k++ {
		t0 := time.Now()
		if err := ch.SetDNDStatus(ctx, k+1); err != nil {
			row.ChangesFailed++
			if row.FirstError == "" {
				row.FirstError = fmt.Sprintf("setDNDStatus: %v", err)
			}
			continue
		}
		made[k] = true
		t := time.NewTimer(b.ChangeTimeout)
		select {
		case <-f.all[k]:
			f.mu.Lock()
			fan.Record(f.last[k].Sub(t0))
			first.Record(f.first[k].Sub(t0))
			f.mu.Unlock()
		case <-t.C:
			row.TimedOut++
		case <-ctx.Done():
		}
		t.Stop()
	}
	// Late and duplicate notifications have a moment to arrive.
	if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
		return row, err
	}
	if row.Procs, err = g.since(u0, r0); err != nil {
		return row, err
	}
	f.mu.Lock()
	row.Duplicates = f.duplicates
	for k, c := range f.count {
		if made[k] || c > 0 { // a change that failed is counted in ChangesFailed
			row.Missed += f.n - c
		}
	}
	f.mu.Unlock()
	row.FanOut, row.First = fan.Summary(), first.Summary()
	b.Progress("%s: fan-out to the last watcher p50 %v p99 %v; %d duplicates, %d missed, %d late", setup,
		row.FanOut.P50, row.FanOut.P99, row.Duplicates, row.Missed, row.TimedOut)
	return row, nil
}

// each runs fn(i) for i in [0, n), b.Concurrency at a time, and returns
// how many failed with the first error.
func (b *ClusterBench) each(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	var mu sync.Mutex
	var first error
	failed := 0
	parallel(ctx, n, b.Concurrency, func(i int) {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := fn(rctx, i); err != nil {
			mu.Lock()
			if failed++; first == nil {
				first = err
			}
			mu.Unlock()
		}
	})
	if first != nil {
		return fmt.Errorf("%d of %d failed, the first: %w", failed, n, first)
	}
	return ctx.Err()
}
