package datachannel

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() { // the failure paths tested here log warnings
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	goleak.VerifyTestMain(m)
}

var errPipeClosed = errors.New("pipe closed")

// pipe is one direction of an in-memory data channel: Send queues a copy,
// one goroutine delivers in order (at rate bytes/s if rate > 0, to model
// a slow link), BufferedAmount counts what is not yet delivered, and the
// low-threshold handler fires when it falls to the threshold from above,
// as pion's does.
type pipe struct {
	mu        sync.Mutex
	queue     [][]byte
	buffered  uint64
	maxQueued uint64
	lowTh     uint64
	onLow     func()
	deliver   func([]byte)
	mangle    func([]byte) []byte
	closed    bool
	rate      int
	wake      chan struct{}
	done      chan struct{}
}

func newPipe(rate int) *pipe {
	p := &pipe{rate: rate, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *pipe) setDeliver(f func([]byte)) {
	p.mu.Lock()
	p.deliver = f
	p.mu.Unlock()
	signal(p.wake)
}

func (p *pipe) Send(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errPipeClosed
	}
	p.queue = append(p.queue, append([]byte(nil), b...))
	p.buffered += uint64(len(b))
	p.maxQueued = max(p.maxQueued, p.buffered)
	signal(p.wake)
	return nil
}

func (p *pipe) BufferedAmount() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buffered
}

func (p *pipe) SetBufferedAmountLowThreshold(th uint64) {
	p.mu.Lock()
	p.lowTh = th
	p.mu.Unlock()
}

func (p *pipe) OnBufferedAmountLow(f func()) {
	p.mu.Lock()
	p.onLow = f
	p.mu.Unlock()
}

func (p *pipe) peak() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxQueued
}

func (p *pipe) run() {
	defer close(p.done)
	next := time.Now()
	for {
		p.mu.Lock()
		// Frames wait for a receiver, as on a data channel: an endpoint
		// may answer what Attach flushed to it before its up pipe is
		// joined to the relay.
		for (len(p.queue) == 0 || p.deliver == nil) && !p.closed {
			p.mu.Unlock()
			<-p.wake
			p.mu.Lock()
		}
		if p.closed {
			p.mu.Unlock()
			return
		}
		b := p.queue[0]
		p.queue = p.queue[1:]
		deliver, mangle, rate := p.deliver, p.mangle, p.rate
		p.mu.Unlock()
		if rate > 0 {
			if now := time.Now(); next.Before(now) {
				next = now
			}
			next = next.Add(time.Duration(len(b)) * time.Second / time.Duration(rate))
			time.Sleep(time.Until(next))
		}
		n := uint64(len(b))
		if mangle != nil {
			b = mangle(b)
		}
		deliver(b)
		p.mu.Lock()
		prev := p.buffered
		p.buffered -= n
		fire := p.onLow != nil && prev > p.lowTh && p.buffered <= p.lowTh
		onLow := p.onLow
		p.mu.Unlock()
		if fire {
			onLow()
		}
	}
}

func (p *pipe) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	signal(p.wake)
	<-p.done
}

// recorder collects an endpoint's events for a test to wait on.
type recorder struct {
	ch chan Event
}

func newRecorder() *recorder { return &recorder{ch: make(chan Event, 1<<16)} }

func (r *recorder) handle(ev Event) { r.ch <- ev }

// until reads events until stop accepts one, and returns all it read.
func (r *recorder) until(t *testing.T, d time.Duration, stop func(Event) bool) []Event {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	var seen []Event
	for {
		select {
		case ev := <-r.ch:
			seen = append(seen, ev)
			if stop(ev) {
				return seen
			}
		case <-timer.C:
			t.Fatalf("timed out after %v; events so far: %s", d, describe(seen))
			return nil
		}
	}
}

// none checks that no event arrives for d.
func (r *recorder) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-r.ch:
		t.Fatalf("unexpected event %s", describe([]Event{ev}))
	case <-time.After(d):
	}
}

func describe(evs []Event) string {
	var b strings.Builder
	for _, ev := range evs {
		switch e := ev.(type) {
		case *Progress:
			b.WriteString("progress ")
		case *Result:
			b.WriteString("result(" + e.Code.String() + ") ")
		case *CmdData:
			b.WriteString("cmd ")
		case *BufferData:
			b.WriteString("buffer ")
		case *FileData:
			b.WriteString("file ")
		case *Cancelled:
			b.WriteString("cancelled(" + e.Code.String() + ") ")
		}
	}
	return b.String()
}

func resultOf(id TaskID) func(Event) bool {
	return func(ev Event) bool {
		r, ok := ev.(*Result)
		return ok && r.TaskID == id
	}
}

func isType[T Event](ev Event) bool {
	_, ok := ev.(T)
	return ok
}

func lastResult(t *testing.T, evs []Event) *Result {
	t.Helper()
	r, ok := evs[len(evs)-1].(*Result)
	if !ok {
		t.Fatalf("last event is not a result: %s", describe(evs))
	}
	return r
}

// client is one user: an Endpoint joined to a Relay by two pipes.
type client struct {
	ep   *Endpoint
	rec  *recorder
	up   *pipe // client → node
	down *pipe // node → client
	peer *RelayChannel
	dir  string
}

func newClient(t *testing.T, r *Relay, app string, user UserID, cfg Config, downRate int) *client {
	t.Helper()
	return newClientLinks(t, r, app, user, cfg, 0, downRate)
}

// newClientLinks is newClient with a rate limit on both links (0: none).
func newClientLinks(t *testing.T, r *Relay, app string, user UserID, cfg Config, upRate, downRate int) *client {
	t.Helper()
	c := &client{rec: newRecorder(), up: newPipe(upRate), down: newPipe(downRate), dir: cfg.Dir}
	if c.dir == "" {
		c.dir = t.TempDir()
		cfg.Dir = c.dir
	}
	ep, err := NewEndpoint(c.up, cfg, c.rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	c.ep = ep
	c.down.setDeliver(ep.Handle) // before Attach, which may send what waits for the user
	c.peer = r.Attach(app, user, c.down.Send)
	c.up.setDeliver(c.peer.Handle)
	t.Cleanup(c.close)
	return c
}

// close is what a channel closing does on both sides.
func (c *client) close() {
	_ = c.ep.Close()
	<-c.ep.Done()
	c.peer.Close()
	c.up.Close()
	c.down.Close()
}

func newTestRelay(t *testing.T, cfg RelayConfig) *Relay {
	t.Helper()
	r, err := NewRelay(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// dirEntries lists a directory, hidden partial files included.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// waitIdle waits until the relay has no task left.
func waitIdle(t *testing.T, r *Relay) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for r.Stats().ActiveTasks != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("relay still has tasks: %+v", r.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
