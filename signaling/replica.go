package signaling

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// Cluster is the log that the nodes of one service share (package
// cluster implements it on a Redis stream). Every change of an app's
// shared state (logins and logoffs, DND, nicknames, meetings and their
// members, calls and invites, queues) is appended to it, and every node
// applies every change, in log order, to its own copy of the state: the
// copies agree because the changes are applied in one order by the same
// code. Each node then sends the events a change causes to the sessions
// it holds, so a watcher or a caller hears each event once, from its own
// node. Without a Cluster (one node) a change is applied at once, under
// the app's lock, exactly as before.
type Cluster interface {
	// NodeID names this node in the log; it is new at every start.
	NodeID() string
	// Append adds an entry at the end of the log.
	Append(ctx context.Context, entry []byte) error
	// Follow calls fn with every entry of the log after position after
	// ("": from the first), in order, with its position, on one
	// goroutine, until ctx ends; at is when the log took the entry, on
	// the log's clock. If entries after after are gone (the log was
	// trimmed after a snapshot), it returns an error with a method
	// LogTrimmed().
	Follow(ctx context.Context, after string, fn func(pos string, at time.Time, entry []byte)) error
	// Snapshot returns the newest saved snapshot and the position of the
	// last entry it includes; "", nil, nil when there is none.
	Snapshot(ctx context.Context) (pos string, state []byte, err error)
	// SaveSnapshot keeps state as the state after the entry at pos, if
	// pos is newer than the saved one's; the log before pos may then be
	// dropped, as a node that joins starts from the snapshot.
	SaveSnapshot(ctx context.Context, pos string, state []byte) error
}

// change is one entry of the log: a change of app App's shared state, made
// by session Sess of node Node (0: made by the node itself, as a timer
// that fired). Kind names its applier in appliers; P is its parameters.
type change struct {
	Kind string          `json:"k"`
	App  string          `json:"a"`
	User protocol.UserID `json:"u,omitempty"`
	Node string          `json:"n"`
	Sess uint64          `json:"s,omitempty"`
	Ref  uint64          `json:"r,omitempty"` // the origin's waiter
	At   int64           `json:"t"`           // Unix milliseconds on the origin's clock
	// Void, for a change a user waits for, is when its origin stops
	// waiting for the log to take it (Unix milliseconds): one the log
	// took later is void on every node, as its user was told 8.
	Void int64           `json:"v,omitempty"`
	P    json.RawMessage `json:"p,omitempty"`
}

// applied is a change as an applier sees it.
type applied struct {
	kind  string
	node  string          // the node that made it
	sess  uint64          // the session that made it, on that node
	u     *user           // the user it concerns (nil for none)
	s     *session        // the session that made it, on its own node; nil elsewhere
	local bool            // made on this node
	at    time.Time       // when, on the origin's clock
	val   any             // the parameters, on one node (a pointer)
	raw   json.RawMessage // the parameters, from the log
	ob    *outbox
	after []func() // run after the lock is released
}

// param returns an applied change's parameters as a *P.
func param[P any](x *applied) *P {
	if x.val != nil {
		return x.val.(*P)
	}
	p := new(P)
	if len(x.raw) > 0 {
		_ = json.Unmarshal(x.raw, p) // written by the node's own code
	}
	return p
}

// then runs fn after the app's lock is released and the change's events
// are sent.
func (x *applied) then(fn func()) { x.after = append(x.after, fn) }

type applier struct {
	fn func(a *app, x *applied) (any, *protocol.Error)
	// bySession: made by a logged-in session, which must still be the
	// user's session when the change is applied (12 otherwise).
	bySession bool
}

// appliers are the changes of the shared state, by kind.
var appliers = map[string]applier{}

func registerChange(kind string, bySession bool, fn func(a *app, x *applied) (any, *protocol.Error)) {
	if _, dup := appliers[kind]; dup {
		panic("signaling: change " + kind + " registered twice")
	}
	appliers[kind] = applier{fn: fn, bySession: bySession}
}

// errClusterDown answers a change the log could not take.
func errClusterDown() *protocol.Error {
	return protocol.Errorf(protocol.ServerException, "cluster state unavailable")
}

