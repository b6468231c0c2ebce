package signaling

import (
	"time"

	"github.com/crvnode/crvnode/protocol"
)

const maxExtDatLen = 16 << 10 // usrExtDat

// checkRing validates what call and invite have in common.
func checkRing(s *session, id string, callee protocol.UserID, ext string) *protocol.Error {
	switch {
	case !protocol.ValidClientID(id):
		return protocol.Errorf(protocol.ParamErr, "the ID must be 1-%d characters of [A-Za-z0-9._-]", protocol.MaxClientIDLen)
	case callee == "" || callee == s.user.id:
		return protocol.Errorf(protocol.ParamErr, "the called user must be another user")
	}
	return checkExtDat(ext)
}

// checkExtDat bounds the app's own data that a call event carries.
func checkExtDat(ext string) *protocol.Error {
	if len(ext) > maxExtDatLen {
		return protocol.Errorf(protocol.ParamErr, "usrExtDat is over %d bytes", maxExtDatLen)
	}
	return nil
}

// locked runs fn with the session's app locked and flushes its events after
// unlocking.
func (s *session) locked(fn func(a *app, u *user, ob *outbox) (any, *protocol.Error)) (any, *protocol.Error) {
	a, u, e := s.lock()
	if e != nil {
		return nil, e
	}
	var ob outbox
	res, e := fn(a, u, &ob)
	a.mu.Unlock()
	ob.flush()
	return res, e
}

func (s *session) call(p *protocol.CallParams) (any, *protocol.Error) {
	if e := checkRing(s, p.CallID, p.CalledUserID, p.UsrExtDat); e != nil {
		return nil, e
	}
	return s.change(changeCall, p)
}

func (s *session) invite(p *protocol.InviteParams, statusEvent string) (any, *protocol.Error) {
	if e := checkRing(s, p.InviteID, p.Called, p.UsrExtDat); e != nil {
		return nil, e
	}
	return s.change(changeInvite, &inviteParams{InviteParams: *p, Event: statusEvent})
}

// The changes of calls and invites (replica.go).
const (
	changeCall         = "call"
	changeInvite       = "invite"
	changeAcceptCall   = "acceptCall"
	changeRejectCall   = "rejectCall"
	changeHungupCall   = "hungupCall"
	changeCancelInvite = "cancelInvite"
	changeRingTimeout  = "ringTimeout"
)

type inviteParams struct {
	protocol.InviteParams
	Event string `json:"event"` // which status event the inviter reads
}

// ringTimeoutParams names the call whose timer fired, and which call of
// that ID it was.
type ringTimeoutParams struct {
	ID  string `json:"id"`
	Gen uint64 `json:"gen"`
}

