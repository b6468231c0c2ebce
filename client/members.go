package client

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// The CRVideo member queries (GetAllMembers, GetMemberInfo, ...) are
// synchronous and local: the SDK keeps the member list of the meeting it is
// in, set by the enterMeeting result and updated by userEnterMeeting and
// userLeftMeeting. Every change happens on the read goroutine, in the
// node's message order, before the Handler sees the event that caused it.

// UserID returns the user logged in on this connection, "" before login
// and after logout.
func (c *Client) UserID() protocol.UserID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userID
}

// MeetingID returns the meeting this client is in, 0 when none. It is set
// by a successful EnterMeeting and cleared by ExitMeeting, meetingStopped,
// meetingDropped, Logout, lineOff, or the connection ending.
func (c *Client) MeetingID() protocol.MeetingID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.meetID
}

// Members returns the members of the current meeting sorted by userID (the
// CRVideo GetAllMembers). The slice is the caller's to keep.
func (c *Client) Members() []protocol.MemberInfo {
	c.mu.Lock()
	out := make([]protocol.MemberInfo, 0, len(c.members))
	for _, m := range c.members {
		out = append(out, m)
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b protocol.MemberInfo) int { return strings.Compare(a.UserID, b.UserID) })
	return out
}

// Member returns one member of the current meeting (the CRVideo
// GetMemberInfo); ok is false if userID is not in it.
func (c *Client) Member(userID protocol.UserID) (m protocol.MemberInfo, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok = c.members[userID]
	return m, ok
}

// MemberNickName returns the name a member shows in the current meeting
// (the CRVideo GetMemberNickName), "" if userID is not in it.
func (c *Client) MemberNickName(userID protocol.UserID) string {
	m, _ := c.Member(userID)
	return m.NickName
}

// IsUserInMeeting reports whether userID is in the current meeting (the
// CRVideo IsUserInMeeting).
func (c *Client) IsUserInMeeting(userID protocol.UserID) bool {
	_, ok := c.Member(userID)
	return ok
}

// leaveMeetingLocked forgets the current meeting.
func (c *Client) leaveMeetingLocked() {
	c.meetID = 0
	c.members = nil
	if m := c.media; m != nil {
		m.ops.Push(func() {
			m.closeDown() // the node closes its side of the down connection
			m.touch()     // the up connection's idle time counts from here
		})
	}
}

// inMeeting reports whether the user is in a meeting.
func (c *Client) inMeeting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.meetID != 0
}

func (c *Client) onLogin(result json.RawMessage) {
	var res protocol.LoginResult
	if err := json.Unmarshal(result, &res); err != nil {
		c.log.Warn("crvnode client: login result does not fit its type", "err", err)
		return
	}
	c.mu.Lock()
	c.userID = res.UserID
	c.iceServers = res.ICEServers
	c.resume = resumeState{token: res.ResumeToken, appID: res.AppID, userID: res.UserID,
		grace: time.Duration(res.ResumeGraceMs) * time.Millisecond}
	c.mu.Unlock()
}

// openUpSoon opens the up connection in the background, unless it is
// open or the client is SignalingOnly: on entering a meeting (publishing
// is then quicker) and when the node asks for it (upNeeded: data waits
// for this user). Not on the reader, which the negotiation needs.
func (c *Client) openUpSoon(why string) {
	if c.opts.SignalingOnly {
		return
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		ctx, cancel := context.WithTimeout(c.closed, c.opts.RequestTimeout)
		defer cancel()
		m, err := c.mediaSide()
		if err == nil {
			_, err = m.ensureUp(ctx)
		}
		if err != nil {
			c.log.Info("crvnode client: up connection", "for", why, "err", err)
		}
	}()
}

func (c *Client) onLogout(json.RawMessage) {
	c.lastSeq = 0 // on the reader; a next login numbers from 1 again
	c.mu.Lock()
	c.userID = ""
	c.resume = resumeState{}
	c.leaveMeetingLocked()
	c.mu.Unlock()
}

func (c *Client) onEnterMeeting(result json.RawMessage) {
	var res protocol.EnterMeetingResult
	if err := json.Unmarshal(result, &res); err != nil {
		c.log.Warn("crvnode client: enterMeeting result does not fit its type", "err", err)
		return
	}
	members := make(map[protocol.UserID]protocol.MemberInfo, len(res.Members))
	for _, m := range res.Members {
		members[m.UserID] = m
	}
	c.mu.Lock()
	c.meetID = res.MeetObj.ID
	c.members = members
	c.mu.Unlock()
	c.openUpSoon("meeting")
}

func (c *Client) onExitMeeting(json.RawMessage) {
	c.mu.Lock()
	c.leaveMeetingLocked()
	c.mu.Unlock()
}