// replication is the Server's side of the log.
type replication struct {
	c    Cluster
	node string
	refs atomic.Uint64

	mu       sync.Mutex
	waiters  map[uint64]*waiter
	pending  [][]byte // changes nobody waits for, to append again
	retrying bool
	stopped  bool            // no more appends: the node has left
	ctx      context.Context // ends when the node stops following
	cancel   context.CancelFunc
	done     chan struct{}
	wg       sync.WaitGroup // retries and snapshot saves
	logTime  atomic.Int64   // the log's time of the last entry applied (Unix ms)

	// On the goroutine that follows the log.
	pos       string        // the last entry applied
	entries   atomic.Uint64 // entries applied since the log began (snapshots carry it)
	snapEvery uint64
	saving    atomic.Bool // a snapshot is being saved
}

type waiter struct {
	s    *session
	done chan result
}

type result struct {
	res any
	e   *protocol.Error
}

// applyWait bounds how long a request waits for its change, once in the
// log, to come back through it; a node that lags more ends the session.
// Nanoseconds, changed by tests.
var applyWait atomic.Int64

func init() { applyWait.Store(int64(30 * time.Second)) }

// A request's change that the log has not taken within appendTimeout is
// refused with 8. A write that timed out may still reach the log (Redis
// hung, and ran it once it went on), so every node voids a change the
// log took more than voidAfter after it was made: the margin between the
// two is what the log's clock may be behind the node's (docs/architecture.md,
// "Several nodes").
const (
	appendTimeout = 2 * time.Second
	voidAfter     = 1500 * time.Millisecond
)

// exec makes a change of a's shared state on behalf of session s (nil
// for the node itself) and returns what its applier returned. With one
// node it is applied at once; in a cluster it goes through the log and
// exec waits until this node has applied it, so that the session's own
// events come before its answer, as with one node.
func (a *app) exec(s *session, kind string, user protocol.UserID, p any) (any, *protocol.Error) {
	ap, ok := appliers[kind]
	if !ok {
		panic("signaling: unknown change " + kind)
	}
	r := a.srv.repl
	if r == nil {
		x := &applied{kind: kind, s: s, local: true, at: time.Now(), val: p, ob: &outbox{}}
		if s != nil {
			x.sess = s.serial
		}
		a.mu.Lock()
		if user != "" {
			x.u = a.userLocked(user)
		}
		if ap.bySession && (s == nil || x.u.sess != s) {
			a.mu.Unlock()
			return nil, protocol.Errorf(protocol.NotLogin, "this session was logged off")
		}
		a.seq++
		a.origin = true
		res, e := ap.fn(a, x)
		a.mu.Unlock()
		x.finish()
		return res, e
	}
	return r.send(a, s, kind, user, p, true)
}

// execAsync makes a change without waiting for it: for what runs on the
// log's own goroutine, or on a timer.
func (a *app) execAsync(s *session, kind string, user protocol.UserID, p any) {
	if a.srv.repl == nil {
		_, _ = a.exec(s, kind, user, p)
		return
	}
	_, _ = a.srv.repl.send(a, s, kind, user, p, false)
}

func (x *applied) finish() {
	x.ob.flush()
	for _, fn := range x.after {
		fn()
	}
}

func (r *replication) send(a *app, s *session, kind string, user protocol.UserID, p any, wait bool) (any, *protocol.Error) {
	ch := change{Kind: kind, App: a.cfg.ID, User: user, Node: r.node, At: time.Now().UnixMilli()}
	if s != nil {
		ch.Sess = s.serial
	}
	if p != nil {
		b, err := json.Marshal(p)
		if err != nil {
			panic(err) // the node's own parameter types always encode
		}
		ch.P = b
	}
	if wait {
		ch.Void = ch.At + voidAfter.Milliseconds()
	}
	var w *waiter
	if wait || s != nil {
		ch.Ref = r.refs.Add(1)
		w = &waiter{s: s}
		if wait {
			w.done = make(chan result, 1)
		}
		r.mu.Lock()
		r.waiters[ch.Ref] = w
		r.mu.Unlock()
	}
	entry, _ := json.Marshal(ch)
	if !wait {
		r.appendAsync(a.srv, kind, entry)
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), appendTimeout)
	err := r.c.Append(ctx, entry)
	cancel()
	if err != nil {
		a.srv.log.Error("cluster: append", "kind", kind, "err", err)
		return r.await(a, s, w, &ch, true)
	}
	// The log has it: its outcome is decided, and this node will read it.
	return r.await(a, s, w, &ch, false)
}