func init() {
	sessionChange(changeCall, func(a *app, u *user, p *protocol.CallParams, x *applied) (any, *protocol.Error) {
		if u.busy() {
			return nil, protocol.Errorf(protocol.ErrCallExist, "you are already in a call")
		}
		c := &call{id: p.CallID, caller: u, meet: protocol.MeetInfo{}}
		if e := a.ringLocked(c, p.CalledUserID, p.MeetObj, p.UsrExtDat, x.ob); e != nil {
			return nil, e
		}
		return protocol.CallIDResult{CallID: c.id}, nil
	})
	sessionChange(changeInvite, func(a *app, u *user, p *inviteParams, x *applied) (any, *protocol.Error) {
		c := &call{id: p.InviteID, invite: true, statusEvent: p.Event, caller: u}
		meet := p.MeetObj
		if (meet == nil || meet.ID == 0) && u.meeting != nil {
			info := u.meeting.infoLocked() // invite into the inviter's meeting
			meet = &info
		}
		if e := a.ringLocked(c, p.Called, meet, p.UsrExtDat, x.ob); e != nil {
			return nil, e
		}
		x.ob.addUser(u, p.Event, protocol.NotifyInviteStatus{InviteID: c.id, Status: protocol.InviteRinging})
		return protocol.InviteIDResult{InviteID: c.id}, nil
	})
	sessionChange(changeAcceptCall, func(a *app, u *user, p *protocol.AcceptCallParams, x *applied) (any, *protocol.Error) {
		c, e := a.ringingFor(u, p.CallID)
		if e != nil {
			return nil, e
		}
		if p.MeetObj != nil && p.MeetObj.ID != 0 {
			if c.meet, e = a.resolveMeetLocked(p.MeetObj); e != nil {
				return nil, e
			}
		}
		c.accepted = true
		c.stopTimer()
		a.metrics().callEnded(c, outcomeAccepted)
		c.tellCaller(x.ob, protocol.InviteAccepted, protocol.EventNotifyCallAccepted, protocol.NotifyCallAccepted{
			CallID: c.id, MeetObj: c.meet, UsrExtDat: p.UsrExtDat,
		})
		return protocol.CallIDResult{CallID: c.id}, nil
	})
	sessionChange(changeRejectCall, func(a *app, u *user, p *protocol.CallActionParams, x *applied) (any, *protocol.Error) {
		c, e := a.ringingFor(u, p.CallID)
		if e != nil {
			return nil, e
		}
		a.removeCallLocked(c, x.ob)
		a.metrics().callEnded(c, outcomeRejected)
		c.tellCaller(x.ob, protocol.InviteRejected, protocol.EventNotifyCallRejected, protocol.NotifyCallRejected{
			CallID: c.id, SdkErr: protocol.ErrRefuse, UsrExtDat: p.UsrExtDat,
		})
		return protocol.CallIDResult{CallID: c.id}, nil
	})
	// hungupCall ends a call or invite from either side, ringing or accepted.
	sessionChange(changeHungupCall, func(a *app, u *user, p *protocol.CallActionParams, x *applied) (any, *protocol.Error) {
		c := a.calls[p.CallID]
		if c == nil || (c.caller != u && c.callee != u) {
			return nil, protocol.Errorf(protocol.InvalidCallID, "you are in no call %q", p.CallID)
		}
		a.endCallLocked(c, u, p.UsrExtDat, x.ob)
		return protocol.CallIDResult{CallID: c.id}, nil
	})
	// cancelInvite hangs up an invite the session's user made.
	sessionChange(changeCancelInvite, func(a *app, u *user, p *protocol.CancelInviteParams, x *applied) (any, *protocol.Error) {
		c := a.calls[p.InviteID]
		if c == nil || !c.invite || c.caller != u {
			return nil, protocol.Errorf(protocol.InvalidCallID, "you made no invite %q", p.InviteID)
		}
		a.endCallLocked(c, u, p.UsrExtDat, x.ob)
		return protocol.InviteIDResult{InviteID: c.id}, nil
	})
	// ringTimeout ends a call nobody answered: the caller hears 604 (or,
	// for an invite, status "no answer"), the callee stops ringing.
	registerChange(changeRingTimeout, false, func(a *app, x *applied) (any, *protocol.Error) {
		p := param[ringTimeoutParams](x)
		c := a.calls[p.ID]
		if c == nil || c.gen != p.Gen || c.accepted {
			return nil, nil // answered, ended or replaced before the timer's change came
		}
		a.removeCallLocked(c, x.ob)
		a.metrics().callEnded(c, outcomeNoAnswer)
		c.tellCaller(x.ob, protocol.InviteNoAnswer, protocol.EventNotifyCallRejected, protocol.NotifyCallRejected{
			CallID: c.id, SdkErr: protocol.ErrNoAnswer,
		})
		x.ob.addUser(c.callee, protocol.EventNotifyCallHungup, protocol.NotifyCallHungup{CallID: c.id})
		return nil, nil
	})
}

// ringLocked checks the callee and the meeting, registers c and rings the
// callee with notifyCallIn. It arms the no-answer timer.
func (a *app) ringLocked(c *call, calleeID protocol.UserID, meetObj *protocol.MeetInfo, ext string, ob *outbox) *protocol.Error {
	if a.calls[c.id] != nil {
		return protocol.Errorf(protocol.ParamErr, "ID %q is already in use", c.id)
	}
	callee := a.users[calleeID]
	switch {
	case callee == nil:
		return protocol.Errorf(protocol.ErrUserNotFound, "no user %q", calleeID)
	case callee.sess == nil:
		return protocol.Errorf(protocol.ErrOffline, "user %q is offline", calleeID)
	case callee.busy():
		return protocol.Errorf(protocol.ErrBusy, "user %q is busy", calleeID)
	case callee.dnd != 0:
		return protocol.Errorf(protocol.ErrBusy, "user %q does not want to be disturbed", calleeID)
	}
	meet, e := a.resolveMeetLocked(meetObj)
	if e != nil {
		return e
	}
	c.callee, c.meet = callee, meet
	a.calls[c.id] = c
	c.caller.calls[c.id] = c
	callee.calls[c.id] = c
	c.gen = a.stamp()
	if localSession(c.caller.sess) {
		// The caller's node owns the timer: if that node goes, so does
		// the caller, and the call with it.
		a.armRingLocked(c)
	}
	ob.addUser(callee, protocol.EventNotifyCallIn, protocol.NotifyCallIn{
		CallID: c.id, MeetObj: meet, CallerID: c.caller.id, UsrExtDat: ext,
	})
	a.touchLocked(c.caller, ob)
	a.touchLocked(callee, ob)
	return nil
}

