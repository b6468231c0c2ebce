package datachannel

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// SendFunc hands one frame to a client's data channel (pion's
// (*webrtc.DataChannel).Send fits). The relay calls it for one peer from
// one goroutine at a time, never while holding its lock, and never
// changes a frame afterwards. It should queue, not wait: an error fails
// the transfer the frame belonged to.
type SendFunc func(frame []byte) error

// Relay is the node's side of transfers: it joins the data channels of a
// task's sender and receiver and forwards frames both ways without
// reassembling anything. It checks every frame (a malformed or
// out-of-order one fails that transfer only: RESULT 1000 to the sender,
// CANCEL to the receiver), answers what the node decides itself (1102
// unknown target, size limits), holds every sender to the credit its
// receiver granted so that the node's bytes per transfer stay within
// RelayConfig.MaxWindow, and fails the transfers of a client that goes
// away. A task to a logged-in user whose channel is not there yet waits
// for it (RelayConfig.Wake). Tasks never cross apps. One mutex guards all
// its state; frames are sent after it is released, in the order they were
// decided.
type Relay struct {
	cfg RelayConfig
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	peers   map[peerKey]*RelayChannel // who a target user ID reaches
	waiting map[peerKey]*RelayChannel // woken targets: what waits for their channel
	links   map[*Link]struct{}        // links to other nodes' relays, open
	stats   RelayStats
}

type peerKey struct {
	app  string
	user UserID
}

// RelayStats are the relay's gauges and counters, for metrics.
type RelayStats struct {
	Peers             int    // data channels attached
	Links             int    // links to other nodes open
	Waiting           int    // users asked to open a channel, with tasks waiting for it
	ActiveTasks       int    // tasks under way
	BufferedBytes     int64  // forwarded to receivers and not yet credited back: the node's share
	PeakBufferedBytes int64  // the largest BufferedBytes seen
	TasksStarted      uint64 // commands and transfers forwarded to a receiver
	TasksFailed       uint64 // ended by the relay (bad frames, a side gone, send failures)
	TasksRefused      uint64 // answered by the relay (unknown target, limits, duplicates)
	BytesRelayed      uint64 // CMD and CHUNK payload bytes forwarded
	FramesMalformed   uint64 // frames that did not decode
	FramesStale       uint64 // frames of unknown or finished tasks, dropped
}

// NewRelay returns a relay with no peers.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Relay{cfg: cfg, log: cfg.Logger, now: time.Now, peers: make(map[peerKey]*RelayChannel),
		waiting: make(map[peerKey]*RelayChannel), links: make(map[*Link]struct{})}, nil
}

// Sweep fails every task that has seen no frame for RelayConfig.StallTimeout
// (a receiver that never grants credit, a sender that stopped sending):
// RESULT 1000 to its sender, CANCEL by node to its receiver.
func (r *Relay) Sweep(now time.Time) {
	if r.cfg.StallTimeout < 0 {
		return
	}
	var b batch
	r.mu.Lock()
	stalled := func(p *RelayChannel) {
		for _, t := range p.out {
			if now.Sub(t.last) > r.cfg.StallTimeout {
				r.log.Info("datachannel: transfer stalled", "user", p.user, "task", t.id)
				r.failLocked(t, protocol.SendFail, &b)
			}
		}
	}
	for _, p := range r.peers {
		stalled(p)
	}
	for l := range r.links { // tasks from users of other nodes
		for _, p := range l.proxiesLocked() {
			stalled(p)
		}
	}
	r.mu.Unlock()
	b.flush()
}

// Run sweeps stalled tasks until ctx ends.
func (r *Relay) Run(ctx context.Context) {
	if r.cfg.StallTimeout < 0 {
		return
	}
	t := time.NewTicker(r.cfg.StallTimeout / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.Sweep(now)
		}
	}
}

// Stats returns a snapshot of the gauges and counters.
func (r *Relay) Stats() RelayStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Peers = len(r.peers)
	s.Waiting = len(r.waiting)
	s.Links = len(r.links)
	return s
}

// BufferedBytes is Stats().BufferedBytes: register it as a gauge.
func (r *Relay) BufferedBytes() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats.BufferedBytes
}

