package signaling

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/crvnode/crvnode/protocol"
)

const maxSubjectLen = 50 // characters, as the API documents

// Meeting IDs are 8-digit numbers drawn at random, so that one meeting's
// number tells nothing about the others.
const (
	minMeetingID = 10_000_000
	meetingIDs   = 90_000_000
)

func randomUint32(n uint32) uint32 {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return binary.BigEndian.Uint32(b[:]) % n
}

func newPassword() string {
	return fmt.Sprintf("%06d", randomUint32(1_000_000))
}

func (m *meeting) infoLocked() protocol.MeetInfo {
	info := m.info
	info.MemberCount = len(m.members)
	return info
}

func (m *meeting) membersLocked() []protocol.MemberInfo {
	out := make([]protocol.MemberInfo, 0, len(m.members))
	for _, mi := range m.members {
		out = append(out, mi.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return out
}

func (s *session) createMeeting(p *protocol.CreateMeetingParams) (any, *protocol.Error) {
	if n := utf8.RuneCountInString(p.MeetSubject); n == 0 || n > maxSubjectLen || !validName(p.MeetSubject, 4*maxSubjectLen) {
		return nil, protocol.Errorf(protocol.ParamErr, "meetSubject must be 1-%d printable characters", maxSubjectLen)
	}
	if p.CreatePswd < 0 {
		return nil, protocol.Errorf(protocol.ParamErr, "createPswd must be 0 (no password) or more")
	}
	if e := s.stillOwner(); e != nil {
		return nil, e
	}
	info := protocol.MeetInfo{
		Subject:   p.MeetSubject,
		Creator:   s.user.id,
		StartTime: time.Now().Unix(),
	}
	if p.CreatePswd > 0 {
		info.Pswd = newPassword()
	}
	if s.srv.repl != nil { // in a cluster, the log is the store
		for try := 0; try < 8; try++ {
			info.ID = minMeetingID + randomUint32(meetingIDs)
			info.PubMeetURL = fmt.Sprintf("%s/?meetID=%d", s.baseURL, info.ID)
			created, e := s.change(changeCreateMeeting, &info)
			if e != nil {
				return nil, e
			}
			if created.(bool) {
				return protocol.MeetObjResult{MeetObj: info}, nil
			}
		}
		return nil, protocol.Errorf(protocol.ResourceAllocateError, "could not create the meeting")
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	var err error
	for try := 0; try < 8; try++ {
		info.ID = minMeetingID + randomUint32(meetingIDs)
		info.PubMeetURL = fmt.Sprintf("%s/?meetID=%d", s.baseURL, info.ID)
		if err = s.srv.store.insertMeeting(ctx, s.app.cfg.ID, info); !errors.Is(err, ErrDuplicate) {
			break
		}
	}
	if err != nil {
		s.log.Error("store meeting", "err", err)
		return nil, protocol.Errorf(protocol.ResourceAllocateError, "could not create the meeting")
	}
	if _, e := s.change(changeCreateMeeting, &info); e != nil {
		// Logged off by a newer login while the row was written: the
		// meeting was never announced, so it must not outlive the request.
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
		defer dcancel()
		if err := s.srv.store.deleteMeeting(dctx, info.ID); err != nil {
			s.log.Error("store: remove an unannounced meeting", "meeting", info.ID, "err", err)
		}
		return nil, e
	}
	return protocol.MeetObjResult{MeetObj: info}, nil
}

// The changes of meetings (replica.go).
const (
	changeCreateMeeting  = "createMeeting"
	changeDestroyMeeting = "destroyMeeting"
	changeEnterMeeting   = "enterMeeting"
	changeExitMeeting    = "exitMeeting"
	changeKickout        = "kickout"
	changeMeetingMsg     = "meetingMsg"
)

func init() {
	// createMeeting answers false when the ID is taken (in a cluster,
	// where no table's key refuses it first).
	sessionChange(changeCreateMeeting, func(a *app, _ *user, info *protocol.MeetInfo, _ *applied) (any, *protocol.Error) {
		if a.meetings[info.ID] != nil {
			return false, nil
		}
		a.meetings[info.ID] = newMeeting(*info)
		return true, nil
	})
	sessionChange(changeDestroyMeeting, func(a *app, u *user, p *protocol.DestroyMeetingParams, x *applied) (any, *protocol.Error) {
		return nil, a.destroyMeetingLocked(u, p.MeetID, x.ob)
	})
	sessionChange(changeEnterMeeting, func(a *app, u *user, p *enterParams, x *applied) (any, *protocol.Error) {
		if m := a.meetings[p.MeetID]; m != nil && p.Media && m != u.meeting {
			// A meeting's media is forwarded by one node's SFU.
			for id, me := range m.members {
				if s := a.users[id].sess; me.media && s != nil && s.node != x.node {
					return nil, protocol.Errorf(protocol.ResourceAllocateError,
						"meeting %d has its media on another node of this service: members with media must be on one node", p.MeetID)
				}
			}
		}
		return a.enterMeetingLocked(u, &p.EnterMeetingParams, p.Media, x.ob)
	})
	sessionChange(changeExitMeeting, func(a *app, u *user, _ *protocol.Empty, x *applied) (any, *protocol.Error) {
		a.leaveMeetingLocked(u, x.ob)
		return nil, nil
	})
	sessionChange(changeKickout, func(a *app, u *user, p *protocol.KickoutParams, x *applied) (any, *protocol.Error) {
		m := u.meeting
		switch {
		case m == nil:
			return nil, protocol.Errorf(protocol.MeetNotExist, "you are in no meeting")
		case m.info.Creator != u.id:
			return nil, protocol.Errorf(protocol.APINoPermission, "only the meeting's creator may kick members out")
		case p.UserID == u.id || m.members[p.UserID] == nil:
			return nil, protocol.Errorf(protocol.ParamErr, "%q is not another member of this meeting", p.UserID)
		}
		target := a.users[p.UserID]
		a.leaveMeetingLocked(target, x.ob)
		x.ob.addUser(target, protocol.EventMeetingDropped, protocol.MeetingDropped{Reason: protocol.DropKickedOut})
		return nil, nil
	})
	sessionChange(changeMeetingMsg, func(a *app, u *user, p *protocol.MeetingCustomMsgParams, x *applied) (any, *protocol.Error) {
		if u.meeting == nil {
			return nil, protocol.Errorf(protocol.MeetNotExist, "you are in no meeting")
		}
		ev := protocol.NotifyMeetingCustomMsg{UserID: u.id, Msg: p.Msg}
		for id := range u.meeting.members {
			x.ob.addUser(a.users[id], protocol.EventNotifyMeetingCustomMsg, ev)
		}
		return nil, nil
	})
}

// destroyMeeting ends a meeting for good: only its creator may. Members are
// told with meetingStopped and are no longer in it.
func (s *session) destroyMeeting(p *protocol.DestroyMeetingParams) (any, *protocol.Error) {
	return s.change(changeDestroyMeeting, p)
}

// destroyMeetingLocked deletes the stored meeting under the lock, so that
// nobody enters a meeting that is being destroyed; the delete is short.
func (a *app) destroyMeetingLocked(u *user, id protocol.MeetingID, ob *outbox) *protocol.Error {
	m := a.meetings[id]
	if m == nil {
		return protocol.Errorf(protocol.MeetNotExist, "no meeting %d", id)
	}
	if m.info.Creator != u.id {
		return protocol.Errorf(protocol.APINoPermission, "only the creator may destroy meeting %d", id)
	}
	if a.srv.repl == nil { // in a cluster, the log is the store
		ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
		defer cancel()
		if err := a.srv.store.deleteMeeting(ctx, id); err != nil {
			a.srv.log.Error("delete meeting", "app", a.cfg.ID, "meeting", id, "err", err)
			return protocol.Errorf(protocol.ServerException, "could not destroy the meeting")
		}
	}
	delete(a.meetings, id)
	for mid := range m.members {
		mu := a.users[mid]
		mu.meeting = nil
		if mu.media != nil {
			mu.media.Leave()
		}
		ob.addUser(mu, protocol.EventMeetingStopped, protocol.MeetingStopped{MeetID: id})
		a.touchLocked(mu, ob)
	}
	return nil
}

func (s *session) getMeetings(*protocol.Empty) (any, *protocol.Error) {
	a, u, e := s.lock()
	if e != nil {
		return nil, e
	}
	list := []protocol.MeetInfo{}
	for _, m := range a.meetings {
		if m.info.Creator == u.id {
			list = append(list, m.infoLocked())
		}
	}
	a.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].StartTime > list[j].StartTime })
	return protocol.GetMeetingsResult{Meetings: list}, nil
}

