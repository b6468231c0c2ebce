package client

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/crvnode/crvnode/protocol"
)

func memberIDs(c *Client) []string {
	var ids []string
	for _, m := range c.Members() {
		ids = append(ids, m.UserID)
	}
	return ids
}

// enter makes the client enter meeting id with the given members.
func enter(t *testing.T, c *Client, nc *nodeConn, id protocol.MeetingID, members ...protocol.MemberInfo) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := c.EnterMeeting(testCtx(t), id, "", "")
		errc <- err
	}()
	r := nc.recvMethod(protocol.MethodEnterMeeting)
	nc.reply(r.msg.ID, protocol.EnterMeetingResult{MeetObj: protocol.MeetInfo{ID: id}, Members: members})
	if err := <-errc; err != nil {
		t.Fatalf("EnterMeeting: %v", err)
	}
}

// request runs one wrapper against the node's empty success.
func request(t *testing.T, nc *nodeConn, method string, call func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- call() }()
	r := nc.recvMethod(method)
	nc.reply(r.msg.ID, map[string]any{})
	if err := <-errc; err != nil {
		t.Fatalf("%s: %v", method, err)
	}
}

// TestMemberListEvents checks that userEnterMeeting, userLeftMeeting and
// meetingStopped change the list before the Handler sees them.
func TestMemberListEvents(t *testing.T) {
	log := newEventLog()
	var self atomic.Pointer[Client]
	seen := make(chan bool, 8)
	node := newFakeNode(t)
	c, nc := node.dial(Options{Handler: func(ev Event) {
		// The list must already reflect the event the Handler gets.
		if d, ok := ev.Data.(*protocol.UserEnterMeeting); ok {
			seen <- self.Load().IsUserInMeeting(d.UserID)
		}
		log.handler(ev)
	}})
	self.Store(c)

	// Events of a meeting the client is not in change nothing.
	nc.event(protocol.EventUserEnterMeeting, protocol.UserEnterMeeting{MemberInfo: protocol.MemberInfo{UserID: "x"}})
	log.next(t)
	if <-seen || c.MeetingID() != 0 || len(c.Members()) != 0 {
		t.Error("member added while in no meeting")
	}

	enter(t, c, nc, 5, protocol.MemberInfo{UserID: "me", NickName: "Me"},
		protocol.MemberInfo{UserID: "bob", NickName: "Bob", VideoStatus: protocol.VStatusOpen},
		protocol.MemberInfo{UserID: "amy", NickName: "Amy"})
	if c.MeetingID() != 5 || !slices.Equal(memberIDs(c), []string{"amy", "bob", "me"}) {
		t.Fatalf("after enter: meeting %d members %v", c.MeetingID(), memberIDs(c))
	}
	if m, ok := c.Member("bob"); !ok || m.VideoStatus != protocol.VStatusOpen || c.MemberNickName("bob") != "Bob" {
		t.Errorf("Member(bob) = %+v, %v", m, ok)
	}
	c.Members()[0].NickName = "changed"
	if c.MemberNickName("amy") != "Amy" {
		t.Error("Members returned the client's own storage")
	}

	nc.event(protocol.EventUserEnterMeeting, protocol.UserEnterMeeting{MemberInfo: protocol.MemberInfo{UserID: "cat", NickName: "Cat"}})
	log.next(t)
	if !<-seen {
		t.Error("Handler saw userEnterMeeting before the member list had it")
	}
	nc.event(protocol.EventUserLeftMeeting, protocol.UserLeftMeeting{UserID: "amy"})
	log.next(t)
	if !slices.Equal(memberIDs(c), []string{"bob", "cat", "me"}) || c.IsUserInMeeting("amy") || c.MemberNickName("amy") != "" {
		t.Fatalf("after enter/leave events: %v", memberIDs(c))
	}

	nc.event(protocol.EventMeetingStopped, protocol.MeetingStopped{MeetID: 4})
	log.next(t)
	if c.MeetingID() != 5 || len(c.Members()) != 3 {
		t.Fatal("meetingStopped of another meeting emptied this one")
	}
	nc.event(protocol.EventMeetingStopped, protocol.MeetingStopped{MeetID: 5})
	log.next(t)
	if c.MeetingID() != 0 || len(c.Members()) != 0 {
		t.Fatal("meetingStopped left members")
	}
}

