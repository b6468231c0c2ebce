package datachannel

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/crvnode/crvnode/internal/queue"
)

// ChannelLabel is the label of the data channel that carries transfers:
// one reliable, ordered, binary channel that the client creates on its up
// PeerConnection before offering it.
const ChannelLabel = "crv-data"

// Conn is an Endpoint's message transport: one reliable, ordered channel
// to the node (or, in tests, straight to another endpoint). A pion
// *webrtc.DataChannel satisfies it as it is.
type Conn interface {
	// Send queues one binary message. It must not keep frame after it
	// returns (the endpoint reuses the buffer) and must not block long.
	Send(frame []byte) error
	// BufferedAmount reports the bytes queued and not yet delivered.
	BufferedAmount() uint64
	// SetBufferedAmountLowThreshold sets the level that fires
	// OnBufferedAmountLow when BufferedAmount falls to it from above.
	SetBufferedAmountLowThreshold(th uint64)
	// OnBufferedAmountLow sets that event's handler. The handler the
	// endpoint installs never blocks and takes no lock.
	OnBufferedAmountLow(f func())
}

// Endpoint is one client's side of transfers over one Conn: it sends
// commands, buffers and files (the Sender state machines) and receives
// them (the Receiver state machines). One writer goroutine owns the Conn's
// sending side and schedules frames: control frames first, then commands,
// then one chunk per transfer in turn, and only while the Conn's buffer is
// below Config.HighWater. Incoming frames arrive through Handle.
type Endpoint struct {
	conn    Conn
	cfg     Config
	log     *slog.Logger
	handler Handler
	events  *queue.Queue[Event]

	wake       chan struct{} // capacity 1: the writer has new work
	low        chan struct{} // capacity 1: the Conn's buffer drained to LowWater
	quit       chan struct{} // closed by Close
	writerDone chan struct{}
	done       chan struct{} // closed once the Handler has returned for good
	closeOnce  sync.Once
	closed     atomic.Bool

	mu    sync.Mutex // guards the sending state below
	ctl   [][]byte   // control frames (CREDIT, RESULT, CANCEL), FIFO, sent first
	cmds  []*outTask // commands waiting to be sent, FIFO
	out   map[TaskID]*outTask
	order []*outTask // buffer and file transfers, in round-robin order
	rr    int        // where the next round-robin scan starts

	inMu sync.Mutex // serialises receiving; taken before mu, never by the writer
	in   map[TaskID]*inTask
}

// NewEndpoint starts an endpoint on an open Conn. Events go to h (nil
// drops them). Call Handle with every message that arrives on the Conn,
// and Close when the Conn closes.
func NewEndpoint(conn Conn, cfg Config, h Handler) (*Endpoint, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if h == nil {
		h = func(Event) {}
	}
	e := &Endpoint{
		conn: conn, cfg: cfg, log: cfg.Logger, handler: h, events: queue.New[Event](),
		wake: make(chan struct{}, 1), low: make(chan struct{}, 1),
		quit: make(chan struct{}), writerDone: make(chan struct{}), done: make(chan struct{}),
		out: make(map[TaskID]*outTask), in: make(map[TaskID]*inTask),
	}
	conn.SetBufferedAmountLowThreshold(cfg.LowWater)
	conn.OnBufferedAmountLow(func() { signal(e.low) })
	go e.writeLoop()
	go e.dispatchLoop()
	return e, nil
}

// Handle takes one message that arrived on the Conn. It does not keep
// frame after it returns. Calls must not overlap (a data channel delivers
// messages one at a time). Frames that do not decode, and frames of
// unknown or finished tasks (they can cross a CANCEL or a RESULT), are
// dropped.
func (e *Endpoint) Handle(frame []byte) {
	if e.closed.Load() {
		return
	}
	f, err := Decode(frame)
	if err != nil {
		e.log.Debug("datachannel: dropped frame", "err", err)
		return
	}
	switch f.Type {
	case TypeCredit:
		e.onCredit(&f)
	case TypeResult:
		e.onResult(&f)
	default:
		e.receive(&f)
	}
}

// Close stops the endpoint: outgoing tasks end with Result code 1000
// (SENDFAIL), incoming ones are dropped and their partial files removed,
// nothing more is sent. It waits for the writer goroutine; the Handler
// gets the final events and Done closes after it returns. Close may be
// called any number of times, from any goroutine, the Handler included.
func (e *Endpoint) Close() error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed.Store(true)
		outs := make([]*outTask, 0, len(e.out))
		for _, t := range e.out {
			outs = append(outs, t)
		}
		e.mu.Unlock()
		close(e.quit)
		<-e.writerDone
		for _, t := range outs {
			e.finishOut(t, codeSendFail, false, true)
		}
		e.inMu.Lock()
		for _, t := range e.in {
			t.discard()
		}
		clear(e.in)
		e.inMu.Unlock()
		e.events.Close()
	})
	return nil
}

// Busy reports whether a task is under way in either direction: a
// command or transfer sent and not yet answered, or one being received.
func (e *Endpoint) Busy() bool {
	e.inMu.Lock()
	in := len(e.in)
	e.inMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	return in > 0 || len(e.out) > 0 || len(e.cmds) > 0
}

// Done is closed once the endpoint is closed and its Handler has returned
// from the last event.
func (e *Endpoint) Done() <-chan struct{} { return e.done }

func (e *Endpoint) dispatchLoop() {
	defer close(e.done)
	for {
		ev, ok := e.events.Pop()
		if !ok {
			return
		}
		e.handler(ev)
	}
}

// queueCtl queues a control frame for the writer.
func (e *Endpoint) queueCtl(f *Frame) {
	b, err := f.Encode()
	if err != nil {
		e.log.Error("datachannel: encoding a control frame", "err", err)
		return
	}
	e.mu.Lock()
	if !e.closed.Load() {
		e.ctl = append(e.ctl, b)
	}
	e.mu.Unlock()
	signal(e.wake)
}
