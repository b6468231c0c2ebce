package signaling

import (
	"cmp"
	"slices"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// queues is an app's customer service (the CRVideo queue component): its
// queues, the customers waiting in them, the agents serving them and the
// assignments between the two. It lives in memory under the app's mutex,
// like the rest of the app; the definitions come from the configuration.
// Every change ends in settleQueuesLocked, which gives free agents their
// customers and then tells whoever needs it what changed, as touchLocked
// does for presence.
type queues struct {
	cfg       QueueConfig    // with defaults
	list      []*queue       // in configuration order, as initQueueDat lists them
	order     []*queue       // in service order: prio, then queID
	byID      map[int]*queue // by queID
	agents    map[*user]*agent
	customers map[*user]*customer
	seq       uint64 // stamps of the agents' idle time
}

type queue struct {
	info    protocol.QueueInfo
	waiting []*customer        // the front is next
	shown   protocol.QueStatus // as last sent in queueStatusChanged
}

// customer is a user waiting in a queue. An assigned customer keeps its
// place until the agent accepts: a reject moves it to the front, a
// timeout leaves it where it was.
type customer struct {
	u     *user
	q     *queue
	since time.Time
	ext   string
	as    *assignment
	holds map[*user]*hold // agents not given this customer until their hold ends
	shown int             // the position last sent in queuingInfoChanged
}

// agent is a user serving queues. It is free when it is online, rings
// and talks in no call, holds no assignment and serves no accepted
// customer.
type agent struct {
	u       *user
	serving map[*queue]int // the queues it serves, with its priority in each (0 highest)
	idle    uint64         // stamp of when it last became free: smaller has waited longer
	as      *assignment    // the customer it was given, until it answers
	served  *served        // the customer it accepted, until their call ends
}

// assignment is a customer given to an agent who has not answered yet.
type assignment struct {
	c     *customer
	ag    *agent
	gen   uint64      // app.stamp, named by the timer's change
	timer *time.Timer // on the agent's node only
}

// hold keeps a customer from an agent who rejected it, for the hold time.
type hold struct {
	gen   uint64
	timer *time.Timer // on the customer's node only
}

// stop disarms a timer that this node may not hold.
func stop(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// served is the customer an agent accepted. The agent is not free until a
// call between the two has come and gone, or, if none comes, for the
// assignment time after the accept.
type served struct {
	q     *queue
	cust  *user
	gen   uint64
	timer *time.Timer // on the agent's node only
}

// Outcomes of assignments counted in crvnode_queue_assignments_total.
const (
	assignAccepted  = "accepted"
	assignRejected  = "rejected"
	assignTimeout   = "timeout"
	assignCancelled = "cancelled" // the customer or the agent went away first
)

func newQueues(cfg QueueConfig) *queues {
	qs := &queues{
		cfg:       cfg.withDefaults(),
		byID:      map[int]*queue{},
		agents:    map[*user]*agent{},
		customers: map[*user]*customer{},
	}
	for _, d := range cfg.Queues {
		q := &queue{info: protocol.QueueInfo{QueID: d.ID, Name: d.Name, Desc: d.Desc, Prio: d.Prio}}
		q.shown = protocol.QueStatus{QueID: d.ID}
		qs.list = append(qs.list, q)
		qs.byID[d.ID] = q
	}
	qs.order = slices.Clone(qs.list)
	slices.SortStableFunc(qs.order, func(x, y *queue) int {
		return cmp.Or(cmp.Compare(x.info.Prio, y.info.Prio), cmp.Compare(x.info.QueID, y.info.QueID))
	})
	return qs
}

func (qs *queues) queue(id int) (*queue, *protocol.Error) {
	if q := qs.byID[id]; q != nil {
		return q, nil
	}
	return nil, protocol.Errorf(protocol.QueueIDErr, "no queue %d", id)
}

func (qs *queues) statusLocked(q *queue) protocol.QueStatus {
	st := protocol.QueStatus{QueID: q.info.QueID, WaitNum: len(q.waiting)}
	for _, ag := range qs.agents {
		if _, ok := ag.serving[q]; ok {
			st.AgentNum++
		}
		if (ag.as != nil && ag.as.c.q == q) || (ag.served != nil && ag.served.q == q) {
			st.SrvNum++
		}
	}
	return st
}

func (qs *queues) allStatusLocked() []protocol.QueStatus {
	out := make([]protocol.QueStatus, 0, len(qs.list))
	for _, q := range qs.list {
		out = append(out, qs.statusLocked(q))
	}
	return out
}

func (q *queue) position(c *customer) int {
	return slices.Index(q.waiting, c) + 1
}

func (c *customer) info() protocol.QueuingInfo {
	return protocol.QueuingInfo{QueID: c.q.info.QueID, Position: c.q.position(c), QueuingTime: seconds(time.Since(c.since))}
}

func (c *customer) queUser() protocol.QueUser {
	return protocol.QueUser{QueID: c.q.info.QueID, UserID: c.u.id, NickName: c.u.nick,
		QueuingTime: seconds(time.Since(c.since)), UsrExtDat: c.ext}
}

func seconds(d time.Duration) int { return int(d / time.Second) }

// mayGo reports whether c may be given to ag: not to itself, and not to an
// agent who rejected it (or let it time out) within the hold time.
func (c *customer) mayGo(ag *agent) bool {
	return c.u != ag.u && c.holds[ag.u] == nil
}

func (ag *agent) free() bool {
	return ag.u.sess != nil && ag.as == nil && ag.served == nil && !ag.u.busy()
}

// before reports whether ag gets a customer of q before o: the smaller
// priority, then the longer idle, then the smaller userID.
func (ag *agent) before(o *agent, q *queue) bool {
	if c := cmp.Compare(ag.serving[q], o.serving[q]); c != 0 {
		return c < 0
	}
	if ag.idle != o.idle {
		return ag.idle < o.idle
	}
	return ag.u.id < o.u.id
}

func (qs *queues) stampIdle(ag *agent) {
	qs.seq++
	ag.idle = qs.seq
}

// settleQueuesLocked gives every free agent with DND off the customer it
// is due, then sends queueStatusChanged for every queue whose counts
// changed and queuingInfoChanged to every customer whose position did.
func (a *app) settleQueuesLocked(ob *outbox) {
	a.autoAssignLocked(ob)
	a.publishQueuesLocked(ob)
}

// autoAssignLocked walks the queues in service order and their customers
// front first; each customer not yet assigned goes to the best free agent
// serving its queue that may have it.
func (a *app) autoAssignLocked(ob *outbox) {
	qs := a.queues
	var free []*agent
	for _, ag := range qs.agents {
		if ag.u.dnd == 0 && ag.free() {
			free = append(free, ag)
		}
	}
	for _, q := range qs.order {
		for _, c := range q.waiting {
			if len(free) == 0 {
				return
			}
			if c.as != nil {
				continue
			}
			best := -1
			for i, ag := range free {
				if _, serves := ag.serving[q]; serves && c.mayGo(ag) && (best < 0 || ag.before(free[best], q)) {
					best = i
				}
			}
			if best >= 0 {
				ag := free[best]
				free = slices.Delete(free, best, best+1)
				a.assignLocked(c, ag)
				ob.addUser(ag.u, protocol.EventAutoAssignUser, c.queUser())
			}
		}
	}
}

func (a *app) publishQueuesLocked(ob *outbox) {
	qs := a.queues
	for _, q := range qs.list {
		if st := qs.statusLocked(q); st != q.shown {
			q.shown = st
			var to []*session
			for _, ag := range qs.agents {
				if _, ok := ag.serving[q]; ok && ag.u.sess != nil {
					to = append(to, ag.u.sess)
				}
			}
			for _, c := range q.waiting {
				if c.u.sess != nil {
					to = append(to, c.u.sess)
				}
			}
			ob.addSessions(to, protocol.EventQueueStatusChanged, st)
		}
	}
	for _, q := range qs.list {
		for i, c := range q.waiting {
			if c.shown != i+1 {
				c.shown = i + 1
				ob.addUser(c.u, protocol.EventQueuingInfoChanged, c.info())
			}
		}
	}
}

// addSessions queues one event for several sessions, encoded once.
func (o *outbox) addSessions(to []*session, method string, params any) {
	if len(to) == 0 {
		return
	}
	b := encodeEvent(method, params)
	for _, s := range to {
		o.notes = append(o.notes, note{s, b})
	}
}

// assignLocked gives c to ag and arms the assignment's timeout. An agent
// who asked for a customer while still serving the one it accepted has
// moved on from it.
func (a *app) assignLocked(c *customer, ag *agent) {
	if ag.served != nil {
		a.releaseServedLocked(ag)
	}
	as := &assignment{c: c, ag: ag, gen: a.stamp()}
	c.as, ag.as = as, as
	if localSession(ag.u.sess) { // the agent's node owns the timer
		a.armAssignLocked(as)
	}
}

func (a *app) armAssignLocked(as *assignment) {
	p := &queueTimerParams{Cust: as.c.u.id, Gen: as.gen}
	as.timer = time.AfterFunc(a.queues.cfg.AssignTimeout, func() { a.execAsync(nil, changeAssignTimeout, "", p) })
}

// endAssignmentLocked ends as, whatever its outcome; the customer keeps
// its place.
func (a *app) endAssignmentLocked(as *assignment, outcome string) {
	stop(as.timer)
	as.c.as, as.ag.as = nil, nil
	a.metrics().queueAssignment(outcome)
}

// holdLocked keeps c from agent u for the hold time.
func (a *app) holdLocked(c *customer, u *user) {
	if h := c.holds[u]; h != nil {
		stop(h.timer)
	}
	h := &hold{gen: a.stamp()}
	if localSession(c.u.sess) { // the customer's node owns the timer
		a.armHoldLocked(c, u, h)
	}
	c.holds[u] = h
}

func (a *app) armHoldLocked(c *customer, agent *user, h *hold) {
	p := &queueTimerParams{Cust: c.u.id, Agent: agent.id, Gen: h.gen}
	h.timer = time.AfterFunc(a.queues.cfg.RejectHold, func() { a.execAsync(nil, changeHoldExpired, "", p) })
}

// serveLocked makes ag the agent serving c, whom it accepted.
func (a *app) serveLocked(ag *agent, c *customer) {
	sv := &served{q: c.q, cust: c.u, gen: a.stamp()}
	ag.served = sv
	if localSession(ag.u.sess) { // the agent's node owns the timer
		a.armServedLocked(ag, sv)
	}
}

func (a *app) armServedLocked(ag *agent, sv *served) {
	p := &queueTimerParams{Agent: ag.u.id, Gen: sv.gen}
	sv.timer = time.AfterFunc(a.queues.cfg.AssignTimeout, func() { a.execAsync(nil, changeServedTimeout, "", p) })
}

// The changes of the queues' timers, and what they name.
const (
	changeAssignTimeout = "assignTimeout"
	changeHoldExpired   = "holdExpired"
	changeServedTimeout = "servedTimeout"
)

type queueTimerParams struct {
	Cust  protocol.UserID `json:"cust,omitempty"`
	Agent protocol.UserID `json:"agent,omitempty"`
	Gen   uint64          `json:"gen"`
}

func init() {
	// assignTimeout ends an assignment nobody answered: the customer
	// waits on at its place, the agent is told (cancelAssignUser) and is
	// not given that customer again for the hold time.
	registerChange(changeAssignTimeout, false, func(a *app, x *applied) (any, *protocol.Error) {
		p := param[queueTimerParams](x)
		c := a.queues.customers[a.users[p.Cust]]
		if c == nil || c.as == nil || c.as.gen != p.Gen {
			return nil, nil
		}
		as := c.as
		a.endAssignmentLocked(as, assignTimeout)
		x.ob.addUser(as.ag.u, protocol.EventCancelAssignUser, protocol.CancelAssignUser{QueID: c.q.info.QueID, UserID: c.u.id})
		a.holdLocked(c, as.ag.u)
		a.settleQueuesLocked(x.ob)
		return nil, nil
	})
	registerChange(changeHoldExpired, false, func(a *app, x *applied) (any, *protocol.Error) {
		p := param[queueTimerParams](x)
		c := a.queues.customers[a.users[p.Cust]]
		ag := a.users[p.Agent]
		if c == nil || c.holds[ag] == nil || c.holds[ag].gen != p.Gen {
			return nil, nil
		}
		delete(c.holds, ag)
		a.settleQueuesLocked(x.ob)
		return nil, nil
	})
	// servedTimeout frees an agent that accepted a customer and never
	// called it: if no call between the two rings or runs, the agent is
	// free again.
	registerChange(changeServedTimeout, false, func(a *app, x *applied) (any, *protocol.Error) {
		p := param[queueTimerParams](x)
		ag := a.queues.agents[a.users[p.Agent]]
		if ag == nil || ag.served == nil || ag.served.gen != p.Gen || inCallWith(ag.u, ag.served.cust) {
			return nil, nil
		}
		a.releaseServedLocked(ag)
		a.settleQueuesLocked(x.ob)
		return nil, nil
	})
}

// removeCustomerLocked takes c out of its queue. If it was assigned, the
// agent is told (cancelAssignUser).
func (a *app) removeCustomerLocked(c *customer, ob *outbox) {
	if as := c.as; as != nil {
		a.endAssignmentLocked(as, assignCancelled)
		ob.addUser(as.ag.u, protocol.EventCancelAssignUser, protocol.CancelAssignUser{QueID: c.q.info.QueID, UserID: c.u.id})
	}
	c.q.waiting = slices.DeleteFunc(c.q.waiting, func(x *customer) bool { return x == c })
	for _, h := range c.holds {
		stop(h.timer)
	}
	c.holds = nil
	delete(a.queues.customers, c.u)
}

// stopServingLocked takes q from the queues ag serves. An assignment from
// q goes back (the customer keeps its place); a customer from q that ag
// accepted no longer counts as served. An agent serving no queue is no
// agent any more.
func (a *app) stopServingLocked(ag *agent, q *queue) {
	delete(ag.serving, q)
	if ag.as != nil && ag.as.c.q == q {
		a.endAssignmentLocked(ag.as, assignCancelled)
	}
	if ag.served != nil && ag.served.q == q {
		a.releaseServedLocked(ag)
	}
	if len(ag.serving) == 0 {
		delete(a.queues.agents, ag.u)
	}
}

func (a *app) releaseServedLocked(ag *agent) {
	stop(ag.served.timer)
	ag.served = nil
	a.queues.stampIdle(ag)
}

// inCallWith reports whether a call or invite (ringing or accepted) joins
// u and peer.
func inCallWith(u, peer *user) bool {
	for _, c := range u.calls {
		if c.caller == peer || c.callee == peer {
			return true
		}
	}
	return false
}

// leaveQueuesLocked takes u out of every queue, as customer and as agent,
// when its session ends (logout, disconnect, or a login elsewhere). It runs
// before u's calls end, so that u is no agent any more when they do.
func (a *app) leaveQueuesLocked(u *user, ob *outbox) {
	qs := a.queues
	if c := qs.customers[u]; c != nil {
		a.removeCustomerLocked(c, ob)
	}
	if ag := qs.agents[u]; ag != nil {
		for q := range ag.serving {
			a.stopServingLocked(ag, q)
		}
	}
	for _, ag := range qs.sortedAgents() { // in one order on every node: releasing stamps idle times
		if ag.served != nil && ag.served.cust == u {
			a.releaseServedLocked(ag) // its customer is gone before (or while) their call ends
		}
	}
	a.settleQueuesLocked(ob)
}

// queueCallEndedLocked runs when a call or invite ends: an agent that
// served the other side is free again, and an agent that was busy in it
// may be; either may be given the next customer.
func (a *app) queueCallEndedLocked(c *call, ob *outbox) {
	qs := a.queues
	for _, pair := range [2][2]*user{{c.caller, c.callee}, {c.callee, c.caller}} {
		ag := qs.agents[pair[0]]
		if ag == nil {
			continue
		}
		if ag.served != nil && ag.served.cust == pair[1] {
			a.releaseServedLocked(ag)
		} else if ag.free() {
			qs.stampIdle(ag)
		}
	}
	a.settleQueuesLocked(ob)
}

// stopQueueTimersLocked disarms every assignment, hold and served timer
// (at shutdown).
func (a *app) stopQueueTimersLocked() {
	for _, c := range a.queues.customers {
		if c.as != nil {
			stop(c.as.timer)
		}
		for _, h := range c.holds {
			stop(h.timer)
		}
	}
	for _, ag := range a.queues.agents {
		if ag.served != nil {
			stop(ag.served.timer)
		}
	}
}

// sortedAgents lists the agents by userID.
func (qs *queues) sortedAgents() []*agent {
	out := make([]*agent, 0, len(qs.agents))
	for _, ag := range qs.agents {
		out = append(out, ag)
	}
	slices.SortFunc(out, func(x, y *agent) int { return cmp.Compare(x.u.id, y.u.id) })
	return out
}