// armRingLocked arms the ringing timeout of c, on its caller's node.
func (a *app) armRingLocked(c *call) {
	p := &ringTimeoutParams{ID: c.id, Gen: c.gen}
	c.timer = time.AfterFunc(a.srv.cfg.Limits.CallTimeout, func() { a.execAsync(nil, changeRingTimeout, "", p) })
}

// resolveMeetLocked turns the meetObj a client sent into the node's own
// record of that meeting. No meetObj, or ID 0, means no meeting. A client
// must know a meeting's password to pass it on.
func (a *app) resolveMeetLocked(mo *protocol.MeetInfo) (protocol.MeetInfo, *protocol.Error) {
	if mo == nil || mo.ID == 0 {
		return protocol.MeetInfo{}, nil
	}
	m := a.meetings[mo.ID]
	if m == nil {
		return protocol.MeetInfo{}, protocol.Errorf(protocol.MeetNotExist, "no meeting %d", mo.ID)
	}
	if !equalSecret(m.info.Pswd, mo.Pswd) {
		return protocol.MeetInfo{}, protocol.Errorf(protocol.AuthError, "wrong password for meeting %d", mo.ID)
	}
	return m.infoLocked(), nil
}

// ringingFor finds the call or invite id that rings u.
func (a *app) ringingFor(u *user, id string) (*call, *protocol.Error) {
	c := a.calls[id]
	if c == nil || c.callee != u {
		return nil, protocol.Errorf(protocol.InvalidCallID, "no call %q rings you", id)
	}
	if c.accepted {
		return nil, protocol.Errorf(protocol.InvalidCallID, "call %q is already accepted", id)
	}
	return c, nil
}

func (s *session) acceptCall(p *protocol.AcceptCallParams) (any, *protocol.Error) {
	if e := checkExtDat(p.UsrExtDat); e != nil {
		return nil, e
	}
	return s.change(changeAcceptCall, p)
}

func (s *session) rejectCall(p *protocol.CallActionParams) (any, *protocol.Error) {
	if e := checkExtDat(p.UsrExtDat); e != nil {
		return nil, e
	}
	return s.change(changeRejectCall, p)
}

func (s *session) hungupCall(p *protocol.CallActionParams) (any, *protocol.Error) {
	if e := checkExtDat(p.UsrExtDat); e != nil {
		return nil, e
	}
	return s.change(changeHungupCall, p)
}

func (s *session) cancelInvite(p *protocol.CancelInviteParams) (any, *protocol.Error) {
	if e := checkExtDat(p.UsrExtDat); e != nil {
		return nil, e
	}
	return s.change(changeCancelInvite, p)
}

// endCallLocked ends c because by hung up (or went away) and tells the
// other side: notifyCallHungup, or for an invitee hanging up, the inviter's
// status event with InviteHungup.
func (a *app) endCallLocked(c *call, by *user, ext string, ob *outbox) {
	a.removeCallLocked(c, ob)
	if !c.accepted {
		a.metrics().callEnded(c, outcomeCancelled)
	}
	hungup := protocol.NotifyCallHungup{CallID: c.id, UsrExtDat: ext}
	if by == c.callee {
		c.tellCaller(ob, protocol.InviteHungup, protocol.EventNotifyCallHungup, hungup)
	} else {
		ob.addUser(c.callee, protocol.EventNotifyCallHungup, hungup)
	}
}

// tellCaller tells the caller what became of its call: an inviter by the
// status event it reads, a caller by event with params.
func (c *call) tellCaller(ob *outbox, status int, event string, params any) {
	if c.invite {
		ob.addUser(c.caller, c.statusEvent, protocol.NotifyInviteStatus{InviteID: c.id, Status: status})
		return
	}
	ob.addUser(c.caller, event, params)
}

func (a *app) removeCallLocked(c *call, ob *outbox) {
	c.stopTimer()
	delete(a.calls, c.id)
	delete(c.caller.calls, c.id)
	delete(c.callee.calls, c.id)
	a.touchLocked(c.caller, ob)
	a.touchLocked(c.callee, ob)
	a.queueCallEndedLocked(c, ob)
}

// stopTimer disarms c's ringing timer, if this node holds it.
func (c *call) stopTimer() {
	if c.timer != nil {
		c.timer.Stop()
	}
}

// stopTimers disarms every ringing call's timer (at shutdown).
func (a *app) stopTimers() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.calls {
		c.stopTimer()
	}
	a.stopQueueTimersLocked()
	for _, u := range a.users {
		a.stopTokenLocked(u)
	}
}
