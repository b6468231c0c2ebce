package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crvnode/crvnode/cluster"
	"github.com/crvnode/crvnode/internal/redistest"
)

// What package signaling asks of its log.
var _ interface {
	NodeID() string
	Append(ctx context.Context, entry []byte) error
	Follow(ctx context.Context, after string, fn func(pos string, at time.Time, entry []byte)) error
	Snapshot(ctx context.Context) (pos string, state []byte, err error)
	SaveSnapshot(ctx context.Context, pos string, state []byte) error
} = (*cluster.Cluster)(nil)

const (
	testHeartbeat = 100 * time.Millisecond
	testTTL       = 300 * time.Millisecond
)

// noLeaks fails t if it leaves goroutines behind. It must be the test's
// first cleanup, so that it runs after all the others.
func noLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("%d goroutines at the start, %d at the end:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// logBuf holds what the clusters log, shown when a test fails.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type env struct {
	t   *testing.T
	srv *redistest.Server
	log *logBuf
	raw *redis.Client // for looking at Redis directly

	mu      sync.Mutex
	cancels []context.CancelFunc // the followers'
}

// stopFollowers ends every Follow at once: each takes up to a BLOCK to
// see it.
func (e *env) stopFollowers() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, cancel := range e.cancels {
		cancel()
	}
}

func newEnv(t *testing.T) *env {
	noLeaks(t)
	e := &env{t: t, srv: redistest.Start(t), log: &logBuf{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", e.log)
		}
	})
	e.raw = redis.NewClient(&redis.Options{Addr: e.srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = e.raw.Close() })
	return e
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// open opens a Cluster on e's Redis, closed when the test ends.
func (e *env) open(mod func(*cluster.Config)) *cluster.Cluster {
	e.t.Helper()
	cfg := cluster.Config{
		Addr:      e.srv.Addr(),
		Heartbeat: testHeartbeat,
		NodeTTL:   testTTL,
		Logger:    slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := cluster.Open(ctxT(e.t, 10*time.Second), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		if err := c.Close(); err != nil && !e.t.Failed() {
			e.t.Logf("Close: %v", err) // Redis may be down by then
		}
	})
	return c
}

// collector is what one Follow delivered.
type collector struct {
	mu      sync.Mutex
	pos     []string
	entries []string
	err     error
	errSeen bool // a test checked err (waitErr)
	ended   chan struct{}
}

func (c *collector) snapshot() (pos, entries []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.pos), slices.Clone(c.entries)
}