// await waits for a request's change to come back through the log.
// uncertain says its append failed: Redis may still have taken it (a
// reply lost in a partition, a Redis that hung and went on), and then it
// counts unless the log took it after its void time. So 8 is answered
// only on proof that it cannot count: the node has applied an entry the
// log took after the void time (the log is in its own time order). A
// marker appended meanwhile moves the log past that time once Redis
// takes changes again. A node that cannot tell within applyWait ends the
// session rather than answer what may be false; so does one stopping.
func (r *replication) await(a *app, s *session, w *waiter, ch *change, uncertain bool) (any, *protocol.Error) {
	var tick <-chan time.Time // nil: a change the log has waits for itself
	if uncertain {
		r.appendAsync(a.srv, changeMark, r.markEntry(a))
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	wait := time.Duration(applyWait.Load())
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		select {
		case res := <-w.done:
			return res.res, res.e
		case <-tick:
			if r.logTime.Load() <= ch.Void {
				continue
			}
		case <-deadline.C:
			a.srv.log.Error("cluster: this node did not learn the outcome of its own change in time; the session ends", "kind", ch.Kind, "wait", wait)
			if s != nil {
				go s.finish(protocol.ConnectionLost)
			}
		case <-r.ctx.Done():
		}
		if !r.forget(ch.Ref) {
			res := <-w.done // being applied now
			return res.res, res.e
		}
		return nil, errClusterDown()
	}
}

// changeMark changes nothing: it moves the log on (await).
const changeMark = "mark"

func (r *replication) markEntry(a *app) []byte {
	b, _ := json.Marshal(change{Kind: changeMark, App: a.cfg.ID, Node: r.node, At: time.Now().UnixMilli()})
	return b
}

// appendAsync appends a change nobody waits for (a logoff, a timer's,
// a node's own): one that Redis refuses is kept and appended again, in
// order, until Redis takes it, for what it stands for has happened (a
// connection closed, a timer fired). Such changes are fenced (by session
// or by generation), so one that comes late or twice changes nothing
// that has moved on.
func (r *replication) appendAsync(srv *Server, kind string, entry []byte) {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return // the node has told the others it is down
	}
	if r.retrying {
		r.pending = append(r.pending, entry)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.ctx, appendTimeout)
	err := r.c.Append(ctx, entry)
	cancel()
	if err == nil {
		return
	}
	srv.log.Warn("cluster: append; kept to try again", "kind", kind, "err", err)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	r.pending = append(r.pending, entry)
	if !r.retrying {
		r.retrying = true
		r.wg.Add(1) // under r.mu, which stopCluster takes before Wait
		go r.retry(srv)
	}
}