// RelayChannel is one client's data channel as the relay sees it. While a
// woken user's channel is awaited, a RelayChannel with no send stands in
// for it: tasks to the user are its, and their frames wait in its queue
// until the channel attaches and takes them over. A user of another node
// is a RelayChannel too, on the Link to that node: one for each user of
// this node it exchanges tasks with (local), whose frames the link carries.
type RelayChannel struct {
	r     *Relay
	app   string
	user  UserID
	send  SendFunc // nil for a stand-in
	link  *Link    // the link to the user's node, for a user of another node
	local UserID   // with link: the user of this node on the other side of its tasks

	// Guarded by Relay.mu.
	out    map[TaskID]*relayTask // tasks this client sends
	in     map[TaskID]*relayTask // tasks this client receives
	closed bool
	wait   *time.Timer // a stand-in's end

	qmu      sync.Mutex // guards the queue of frames to this client
	queue    []queued
	flushing bool
	ready    bool // the channel is open: the queue may be sent
}

type queued struct {
	frame []byte
	task  *relayTask // failed if the frame cannot be sent
}

// Attach makes a client's open data channel known: app and user say who
// it is (the node has authenticated them), send reaches it. From then on
// transfers to (app, user) go through this peer, and it takes over the
// tasks that wait for the user's channel; a later Attach of the same user
// (a new login, a new up connection) takes that over, and this peer keeps
// only the tasks it already has.
func (r *Relay) Attach(app string, user UserID, send SendFunc) *RelayChannel {
	p := r.AttachOpening(app, user, send)
	p.Ready()
	return p
}

// AttachOpening is Attach for a channel that is not open yet (pion's
// OnDataChannel handler, before any message can arrive): frames for it
// wait until Ready.
func (r *Relay) AttachOpening(app string, user UserID, send SendFunc) *RelayChannel {
	p := newRelayChannel(r, app, user, send)
	key := peerKey{app, user}
	r.mu.Lock()
	r.peers[key] = p
	if w := r.waiting[key]; w != nil {
		r.retireLocked(w)
		for id, t := range w.in {
			t.dst = p
			p.in[id] = t
			r.stats.TasksStarted++
			r.stats.BytesRelayed += t.cmdBytes
		}
		w.in = nil
		w.qmu.Lock()
		p.queue, w.queue = w.queue, nil // p is not shared yet
		w.qmu.Unlock()
	}
	r.mu.Unlock()
	return p
}

func newRelayChannel(r *Relay, app string, user UserID, send SendFunc) *RelayChannel {
	return &RelayChannel{r: r, app: app, user: user, send: send, out: make(map[TaskID]*relayTask), in: make(map[TaskID]*relayTask)}
}

// Ready says the channel is open, and sends what waits for it.
func (p *RelayChannel) Ready() {
	p.qmu.Lock()
	p.ready = true
	p.qmu.Unlock()
	p.flush()
}

// waitLocked returns the stand-in for a user with no channel, creating it
// (and waking the user once b is flushed) if the relay wakes users; nil
// if it does not.
func (r *Relay) waitLocked(app string, user UserID, b *batch) *RelayChannel {
	key := peerKey{app, user}
	if w := r.waiting[key]; w != nil {
		return w
	}
	if r.cfg.Wake == nil {
		return nil
	}
	w := newRelayChannel(r, app, user, nil)
	w.wait = time.AfterFunc(r.cfg.WakeTimeout, func() { r.giveUp(w) })
	r.waiting[key] = w
	b.wakes = append(b.wakes, w)
	return w
}

// giveUp refuses the tasks that waited for a channel that did not come:
// RESULT 1102 to their senders.
func (r *Relay) giveUp(w *RelayChannel) {
	var b batch
	r.mu.Lock()
	if r.retireLocked(w) {
		for _, t := range w.in {
			r.removeLocked(t)
			r.stats.TasksRefused++
			b.send(t.src, mustEncode(&Frame{Type: TypeResult, TaskID: t.id, Code: protocol.SendDataTargetInvalid}), nil)
		}
		r.log.Debug("datachannel: no channel from the woken user", "user", w.user)
	}
	r.mu.Unlock()
	w.qmu.Lock()
	w.queue = nil
	w.qmu.Unlock()
	b.flush()
}

// User is the user the peer was attached for.
func (p *RelayChannel) User() UserID { return p.user }

// Handle takes one message that arrived on the peer's data channel. The
// relay keeps frame (it may forward it as it is): the caller must not
// change it afterwards; pion's OnMessage data is the caller's to give.
// Calls for one peer must not overlap.
func (p *RelayChannel) Handle(frame []byte) {
	r := p.r
	var b batch
	f, err := Decode(frame)
	var route *Link
	if err == nil && (f.Type == TypeCmd || f.Type == TypeOffer) {
		route = r.route(p, f.Peer)
	}
	r.mu.Lock()
	r.handleLocked(p, frame, &f, err, route, &b)
	r.mu.Unlock()
	b.flush()
}