// follow runs c.Follow until the test ends.
func (e *env) follow(c *cluster.Cluster, after string) *collector {
	col := &collector{ended: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	e.mu.Lock()
	e.cancels = append(e.cancels, cancel)
	e.mu.Unlock()
	go func() {
		defer close(col.ended)
		err := c.Follow(ctx, after, func(pos string, _ time.Time, entry []byte) {
			col.mu.Lock()
			col.pos = append(col.pos, pos)
			col.entries = append(col.entries, string(entry))
			col.mu.Unlock()
		})
		col.mu.Lock()
		col.err = err
		col.mu.Unlock()
	}()
	e.t.Cleanup(func() {
		e.stopFollowers()
		select {
		case <-col.ended:
		case <-time.After(15 * time.Second):
			e.t.Fatal("Follow did not return within 15 s of its context's end")
		}
		if col.err != context.Canceled && !col.errSeen && !e.t.Failed() {
			e.t.Errorf("Follow returned %v, not context.Canceled", col.err)
		}
	})
	return col
}

// waitFor waits until col has n entries and returns them.
func (col *collector) waitFor(t *testing.T, n int, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, got := col.snapshot()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d entries within %v, want %d: %q", len(got), within, n, got)
		}
		select {
		case <-col.ended:
			t.Fatalf("Follow ended after %d entries: %v", len(got), col.err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// appendRetry appends, again and again while Redis comes back.
func appendRetry(t *testing.T, c *cluster.Cluster, entry string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Append(ctx, []byte(entry))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Append %q: %v", entry, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAppendFollowOneOrder(t *testing.T) {
	e := newEnv(t)
	a, b := e.open(nil), e.open(nil)
	if a.NodeID() == b.NodeID() || len(a.NodeID()) != 16 {
		t.Fatalf("node IDs %q and %q", a.NodeID(), b.NodeID())
	}
	fa, fb := e.follow(a, ""), e.follow(b, "")
	const n = 200
	var wg sync.WaitGroup
	for _, c := range []*cluster.Cluster{a, b} {
		wg.Go(func() {
			for i := range n {
				if err := c.Append(ctxT(t, 5*time.Second), fmt.Appendf(nil, "%s-%03d", c.NodeID(), i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	ga := fa.waitFor(t, 2*n, 10*time.Second)
	gb := fb.waitFor(t, 2*n, 10*time.Second)
	if !slices.Equal(ga, gb) {
		t.Fatalf("the two followers saw different orders:\n%q\n%q", ga, gb)
	}
	// Each node's entries in the order it appended them, interleaved.
	next := map[string]int{}
	mixed := false
	for i, s := range ga {
		id, num, _ := strings.Cut(s, "-")
		if want := fmt.Sprintf("%03d", next[id]); num != want {
			t.Fatalf("entry %d is %q, want %s-%s", i, s, id, want)
		}
		next[id]++
		if i > 0 && !strings.HasPrefix(ga[i-1], id) {
			mixed = true
		}
	}
	if !mixed {
		t.Log("the appends did not interleave")
	}
	pa, _ := fa.snapshot()
	if !slices.IsSortedFunc(pa, comparePos) {
		t.Errorf("positions out of order: %q", pa)
	}
	time.Sleep(50 * time.Millisecond)
	if _, got := fa.snapshot(); len(got) != 2*n {
		t.Errorf("%d entries delivered, want %d", len(got), 2*n)
	}
}

func comparePos(x, y string) int {
	var xm, xs, ym, ys uint64
	fmt.Sscanf(x, "%d-%d", &xm, &xs)
	fmt.Sscanf(y, "%d-%d", &ym, &ys)
	if xm != ym {
		return int(xm) - int(ym)
	}
	return int(xs) - int(ys)
}

func TestFollowFromPosition(t *testing.T) {
	e := newEnv(t)
	c := e.open(nil)
	for i := range 10 {
		appendRetry(t, c, fmt.Sprint(i))
	}
	all := e.follow(c, "")
	all.waitFor(t, 10, 5*time.Second)
	pos, _ := all.snapshot()

	from := e.follow(c, pos[4])
	got := from.waitFor(t, 5, 5*time.Second)
	if want := []string{"5", "6", "7", "8", "9"}; !slices.Equal(got, want) {
		t.Fatalf("after %s: %q, want %q", pos[4], got, want)
	}
	gotPos, _ := from.snapshot()
	if !slices.Equal(gotPos, pos[5:]) {
		t.Errorf("positions %q, want %q", gotPos, pos[5:])
	}
	appendRetry(t, c, "10")
	if got := from.waitFor(t, 6, 5*time.Second); got[5] != "10" {
		t.Errorf("then %q", got[5])
	}

	// The last position: nothing until the next entry.
	last := e.follow(c, pos[9])
	if got := last.waitFor(t, 1, 5*time.Second); got[0] != "10" {
		t.Errorf("after the last: %q", got)
	}

	if err := c.Follow(ctxT(t, time.Second), "soon", func(string, time.Time, []byte) {}); err == nil || !strings.Contains(err.Error(), "soon") {
		t.Errorf("Follow after a position that is none: %v", err)
	}
}

func TestFollowSurvivesHungRedis(t *testing.T) {
	e := newEnv(t)
	c := e.open(nil)
	cluster.SetReadTimeout(c, 200*time.Millisecond)
	col := e.follow(c, "")
	appendRetry(t, c, "before")
	col.waitFor(t, 1, 5*time.Second)

	e.srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	if err := c.Append(ctx, []byte("lost")); err == nil {
		t.Error("Append to a hung Redis succeeded")
	}
	cancel()
	// The follower's reads time out (BLOCK + 200 ms), and it tries again.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(e.log.String(), "reading the log; trying again") {
		if time.Now().After(deadline) {
			e.srv.Cont()
			t.Fatal("the follower saw no error with Redis hung")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	e.srv.Cont()

	appendRetry(t, c, "after")
	got := col.waitFor(t, 2, 10*time.Second)
	// "lost" may have reached Redis before it stopped answering: its
	// XADD was sent. What counts is one order, no entry twice.
	want := [][]string{{"before", "after"}, {"before", "lost", "after"}}
	time.Sleep(100 * time.Millisecond)
	_, got = col.snapshot()
	if !slices.ContainsFunc(want, func(w []string) bool { return slices.Equal(got, w) }) {
		t.Fatalf("entries %q", got)
	}
}

func TestFollowSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	c := e.open(nil)
	col := e.follow(c, "")
	appendRetry(t, c, "a")
	appendRetry(t, c, "b")
	col.waitFor(t, 2, 5*time.Second)
	pos, _ := col.snapshot()

	e.srv.Kill()
	time.Sleep(300 * time.Millisecond) // the follower's reads fail
	e.srv.Restart()

	// The new log's first entry has a position below the last one read:
	// Redis makes positions from its clock and the stream's last one,
	// and a clock that went back (another machine, a failover) gives
	// such. Written here by hand, as XADD * would then.
	if err := e.raw.XAdd(ctxT(t, 5*time.Second), &redis.XAddArgs{Stream: "crv:log", ID: "1-1", Values: []any{"e", "low"}}).Err(); err != nil {
		t.Fatal(err)
	}
	appendRetry(t, c, "c")
	// The follower stops with ErrLogLost; one from the new log's start
	// reads it.
	waitErr(t, col, cluster.ErrLogLost)
	if got := e.follow(c, "").waitFor(t, 2, 10*time.Second); !slices.Equal(got, []string{"low", "c"}) {
		t.Fatalf("the new log: %q (positions before the restart %q)", got, pos)
	}
	if !strings.Contains(e.log.String(), "Redis lost the log") {
		t.Error("the restart was not logged")
	}

	// The node's key is back with the next heartbeat.
	deadline := time.Now().Add(5 * time.Second)
	for {
		live, err := c.Live(ctxT(t, time.Second))
		if err == nil && len(live) == 1 && live[0].ID == c.NodeID() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Live after the restart: %v, %v", live, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A log replaced under the same epoch (deleted by hand, say): its last
// position is below the follower's, which stops with ErrLogLost; a
// follower from the start reads the new log.
func TestFollowLogReplaced(t *testing.T) {
	e := newEnv(t)
	c := e.open(nil)
	col := e.follow(c, "")
	appendRetry(t, c, "a")
	col.waitFor(t, 1, 5*time.Second)
	ctx := ctxT(t, 5*time.Second)
	if err := e.raw.Del(ctx, "crv:log").Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.raw.XAdd(ctx, &redis.XAddArgs{Stream: "crv:log", ID: "1-1", Values: []any{"e", "low"}}).Err(); err != nil {
		t.Fatal(err)
	}
	waitErr(t, col, cluster.ErrLogLost)
	if got := e.follow(c, "").waitFor(t, 1, 5*time.Second); got[0] != "low" {
		t.Fatalf("entries %q", got)
	}
}

// waitErr waits for col's Follow to return err.
func waitErr(t *testing.T, col *collector, want error) {
	t.Helper()
	select {
	case <-col.ended:
	case <-time.After(10 * time.Second):
		t.Fatalf("Follow did not return %v", want)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	col.errSeen = true
	if !errors.Is(col.err, want) {
		t.Fatalf("Follow returned %v, want %v", col.err, want)
	}
}

// A log that lost its end (Redis restored from an append-only file
// missing its last second) is told by the entry last read being gone,
// though entries appended since come after it.
func TestFollowLogLostItsEnd(t *testing.T) {
	e := newEnv(t)
	c := e.open(nil)
	col := e.follow(c, "")
	appendRetry(t, c, "a")
	appendRetry(t, c, "b")
	col.waitFor(t, 2, 5*time.Second)
	pos, _ := col.snapshot()
	if err := e.raw.XDel(ctxT(t, 5*time.Second), "crv:log", pos[1]).Err(); err != nil {
		t.Fatal(err)
	}
	appendRetry(t, c, "c")
	waitErr(t, col, cluster.ErrLogLost)
}

func TestEntrySize(t *testing.T) {
	e := newEnv(t)
	c := e.open(nil)
	ctx := ctxT(t, 10*time.Second)
	err := c.Append(ctx, make([]byte, cluster.MaxEntry+1))
	if err == nil {
		t.Fatal("an entry over 1 MiB was taken")
	}
	t.Log(err)
	big := bytes.Repeat([]byte{0, 'x', 0xff}, cluster.MaxEntry/3)
	if err := c.Append(ctx, big); err != nil {
		t.Fatal(err)
	}
	col := e.follow(c, "")
	if got := col.waitFor(t, 1, 5*time.Second); got[0] != string(big) {
		t.Fatalf("an entry of %d bytes came back as %d bytes", len(big), len(got[0]))
	}
	if n, _ := e.raw.XLen(ctx, "crv:log").Result(); n != 1 {
		t.Errorf("XLEN %d, want 1", n)
	}
}

func TestSnapshot(t *testing.T) {
	e := newEnv(t)
	c := e.open(func(cfg *cluster.Config) { cfg.Prefix = "svc1:" })
	ctx := ctxT(t, 20*time.Second)
	if pos, state, err := c.Snapshot(ctx); pos != "" || state != nil || err != nil {
		t.Fatalf("Snapshot with none: %q, %q, %v", pos, state, err)
	}
	for i := range 10 {
		appendRetry(t, c, fmt.Sprint(i))
	}
	all := e.follow(c, "")
	all.waitFor(t, 10, 5*time.Second)
	pos, _ := all.snapshot()

	if err := c.SaveSnapshot(ctx, pos[5], []byte("state\x00after 5")); err != nil {
		t.Fatal(err)
	}
	check := func(wantPos, wantState string) {
		t.Helper()
		p, s, err := c.Snapshot(ctx)
		if err != nil || p != wantPos || string(s) != wantState {
			t.Fatalf("Snapshot: %q, %q, %v; want %q, %q", p, s, err, wantPos, wantState)
		}
	}
	check(pos[5], "state\x00after 5")
	ids := func() []string {
		msgs, err := e.raw.XRange(ctx, "svc1:log", "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range msgs {
			ids = append(ids, m.ID)
		}
		return ids
	}
	if got := ids(); !slices.Equal(got, pos) {
		t.Fatalf("log after the first snapshot: %q, want it whole %q", got, pos)
	}

	// Older, or the same: ignored.
	for _, p := range []string{pos[3], pos[5]} {
		if err := c.SaveSnapshot(ctx, p, []byte("older")); err != nil {
			t.Errorf("SaveSnapshot at %s (older): %v", p, err)
		}
		check(pos[5], "state\x00after 5")
	}
	// Not in the log, or no position: refused.
	for _, p := range []string{"99999999999999-0", "five", ""} {
		if err := c.SaveSnapshot(ctx, p, []byte("bad")); err == nil {
			t.Errorf("SaveSnapshot at %q succeeded", p)
		}
	}
	check(pos[5], "state\x00after 5")

	// A joining node restores the snapshot and follows after its pos.
	j := e.open(func(cfg *cluster.Config) { cfg.Prefix = "svc1:" })
	p, _, _ := j.Snapshot(ctx)
	if got := e.follow(j, p).waitFor(t, 4, 5*time.Second); !slices.Equal(got, []string{"6", "7", "8", "9"}) {
		t.Errorf("after the snapshot: %q", got)
	}
	// A newer one replaces it; the state is kept whole; the log keeps the
	// entries from the previous snapshot on, for nodes that lag.
	big := bytes.Repeat([]byte("s"), 3<<20)
	if err := j.SaveSnapshot(ctx, pos[9], big); err != nil {
		t.Fatal(err)
	}
	check(pos[9], string(big))
	if got := ids(); !slices.Equal(got, pos[5:]) {
		t.Fatalf("log after the second snapshot: %q, want %q", got, pos[5:])
	}
	// One from the first entry, or from before what is kept, would miss
	// entries; one just behind the previous snapshot goes on.
	for _, after := range []string{"", pos[2]} {
		err := j.Follow(ctx, after, func(string, time.Time, []byte) { t.Error("an entry from a trimmed log") })
		if !errors.Is(err, cluster.ErrTrimmed) {
			t.Errorf("Follow after %q of a trimmed log: %v", after, err)
		}
	}
	if got := e.follow(j, pos[4]).waitFor(t, 5, 5*time.Second); !slices.Equal(got, []string{"5", "6", "7", "8", "9"}) {
		t.Errorf("a follower one interval behind: %q", got)
	}
	// The first follower had read everything: it goes on.
	appendRetry(t, c, "10")
	if got := all.waitFor(t, 11, 5*time.Second); got[10] != "10" {
		t.Errorf("follower after the trim: %q", got)
	}
}

// downRecorder records the NodeDown calls of several nodes.
type downRecorder struct {
	mu    sync.Mutex
	calls []string // "reporter:down"
	fail  int      // how many calls fail first
}

func (r *downRecorder) nodeDown(reporter *string) func(string) error {
	return func(id string) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls = append(r.calls, *reporter+":"+id)
		if r.fail > 0 {
			r.fail--
			return errors.New("not now")
		}
		return nil
	}
}

func (r *downRecorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (e *env) reporter(r *downRecorder) *cluster.Cluster {
	name := new(string)
	c := e.open(func(cfg *cluster.Config) { cfg.NodeDown = r.nodeDown(name) })
	*name = c.NodeID()
	return c
}

func TestNodeDownOnce(t *testing.T) {
	e := newEnv(t)
	r := &downRecorder{}
	a, c := e.reporter(r), e.reporter(r)
	b := e.open(func(cfg *cluster.Config) { cfg.Info = "http://b:8080" })
	ctx := ctxT(t, 10*time.Second)
	live, err := a.Live(ctx)
	if err != nil || len(live) != 3 || !slices.Contains(live, cluster.Node{ID: b.NodeID(), Info: "http://b:8080"}) {
		t.Fatalf("Live: %v, %v", live, err)
	}

	cluster.StopHeartbeat(b) // b hangs: its key expires
	stopped := time.Now()
	for len(r.get()) == 0 {
		if time.Since(stopped) > 5*time.Second {
			t.Fatal("no NodeDown within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(stopped)
	// NodeTTL, then up to one heartbeat to see it; one more for the
	// heartbeat b may have just made, and a little for scheduling.
	if limit := testTTL + 2*testHeartbeat + 50*time.Millisecond; took > limit {
		t.Errorf("NodeDown after %v, want within %v", took, limit)
	}
	time.Sleep(10 * testHeartbeat)
	calls := r.get()
	if len(calls) != 1 || !strings.HasSuffix(calls[0], ":"+b.NodeID()) {
		t.Fatalf("NodeDown calls %q, want one for %s", calls, b.NodeID())
	}
	t.Logf("%s reported after %v", calls[0], took)
	live, err = c.Live(ctx)
	if err != nil || len(live) != 2 || slices.ContainsFunc(live, func(n cluster.Node) bool { return n.ID == b.NodeID() }) {
		t.Errorf("Live after: %v, %v", live, err)
	}
	if n, _ := e.raw.SIsMember(ctx, "crv:nodes", b.NodeID()).Result(); n {
		t.Error("the node down is still a member")
	}
}

func TestNodeDownFailsThenRetried(t *testing.T) {
	e := newEnv(t)
	r := &downRecorder{fail: 1}
	a := e.reporter(r)
	b := e.open(nil)
	cluster.StopHeartbeat(b)
	deadline := time.Now().Add(5 * time.Second)
	for len(r.get()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("NodeDown calls %q, want two", r.get())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(5 * testHeartbeat)
	want := a.NodeID() + ":" + b.NodeID()
	if calls := r.get(); !slices.Equal(calls, []string{want, want}) {
		t.Fatalf("NodeDown calls %q", calls)
	}
}

func TestCloseIsNoNodeDown(t *testing.T) {
	e := newEnv(t)
	r := &downRecorder{}
	a := e.reporter(r)
	b := e.open(nil)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	time.Sleep(testTTL + 3*testHeartbeat)
	if calls := r.get(); len(calls) != 0 {
		t.Errorf("NodeDown for a node that closed: %q", calls)
	}
	live, err := a.Live(ctxT(t, 5*time.Second))
	if err != nil || len(live) != 1 || live[0].ID != a.NodeID() {
		t.Errorf("Live: %v, %v", live, err)
	}
}

func TestHealthy(t *testing.T) {
	e := newEnv(t)
	c := e.open(nil)
	if err := c.Healthy(); err != nil {
		t.Fatal(err)
	}
	e.srv.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for c.Healthy() == nil {
		if time.Now().After(deadline) {
			e.srv.Cont()
			t.Fatal("healthy with Redis hung")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Log(c.Healthy())
	e.srv.Cont()
	for c.Healthy() != nil {
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatalf("not healthy again: %v", c.Healthy())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOpenUnreachable(t *testing.T) {
	noLeaks(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	start := time.Now()
	c, err := cluster.Open(context.Background(), cluster.Config{Addr: addr})
	if err == nil {
		c.Close()
		t.Fatal("Open with nothing listening succeeded")
	}
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("Open failed after %v", took)
	}
	if !strings.Contains(err.Error(), "redis at "+addr) {
		t.Errorf("the error does not name the address %s: %v", addr, err)
	}
	t.Log(err)
}

func TestOpenHungRedis(t *testing.T) {
	e := newEnv(t)
	e.srv.Stop()
	defer e.srv.Cont()
	start := time.Now()
	c, err := cluster.Open(context.Background(), cluster.Config{Addr: e.srv.Addr()})
	if err == nil {
		c.Close()
		t.Fatal("Open of a hung Redis succeeded")
	}
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("Open failed after %v", took)
	}
	if !strings.Contains(err.Error(), e.srv.Addr()) {
		t.Errorf("the error does not name the address: %v", err)
	}
}

func TestOpenConfig(t *testing.T) {
	_, err := cluster.Open(context.Background(), cluster.Config{Addr: "127.0.0.1:1", Heartbeat: time.Second, NodeTTL: time.Second})
	if err == nil || !strings.Contains(err.Error(), "NodeTTL") {
		t.Errorf("NodeTTL = Heartbeat: %v", err)
	}
	if _, err := cluster.Open(context.Background(), cluster.Config{}); err == nil {
		t.Error("no address: no error")
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cluster.Config
		err  string // in the error; "" for none
	}{
		{in: "redis://127.0.0.1:6379", want: cluster.Config{Addr: "127.0.0.1:6379"}},
		{in: "redis://:s3cret@redis.internal:6380/2", want: cluster.Config{Addr: "redis.internal:6380", Password: "s3cret", DB: 2}},
		{in: "rediss://:p%40ss@cache.example.com:6380", want: cluster.Config{Addr: "cache.example.com:6380", Password: "p@ss", TLS: true}},
		{in: "redis://localhost", want: cluster.Config{Addr: "localhost:6379"}},
		{in: "redis://localhost/", want: cluster.Config{Addr: "localhost:6379"}},
		{in: "redis://[::1]:7000/15", want: cluster.Config{Addr: "[::1]:7000", DB: 15}},
		{in: "10.0.0.5:6379", want: cluster.Config{Addr: "10.0.0.5:6379"}},
		{in: "redis-host", want: cluster.Config{Addr: "redis-host:6379"}},
		{in: "[::1]:6379", want: cluster.Config{Addr: "[::1]:6379"}},
		{in: "", err: "empty"},
		{in: "http://localhost:6379", err: `scheme "http"`},
		{in: "redis://user:pw@localhost:6379", err: "user names"},
		{in: "redis://:6379", err: "no host"},
		{in: "redis:///0", err: "no host"},
		{in: "redis://localhost:notaport", err: "localhost:notaport"},
		{in: "redis://localhost:70000", err: `port "70000"`},
		{in: "redis://localhost:6379/x", err: `database "x"`},
		{in: "redis://localhost:6379/-1", err: `database "-1"`},
		{in: "redis://localhost:6379/1/2", err: `database "1/2"`},
		{in: "redis://localhost:6379?db=1", err: "options"},
		{in: "localhost:", err: `port ""`},
		{in: "::1", err: "not host:port"},
	} {
		got, err := cluster.ParseURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseURL(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "pw@") {
				t.Errorf("ParseURL(%q): the error shows the password: %v", tc.in, err)
			}
			continue
		}
		if err != nil || got.Addr != tc.want.Addr || got.Password != tc.want.Password || got.DB != tc.want.DB || got.TLS != tc.want.TLS {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// TestSecret: every node on one Redis reads the one secret the first made;
// another prefix (another service) has its own; a Redis that lost it
// gets a new one.
func TestSecret(t *testing.T) {
	e := newEnv(t)
	a, b := e.open(nil), e.open(nil)
	other := e.open(func(c *cluster.Config) { c.Prefix = "other:" })
	ctx := ctxT(t, 10*time.Second)
	sa, err := a.Secret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sa) != 64 || strings.Trim(sa, "0123456789abcdef") != "" {
		t.Fatalf("secret %q", sa)
	}
	for _, c := range []*cluster.Cluster{a, b} {
		if s, err := c.Secret(ctx); err != nil || s != sa {
			t.Fatalf("another read: %q, %v; want %q", s, err, sa)
		}
	}
	if s, err := other.Secret(ctx); err != nil || s == sa || len(s) != 64 {
		t.Fatalf("another service's secret: %q, %v", s, err)
	}
	if err := e.raw.Del(ctx, "crv:secret").Err(); err != nil {
		t.Fatal(err)
	}
	if s, err := b.Secret(ctx); err != nil || s == sa || len(s) != 64 {
		t.Fatalf("after Redis lost it: %q, %v", s, err)
	}
}