func (s *session) enterMeeting(p *protocol.EnterMeetingParams) (any, *protocol.Error) {
	if p.UserID != "" && p.UserID != s.user.id {
		return nil, protocol.Errorf(protocol.ParamErr, "userID must be the logged-in user")
	}
	if p.NickName != "" && !validName(p.NickName, maxNickNameLen) {
		return nil, protocol.Errorf(protocol.ParamErr, "nickName must be 1-%d printable bytes", maxNickNameLen)
	}
	if e := s.moveFor(p.MeetID); e != nil {
		return nil, e
	}
	res, e := s.change(changeEnterMeeting, &enterParams{EnterMeetingParams: *p, Media: s.srv.cfg.Media != nil})
	if e != nil && e.Code == protocol.ResourceAllocateError && e.Data == nil {
		// Another node's entry came first in the log: this node has
		// applied it now, and can say where to go.
		if me := s.moveFor(p.MeetID); me != nil {
			return nil, me
		}
	}
	return res, e
}

// enterParams is an entry's change: the request, and whether the member
// comes with media (its node has an SFU).
type enterParams struct {
	protocol.EnterMeetingParams
	Media bool `json:"media,omitempty"`
}

func (a *app) enterMeetingLocked(u *user, p *protocol.EnterMeetingParams, media bool, ob *outbox) (any, *protocol.Error) {
	m := a.meetings[p.MeetID]
	if m == nil {
		return nil, protocol.Errorf(protocol.MeetNotExist, "no meeting %d", p.MeetID)
	}
	if !equalSecret(m.info.Pswd, p.Pswd) {
		return nil, protocol.Errorf(protocol.AuthError, "wrong password for meeting %d", p.MeetID)
	}
	if u.meeting != m {
		if len(m.members) >= a.srv.cfg.Limits.MaxMembers {
			return nil, protocol.Errorf(protocol.MemberOverflowError, "meeting %d is full", p.MeetID)
		}
		a.leaveMeetingLocked(u, ob) // one meeting at a time
		nick := p.NickName
		if nick == "" {
			nick = u.nick
		}
		mi := &member{media: media, info: protocol.MemberInfo{UserID: u.id, NickName: nick,
			AudioStatus: protocol.AStatusClosed, VideoStatus: protocol.VStatusClosed}}
		for id := range m.members {
			ob.addUser(a.users[id], protocol.EventUserEnterMeeting, protocol.UserEnterMeeting{MemberInfo: mi.info})
		}
		m.members[u.id] = mi
		u.meeting = m
		if u.media != nil {
			u.media.Join(a.roomKey(m))
		}
		a.touchLocked(u, ob)
	}
	return protocol.EnterMeetingResult{MeetObj: m.infoLocked(), Members: m.membersLocked()}, nil
}