// retry appends the kept changes in order until none is left, or the
// node stops following the log.
func (r *replication) retry(srv *Server) {
	defer r.wg.Done()
	backoff := 100 * time.Millisecond
	for {
		r.mu.Lock()
		if len(r.pending) == 0 {
			r.retrying = false
			r.mu.Unlock()
			return
		}
		entry := r.pending[0]
		r.mu.Unlock()
		select {
		case <-r.ctx.Done():
			r.mu.Lock()
			srv.log.Error("cluster: changes not appended before the node stopped", "count", len(r.pending))
			r.pending, r.retrying = nil, false
			r.mu.Unlock()
			return
		case <-time.After(backoff):
		}
		ctx, cancel := context.WithTimeout(r.ctx, appendTimeout)
		err := r.c.Append(ctx, entry)
		cancel()
		if err != nil {
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		r.mu.Lock()
		r.pending = r.pending[1:]
		r.mu.Unlock()
	}
}

// forget drops a waiter; it reports whether it was still there (not
// taken by the change being applied).
func (r *replication) forget(ref uint64) bool {
	if ref == 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.waiters[ref]
	delete(r.waiters, ref)
	return ok
}

// follow applies the log's entries until ctx ends.
func (srv *Server) follow(ctx context.Context) {
	r := srv.repl
	defer close(r.done)
	for ctx.Err() == nil {
		err := r.c.Follow(ctx, r.pos, func(pos string, at time.Time, entry []byte) {
			origin := srv.applyEntry(entry, at)
			r.logTime.Store(at.UnixMilli())
			r.pos = pos
			if r.entries.Add(1)%r.snapEvery == 0 && origin == r.node {
				srv.saveSnapshot(ctx)
			}
		})
		if ctx.Err() != nil {
			return
		}
		var trimmed interface{ LogTrimmed() }
		if errors.As(err, &trimmed) {
			srv.log.Error("cluster: this node's place in the log is gone; its sessions end, and it starts again from the newest snapshot", "pos", r.pos, "err", err)
			if err = srv.resync(ctx); err == nil {
				continue
			}
		}
		srv.log.Error("cluster: following the log", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// applyEntry applies one entry of the log, taken by the log at at, and
// returns the node that made it.
func (srv *Server) applyEntry(entry []byte, at time.Time) string {
	r := srv.repl
	var ch change
	if err := json.Unmarshal(entry, &ch); err != nil {
		srv.log.Error("cluster: an entry of the log is not a change", "err", err)
		return ""
	}
	local := ch.Node == r.node
	var w *waiter
	if local && ch.Ref != 0 {
		r.mu.Lock()
		w = r.waiters[ch.Ref]
		delete(r.waiters, ch.Ref)
		r.mu.Unlock()
	}
	var res any
	var e *protocol.Error
	if ch.Void != 0 && at.UnixMilli() > ch.Void {
		// The same test on every node, of two times the entry carries.
		srv.log.Warn("cluster: a change the log took too late is void", "kind", ch.Kind, "late", at.Sub(time.UnixMilli(ch.Void)))
		e = errClusterDown()
	} else {
		res, e = srv.applyChange(&ch, local, w)
	}
	if w != nil && w.done != nil {
		w.done <- result{res, e}
	}
	return ch.Node
}

// resync starts the node's copy again from the newest snapshot (or from
// nothing, for a new log), for a node whose place in the log is gone: a
// whole snapshot interval behind, or a log Redis lost. Its sessions end
// first (their
// logoffs are in the log after the snapshot, fenced as any): what the
// node told them may disagree with the copy it now takes.
func (srv *Server) resync(ctx context.Context) error {
	r := srv.repl
	for _, a := range srv.apps {
		a.mu.Lock()
		var mine []*session
		for _, u := range a.users {
			if localSession(u.sess) {
				mine = append(mine, u.sess)
			}
			if u.media != nil { // the restored copy has users of its own
				u.media.Close()
				u.media = nil
			}
		}
		a.mu.Unlock()
		lineOff := encodeEvent(protocol.EventLineOff, protocol.LineOff{SdkEr: protocol.ConnectionLost})
		for _, s := range mine {
			s.send(lineOff)
			s.finish(protocol.ConnectionLost)
		}
		a.stopTimers()
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pos, state, err := r.c.Snapshot(sctx)
	if err != nil {
		return fmt.Errorf("reading the snapshot: %w", err)
	}
	var n uint64
	if state == nil { // a log that is new (Redis lost its data): nothing to start from
		for _, a := range srv.apps {
			a.mu.Lock()
			err = a.restoreLocked(&snapApp{ID: a.cfg.ID})
			a.mu.Unlock()
			if err != nil {
				return err
			}
		}
	} else if n, err = srv.restore(state); err != nil {
		return err
	}
	r.pos = pos
	r.entries.Store(n)
	return nil
}

// saveSnapshot saves the state as of the entry just applied. One node
// takes each snapshot: the one that made the entry that reached the
// count, so that the nodes need not agree on who does. A snapshot still
// being saved makes this one wait for the next count.
func (srv *Server) saveSnapshot(ctx context.Context) {
	r := srv.repl
	if !r.saving.CompareAndSwap(false, true) {
		return
	}
	pos, state := r.pos, srv.snapshot()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer r.saving.Store(false)
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := r.c.SaveSnapshot(ctx, pos, state); err != nil {
			srv.log.Warn("cluster: saving a snapshot", "pos", pos, "err", err)
			return
		}
		srv.log.Debug("cluster: snapshot saved", "pos", pos, "bytes", len(state))
	}()
}

func (srv *Server) applyChange(ch *change, local bool, w *waiter) (res any, e *protocol.Error) {
	a := srv.apps[ch.App]
	ap, ok := appliers[ch.Kind]
	if a == nil || !ok {
		// Nodes of one service share their configuration; a node that
		// does not know an app or a change is of another version.
		srv.log.Error("cluster: a change this node cannot apply", "app", ch.App, "kind", ch.Kind)
		return nil, protocol.Errorf(protocol.ServerException, "this node cannot apply %q", ch.Kind)
	}
	x := &applied{kind: ch.Kind, node: ch.Node, sess: ch.Sess, local: local, at: time.UnixMilli(ch.At), raw: ch.P, ob: &outbox{}}
	if w != nil {
		x.s = w.s
	}
	defer func() {
		if p := recover(); p != nil {
			srv.log.Error("cluster: a change failed", "kind", ch.Kind, "panic", p)
			res, e = nil, protocol.Errorf(protocol.InnerErr, "internal error")
		}
	}()
	a.mu.Lock()
	if ch.User != "" {
		x.u = a.userLocked(ch.User)
	}
	if ap.bySession && !x.u.heldBy(ch.Node, ch.Sess) {
		a.mu.Unlock()
		return nil, protocol.Errorf(protocol.NotLogin, "this session was logged off")
	}
	a.seq++
	a.origin = local
	res, e = ap.fn(a, x)
	a.mu.Unlock()
	x.finish()
	return res, e
}

// heldBy reports whether u's session is session sess of node.
func (u *user) heldBy(node string, sess uint64) bool {
	return u != nil && u.sess != nil && u.sess.serial == sess && u.sess.node == node
}

// startCluster joins the log: it applies what is there and goes on
// following it. New waits until the node has caught up, so that it
// serves nobody with an old copy of the state.
func (srv *Server) startCluster(c Cluster, snapEvery int) error {
	r := &replication{c: c, node: c.NodeID(), waiters: map[uint64]*waiter{}, done: make(chan struct{}),
		snapEvery: uint64(cmp.Or(snapEvery, DefaultSnapshotEvery))}
	srv.repl = r
	ctx, cancel := context.WithCancel(context.Background())
	r.ctx, r.cancel = ctx, cancel
	// The newest snapshot, if there is one, then the log after it.
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	pos, state, err := c.Snapshot(sctx)
	scancel()
	if err != nil {
		cancel()
		return fmt.Errorf("signaling: reading the cluster's snapshot: %w", err)
	}
	if state != nil {
		n, err := srv.restore(state)
		if err != nil {
			cancel()
			return err
		}
		r.entries.Store(n)
		r.pos = pos
	}
	// Catching up: a marker appended now is applied after everything
	// that came before it.
	marker := make(chan struct{})
	var once sync.Once
	srv.caughtUp = func() { once.Do(func() { close(marker) }) }
	go srv.follow(ctx)
	for _, a := range srv.apps {
		a.execAsync(nil, changeCaughtUp, "", &caughtUpParams{Node: r.node})
		break
	}
	select {
	case <-marker:
		return nil
	case <-time.After(30 * time.Second):
		cancel()
		<-r.done
		return errors.New("signaling: the cluster's log was not read within 30 s")
	}
}

// stopCluster stops following the log.
func (srv *Server) stopCluster() {
	if r := srv.repl; r != nil && r.cancel != nil {
		r.mu.Lock()
		r.stopped = true
		r.mu.Unlock()
		r.cancel()
		<-r.done
		r.wg.Wait()
	}
}

// DefaultSnapshotEvery is how many entries of the log a snapshot is
// taken after, where Config.SnapshotEvery is zero.
const DefaultSnapshotEvery = 10000

const changeCaughtUp = "caughtUp"

type caughtUpParams struct {
	Node string `json:"node"`
}

// NodeDown logs off, on every node, the users whose sessions node id
// held: called by the node that found id's heartbeat gone, and by a node
// that stops, for itself. It returns once the log has taken the change
// (retried for up to 5 s), or with an error.
func (srv *Server) NodeDown(id string) error {
	r := srv.repl
	if r == nil {
		return nil
	}
	p, _ := json.Marshal(&nodeDownParams{Node: id})
	for _, a := range srv.apps {
		entry, _ := json.Marshal(change{Kind: changeNodeDown, App: a.cfg.ID, Node: r.node, At: time.Now().UnixMilli(), P: p})
		deadline := time.Now().Add(5 * time.Second)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), appendTimeout)
			err := r.c.Append(ctx, entry)
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%w: node %s down: %v", ErrClusterLeave, id, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

// ErrClusterLeave is what Shutdown returns when the node could not tell
// the others that its users are offline: its heartbeat must then expire
// for them to find out (cluster.Cluster.Abandon rather than Close).
var ErrClusterLeave = errors.New("signaling: the cluster's log did not take the change")

const changeNodeDown = "nodeDown"

type nodeDownParams struct {
	Node string `json:"node"`
}

func init() {
	registerChange(changeMark, false, func(*app, *applied) (any, *protocol.Error) { return nil, nil })
	registerChange(changeCaughtUp, false, func(a *app, x *applied) (any, *protocol.Error) {
		if p := param[caughtUpParams](x); x.local && p.Node == a.srv.repl.node && a.srv.caughtUp != nil {
			x.then(a.srv.caughtUp)
		}
		return nil, nil
	})
	registerChange(changeNodeDown, false, func(a *app, x *applied) (any, *protocol.Error) {
		node := param[nodeDownParams](x).Node
		self := node == a.srv.repl.node
		for _, id := range slices.Sorted(maps.Keys(a.users)) { // one order on every node
			u := a.users[id]
			s := u.sess
			if s == nil || s.node != node {
				continue
			}
			delete(a.watchers, s)
			a.logoffLocked(u, x.ob)
			if self {
				// This node was taken for dead (it lost Redis for longer
				// than its heartbeat's lifetime): its sessions are over.
				x.ob.add(s, protocol.EventLineOff, protocol.LineOff{SdkEr: protocol.ConnectionLost})
				x.then(func() { s.finish(protocol.ConnectionLost) })
			}
		}
		return nil, nil
	})
}

// sessionChange registers a change made by a logged-in session: fn runs
// with the session's user and the request's parameters.
func sessionChange[P any](kind string, fn func(a *app, u *user, p *P, x *applied) (any, *protocol.Error)) {
	registerChange(kind, true, func(a *app, x *applied) (any, *protocol.Error) {
		return fn(a, x.u, param[P](x), x)
	})
}

// change makes a change registered with sessionChange for s's user.
func (s *session) change(kind string, p any) (any, *protocol.Error) {
	u := s.user
	if u == nil {
		return nil, protocol.Errorf(protocol.NotLogin, "not logged in")
	}
	return s.app.exec(s, kind, u.id, p)
}

// stub stands, on this node, for session sess of another node: what is
// sent to it goes nowhere (its own node sends it).
func (srv *Server) stub(node string, sess uint64) *session {
	return &session{srv: srv, node: node, serial: sess, stub: true, ended: true}
}

// UserNode tells which node of the cluster holds the session of user id
// of app appID (NodeID's value for this one), and false when the user is
// offline or unknown.
func (srv *Server) UserNode(appID string, id protocol.UserID) (string, bool) {
	a := srv.apps[appID]
	if a == nil {
		return "", false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if u := a.users[id]; u != nil && u.sess != nil {
		return u.sess.node, true
	}
	return "", false
}

// NodeID names this node in the cluster's log ("" on its own).
func (srv *Server) NodeID() string { return srv.nodeID() }

// localSession reports whether s is a session of this node.
func localSession(s *session) bool { return s != nil && !s.stub }

// nodeID names this node in the cluster's log ("" on its own).
func (srv *Server) nodeID() string {
	if srv.repl == nil {
		return ""
	}
	return srv.repl.node
}

// metrics counts what a change did on the node that made it only: the
// other nodes apply the same change, and must not count it again. nil
// (which counts nothing) elsewhere.
func (a *app) metrics() *metrics {
	if !a.origin {
		return nil
	}
	return a.srv.metrics
}

// stamp returns a number no other timer of the app had: what a timer's
// change names to tell its object from a later one of the same name.
func (a *app) stamp() uint64 {
	a.stamps++
	return a.stamps
}