// TestMemberListCleared checks the other ways out of a meeting.
func TestMemberListCleared(t *testing.T) {
	log := newEventLog()
	node := newFakeNode(t)
	c, nc := node.dial(Options{Handler: log.handler})
	leave := []struct {
		name string
		do   func()
	}{
		{"meetingDropped", func() {
			nc.event(protocol.EventMeetingDropped, protocol.MeetingDropped{Reason: protocol.DropTimeout})
			log.next(t)
		}},
		{"ExitMeeting", func() {
			request(t, nc, protocol.MethodExitMeeting, func() error { return c.ExitMeeting(testCtx(t)) })
		}},
		{"Logout", func() {
			request(t, nc, protocol.MethodLogout, func() error { return c.Logout(testCtx(t)) })
		}},
		{"lineOff", func() {
			nc.event(protocol.EventLineOff, protocol.LineOff{SdkEr: protocol.UserBeenKickout})
			log.next(t)
		}},
	}
	for i, l := range leave {
		enter(t, c, nc, protocol.MeetingID(10+i), protocol.MemberInfo{UserID: "me"})
		l.do()
		if c.MeetingID() != 0 || len(c.Members()) != 0 {
			t.Errorf("%s left meeting %d members %v", l.name, c.MeetingID(), memberIDs(c))
		}
	}
}

// TestFailedExitKeepsMembers checks that only a successful exit empties the
// list.
func TestFailedExitKeepsMembers(t *testing.T) {
	node := newFakeNode(t)
	c, nc := node.dial(Options{})
	enter(t, c, nc, 3, protocol.MemberInfo{UserID: "me"})
	errc := make(chan error, 1)
	go func() { errc <- c.ExitMeeting(testCtx(t)) }()
	r := nc.recvMethod(protocol.MethodExitMeeting)
	nc.replyError(r.msg.ID, protocol.MeetNotExist, "no")
	if err := <-errc; protocol.CodeOf(err) != protocol.MeetNotExist {
		t.Fatalf("ExitMeeting = %v", err)
	}
	if c.MeetingID() != 3 || !c.IsUserInMeeting("me") {
		t.Error("a failed exit emptied the member list")
	}
}

// TestEnterMeetingSendsUserID checks that enterMeeting names the logged-in
// user.
func TestEnterMeetingSendsUserID(t *testing.T) {
	node := newFakeNode(t)
	c, nc := node.dial(Options{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Login(testCtx(t), protocol.LoginParams{AppID: "a", AppSecret: "s", UserID: "u1"})
		errc <- err
	}()
	r := nc.recvMethod(protocol.MethodLogin)
	nc.reply(r.msg.ID, protocol.LoginResult{UserID: "u1"})
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := c.EnterMeeting(testCtx(t), 12, "pw", "Nick")
		errc <- err
	}()
	r = nc.recvMethod(protocol.MethodEnterMeeting)
	var p protocol.EnterMeetingParams
	if err := protocol.DecodeParams(r.msg.Params, &p); err != nil {
		t.Fatal(err)
	}
	if p != (protocol.EnterMeetingParams{MeetID: 12, Pswd: "pw", UserID: "u1", NickName: "Nick"}) {
		t.Errorf("enterMeeting params %+v", p)
	}
	nc.replyError(r.msg.ID, protocol.AuthError, "bad password")
	if err := <-errc; protocol.CodeOf(err) != protocol.AuthError {
		t.Errorf("EnterMeeting = %v", err)
	}
	if c.MeetingID() != 0 {
		t.Error("a failed enter set the meeting")
	}
}

// TestLateEnterMeetingApplies checks that an enterMeeting the caller gave up
// on still sets the member list when the node answers it: the node did put
// the user in the meeting.
func TestLateEnterMeetingApplies(t *testing.T) {
	node := newFakeNode(t)
	c, nc := node.dial(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.EnterMeeting(ctx, 21, "", "")
		errc <- err
	}()
	r := nc.recvMethod(protocol.MethodEnterMeeting)
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("EnterMeeting = %v, want context.Canceled", err)
	}
	nc.reply(r.msg.ID, protocol.EnterMeetingResult{MeetObj: protocol.MeetInfo{ID: 21},
		Members: []protocol.MemberInfo{{UserID: "me"}}})
	nc.event("marker", nil) // once the client has read this, it has read the reply
	request(t, nc, "sync", func() error { return c.Do(testCtx(t), "sync", nil, nil) })
	if c.MeetingID() != 21 || !c.IsUserInMeeting("me") {
		t.Errorf("late enterMeeting success ignored: meeting %d members %v", c.MeetingID(), memberIDs(c))
	}
	if l := pendingLen(c); l != 0 {
		t.Errorf("%d requests still pending", l)
	}
}