func (s *session) exitMeeting(p *protocol.Empty) (any, *protocol.Error) {
	return s.change(changeExitMeeting, p)
}

// leaveMeetingLocked takes u out of its meeting, if any; the others are
// told with userLeftMeeting.
func (a *app) leaveMeetingLocked(u *user, ob *outbox) {
	m := u.meeting
	if m == nil {
		return
	}
	delete(m.members, u.id)
	u.meeting = nil
	if u.media != nil {
		u.media.Leave()
	}
	for id := range m.members {
		ob.addUser(a.users[id], protocol.EventUserLeftMeeting, protocol.UserLeftMeeting{UserID: u.id})
	}
	a.touchLocked(u, ob)
}

const maxCustomMsgLen = 16 << 10

// kickout removes a member from the meeting: only the meeting's creator,
// being in it, may. The member is told with meetingDropped (reason 1), the
// others with userLeftMeeting.
func (s *session) kickout(p *protocol.KickoutParams) (any, *protocol.Error) {
	return s.change(changeKickout, p)
}

// sendMeetingCustomMsg relays an app message to every member of the
// sender's meeting, the sender included, so every member sees one order.
func (s *session) sendMeetingCustomMsg(p *protocol.MeetingCustomMsgParams) (any, *protocol.Error) {
	if len(p.Msg) > maxCustomMsgLen {
		return nil, protocol.Errorf(protocol.ParamErr, "msg is over %d bytes", maxCustomMsgLen)
	}
	return s.change(changeMeetingMsg, p)
}
