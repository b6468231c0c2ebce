package signaling

import (
	"slices"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// The queue methods (docs/protocol/queues.md). Each runs under the app
// lock and ends in settleQueuesLocked, which assigns and tells.

func (s *session) initQueueDat(*protocol.Empty) (any, *protocol.Error) {
	return s.locked(func(a *app, u *user, _ *outbox) (any, *protocol.Error) {
		qs := a.queues
		res := protocol.InitQueueDatResult{
			Queues:   make([]protocol.QueueInfo, 0, len(qs.list)),
			Statuses: qs.allStatusLocked(),
			Serving:  []int{},
		}
		for _, q := range qs.list {
			res.Queues = append(res.Queues, q.info)
		}
		if c := qs.customers[u]; c != nil {
			res.Queuing = c.info()
		}
		if ag := qs.agents[u]; ag != nil {
			for q := range ag.serving {
				res.Serving = append(res.Serving, q.info.QueID)
			}
			slices.Sort(res.Serving)
		}
		return res, nil
	})
}

func (s *session) refreshAllQueueStatus(*protocol.Empty) (any, *protocol.Error) {
	return s.locked(func(a *app, _ *user, _ *outbox) (any, *protocol.Error) {
		return protocol.QueueStatusesResult{Statuses: a.queues.allStatusLocked()}, nil
	})
}

func (s *session) getQueueStatus(p *protocol.QueueIDParams) (any, *protocol.Error) {
	return s.locked(func(a *app, _ *user, _ *outbox) (any, *protocol.Error) {
		q, e := a.queues.queue(p.QueID)
		if e != nil {
			return nil, e
		}
		return a.queues.statusLocked(q), nil
	})
}

func (s *session) startQueuing(p *protocol.StartQueuingParams) (any, *protocol.Error) {
	if e := checkExtDat(p.UsrExtDat); e != nil {
		return nil, e
	}
	return s.change(changeStartQueuing, p)
}

func (s *session) stopQueuing(p *protocol.Empty) (any, *protocol.Error) {
	return s.change(changeStopQueuing, p)
}

func (s *session) startService(p *protocol.StartServiceParams) (any, *protocol.Error) {
	if p.Priority < 0 || p.Priority > protocol.MaxServicePriority {
		return nil, protocol.Errorf(protocol.ParamErr, "priority must be 0-%d", protocol.MaxServicePriority)
	}
	return s.change(changeStartService, p)
}

func (s *session) stopService(p *protocol.QueueIDParams) (any, *protocol.Error) {
	return s.change(changeStopService, p)
}

func (ag *agent) servingOK(q *queue) (int, bool) {
	if ag == nil {
		return 0, false
	}
	prio, ok := ag.serving[q]
	return prio, ok
}

// reqAssignUser gives the agent its next customer whatever its DND: the
// front customer it may have of the best queue it serves. An agent that
// already holds an assignment is given it again.
func (s *session) reqAssignUser(p *protocol.Empty) (any, *protocol.Error) {
	return s.change(changeReqAssignUser, p)
}

// assignmentFor finds the assignment of customer userID in queue queID
// that u's agent holds.
func (qs *queues) assignmentFor(u *user, queID int, userID protocol.UserID) (*assignment, *protocol.Error) {
	q, e := qs.queue(queID)
	if e != nil {
		return nil, e
	}
	ag := qs.agents[u]
	if ag == nil || ag.as == nil || ag.as.c.q != q || ag.as.c.u.id != userID {
		return nil, protocol.Errorf(protocol.QueueUserCancelled, "customer %q of queue %d is not assigned to you", userID, queID)
	}
	return ag.as, nil
}

// acceptAssignUser takes the customer out of its queue (it gets
// queuingInfoChanged with queID 0); the agent serves it until their call
// ends.
func (s *session) acceptAssignUser(p *protocol.AssignUserParams) (any, *protocol.Error) {
	return s.change(changeAcceptAssignUser, p)
}

// rejectAssignUser puts the customer back at the front of its queue and
// keeps it from this agent for the hold time.
func (s *session) rejectAssignUser(p *protocol.AssignUserParams) (any, *protocol.Error) {
	return s.change(changeRejectAssignUser, p)
}

// The changes of queues (replica.go).
const (
	changeStartQueuing     = "startQueuing"
	changeStopQueuing      = "stopQueuing"
	changeStartService     = "startService"
	changeStopService      = "stopService"
	changeReqAssignUser    = "reqAssignUser"
	changeAcceptAssignUser = "acceptAssignUser"
	changeRejectAssignUser = "rejectAssignUser"
)

func init() {
	sessionChange(changeStartQueuing, func(a *app, u *user, p *protocol.StartQueuingParams, x *applied) (any, *protocol.Error) {
		ob := x.ob
		qs := a.queues
		q, e := qs.queue(p.QueID)
		if e != nil {
			return nil, e
		}
		if c := qs.customers[u]; c != nil {
			return nil, protocol.Errorf(protocol.QueueAlreadyQueuing, "you are already queuing in queue %d", c.q.info.QueID)
		}
		c := &customer{u: u, q: q, since: x.at, ext: p.UsrExtDat, holds: map[*user]*hold{}}
		q.waiting = append(q.waiting, c)
		qs.customers[u] = c
		a.settleQueuesLocked(ob)
		return nil, nil
	})
	sessionChange(changeStopQueuing, func(a *app, u *user, p *protocol.Empty, x *applied) (any, *protocol.Error) {
		ob := x.ob
		c := a.queues.customers[u]
		if c == nil {
			return nil, protocol.Errorf(protocol.QueueNoUser, "you are not queuing")
		}
		a.removeCustomerLocked(c, ob)
		a.settleQueuesLocked(ob)
		return nil, nil
	})
	sessionChange(changeStartService, func(a *app, u *user, p *protocol.StartServiceParams, x *applied) (any, *protocol.Error) {
		ob := x.ob
		qs := a.queues
		q, e := qs.queue(p.QueID)
		if e != nil {
			return nil, e
		}
		ag := qs.agents[u]
		if ag == nil {
			ag = &agent{u: u, serving: map[*queue]int{}}
			qs.stampIdle(ag)
			qs.agents[u] = ag
		}
		ag.serving[q] = p.Priority
		a.settleQueuesLocked(ob)
		return nil, nil
	})
	sessionChange(changeStopService, func(a *app, u *user, p *protocol.QueueIDParams, x *applied) (any, *protocol.Error) {
		ob := x.ob
		qs := a.queues
		q, e := qs.queue(p.QueID)
		if e != nil {
			return nil, e
		}
		ag := qs.agents[u]
		if _, serves := ag.servingOK(q); !serves {
			return nil, protocol.Errorf(protocol.QueueServiceNotStart, "you do not serve queue %d", q.info.QueID)
		}
		a.stopServingLocked(ag, q)
		a.settleQueuesLocked(ob)
		return nil, nil
	})
	sessionChange(changeReqAssignUser, func(a *app, u *user, p *protocol.Empty, x *applied) (any, *protocol.Error) {
		ob := x.ob
		qs := a.queues
		ag := qs.agents[u]
		if ag == nil {
			return nil, protocol.Errorf(protocol.QueueServiceNotStart, "you serve no queue")
		}
		if ag.as != nil {
			return ag.as.c.queUser(), nil
		}
		for _, q := range qs.order {
			if _, serves := ag.serving[q]; !serves {
				continue
			}
			for _, c := range q.waiting {
				if c.as == nil && c.mayGo(ag) {
					a.assignLocked(c, ag)
					a.settleQueuesLocked(ob)
					return c.queUser(), nil
				}
			}
		}
		return nil, protocol.Errorf(protocol.QueueNoUser, "nobody is waiting for you")
	})
	sessionChange(changeAcceptAssignUser, func(a *app, u *user, p *protocol.AssignUserParams, x *applied) (any, *protocol.Error) {
		ob := x.ob
		as, e := a.queues.assignmentFor(u, p.QueID, p.UserID)
		if e != nil {
			return nil, e
		}
		c, ag := as.c, as.ag
		a.endAssignmentLocked(as, assignAccepted)
		a.metrics().queueWaited(time.Since(c.since))
		a.removeCustomerLocked(c, ob)
		ob.addUser(c.u, protocol.EventQueuingInfoChanged, protocol.QueuingInfo{})
		a.serveLocked(ag, c)
		a.settleQueuesLocked(ob)
		return nil, nil
	})
	sessionChange(changeRejectAssignUser, func(a *app, u *user, p *protocol.AssignUserParams, x *applied) (any, *protocol.Error) {
		ob := x.ob
		as, e := a.queues.assignmentFor(u, p.QueID, p.UserID)
		if e != nil {
			return nil, e
		}
		c := as.c
		a.endAssignmentLocked(as, assignRejected)
		c.q.waiting = slices.DeleteFunc(c.q.waiting, func(x *customer) bool { return x == c })
		c.q.waiting = slices.Insert(c.q.waiting, 0, c)
		a.holdLocked(c, u)
		a.settleQueuesLocked(ob)
		return nil, nil
	})
}