// handleLocked takes one frame from p, decoded (err says whether it did);
// route is the link to the node of a new task's target, if it is there.
func (r *Relay) handleLocked(p *RelayChannel, frame []byte, f *Frame, err error, route *Link, b *batch) {
	switch {
	case p.closed:
	case err != nil:
		r.malformedLocked(p, frame, b)
	case f.Type.fromSender():
		r.fromSenderLocked(p, f, frame, route, b)
	default:
		r.fromReceiverLocked(p, f, frame, b)
	}
}

// route asks RelayConfig.Remote, without the relay's lock, where a new
// task's target is when this node has neither its channel nor a wait for
// it. Only a client of this node's own asks: a task from another node
// is never sent on to a third.
func (r *Relay) route(p *RelayChannel, to UserID) *Link {
	if r.cfg.Remote == nil || p.link != nil {
		return nil
	}
	key := peerKey{p.app, to}
	r.mu.Lock()
	here := r.peers[key] != nil || r.waiting[key] != nil
	r.mu.Unlock()
	if here {
		return nil
	}
	if l, ok := r.cfg.Remote(p.app, to); ok && l != nil && l.r == r {
		return l
	}
	return nil
}

// Close tells the relay that the peer's data channel is gone (or its
// session ended): transfers it was sending are cancelled at their
// receivers (CANCEL by node, code 1000), transfers it was receiving fail
// at their senders (RESULT 1000). Close is idempotent.
func (p *RelayChannel) Close() {
	r := p.r
	var b batch
	r.mu.Lock()
	r.closeLocked(p, &b)
	r.mu.Unlock()
	p.qmu.Lock()
	p.queue = nil
	p.qmu.Unlock()
	b.flush()
}

func (r *Relay) closeLocked(p *RelayChannel, b *batch) {
	if p.closed {
		return
	}
	p.closed = true
	if r.peers[peerKey{p.app, p.user}] == p {
		delete(r.peers, peerKey{p.app, p.user})
	}
	for _, t := range p.out {
		r.failLocked(t, protocol.SendFail, b)
	}
	for _, t := range p.in {
		r.failLocked(t, protocol.SendFail, b)
	}
}

// retireLocked ends a stand-in's wait, if it still stands in for its
// user; it reports whether it did.
func (r *Relay) retireLocked(w *RelayChannel) bool {
	key := peerKey{w.app, w.user}
	if r.waiting[key] != w {
		return false
	}
	delete(r.waiting, key)
	w.wait.Stop()
	w.closed = true
	return true
}

// standIn reports whether p stands in for a channel still awaited.
func (p *RelayChannel) standIn() bool { return p.send == nil }

// batch collects the peers that got frames while the relay lock was held,
// to flush them after it is released, and the users to wake.
type batch struct{ peers, wakes []*RelayChannel }

func (b *batch) send(to *RelayChannel, frame []byte, t *relayTask) {
	if to.closed { // read under Relay.mu, as every caller holds it
		return
	}
	to.qmu.Lock()
	to.queue = append(to.queue, queued{frame: frame, task: t})
	to.qmu.Unlock()
	for _, p := range b.peers {
		if p == to {
			return
		}
	}
	b.peers = append(b.peers, to)
}

func (b *batch) flush() {
	for _, p := range b.peers {
		p.flush()
	}
	for _, w := range b.wakes {
		if !w.r.cfg.Wake(w.app, w.user) {
			w.r.giveUp(w)
		}
	}
}

// flush sends the peer's queue in order. Whoever finds the queue being
// flushed leaves its frames to that flusher, so nobody waits and the
// order in which frames were queued (under the relay lock) is kept.
func (p *RelayChannel) flush() {
	p.qmu.Lock()
	if p.flushing || !p.ready {
		p.qmu.Unlock()
		return
	}
	p.flushing = true
	for len(p.queue) > 0 {
		q := p.queue[0]
		p.queue[0] = queued{}
		p.queue = p.queue[1:]
		p.qmu.Unlock()
		if err := p.send(q.frame); err != nil {
			p.r.log.Debug("datachannel: relay send failed", "user", p.user, "err", err)
			p.r.sendFailed(q.task)
		}
		p.qmu.Lock()
	}
	p.flushing = false
	p.qmu.Unlock()
}

// sendFailed fails the task whose frame could not be sent.
func (r *Relay) sendFailed(t *relayTask) {
	if t == nil {
		return
	}
	var b batch
	r.mu.Lock()
	if !t.done {
		r.failLocked(t, protocol.SendFail, &b)
	}
	r.mu.Unlock()
	b.flush()
}
