package signaling

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

func createMeeting(t *testing.T, c *wsClient, subject string, pswd int) protocol.MeetInfo {
	t.Helper()
	var res protocol.MeetObjResult
	c.ok(protocol.MethodCreateMeeting, protocol.CreateMeetingParams{MeetSubject: subject, CreatePswd: pswd}, &res)
	return res.MeetObj
}

func TestCreateMeeting(t *testing.T) {
	n := startNode(t, "", nil)
	a := login(t, n, "alice")
	a.fails(protocol.ParamErr, protocol.MethodCreateMeeting, protocol.CreateMeetingParams{MeetSubject: ""})
	a.fails(protocol.ParamErr, protocol.MethodCreateMeeting, protocol.CreateMeetingParams{MeetSubject: strings.Repeat("x", 51)})
	a.fails(protocol.ParamErr, protocol.MethodCreateMeeting, protocol.CreateMeetingParams{MeetSubject: "x", CreatePswd: -1})
	// 50 characters, not bytes.
	m := createMeeting(t, a, strings.Repeat("会", 50), 0)
	if m.ID < minMeetingID || m.Pswd != "" || m.Creator != "alice" || m.MemberCount != 0 || m.StartTime == 0 ||
		!strings.HasPrefix(m.PubMeetURL, n.http.URL+"/?meetID=") {
		t.Fatalf("meeting %+v", m)
	}
	p := createMeeting(t, a, "secret", 1)
	if len(p.Pswd) != 6 || p.ID == m.ID || p.ID == m.ID+1 {
		t.Fatalf("meeting with password %+v (first %d)", p, m.ID)
	}
	var list protocol.GetMeetingsResult
	a.ok(protocol.MethodGetMeetings, nil, &list)
	if len(list.Meetings) != 2 {
		t.Fatalf("getMeetings %+v", list)
	}
	b := login(t, n, "bob")
	b.ok(protocol.MethodGetMeetings, nil, &list)
	if len(list.Meetings) != 0 {
		t.Fatalf("bob's meetings %+v", list)
	}
}

func TestEnterExitDestroy(t *testing.T) {
	n := startNode(t, "", func(c *Config) { c.Limits.MaxMembers = 2 })
	a, b, c := login(t, n, "alice"), login(t, n, "bob"), login(t, n, "carol")
	m := createMeeting(t, a, "weekly", 1)

	b.fails(protocol.MeetNotExist, protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: 1})
	b.fails(protocol.AuthError, protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: "nope"})
	b.fails(protocol.ParamErr, protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd, UserID: "alice"})

	var res protocol.EnterMeetingResult
	a.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd, UserID: "alice"}, &res)
	b.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd, NickName: "Bobby"}, &res)
	want := []protocol.MemberInfo{
		{UserID: "alice", NickName: "nick-alice", AudioStatus: protocol.AStatusClosed, VideoStatus: protocol.VStatusClosed},
		{UserID: "bob", NickName: "Bobby", AudioStatus: protocol.AStatusClosed, VideoStatus: protocol.VStatusClosed},
	}
	if res.MeetObj.ID != m.ID || res.MeetObj.MemberCount != 2 || len(res.Members) != 2 || res.Members[0] != want[0] || res.Members[1] != want[1] {
		t.Fatalf("enterMeeting %+v", res)
	}
	var enter protocol.UserEnterMeeting
	a.expectEvent(protocol.EventUserEnterMeeting, &enter)
	if enter.MemberInfo != want[1] {
		t.Fatalf("userEnterMeeting %+v", enter)
	}
	c.fails(protocol.MemberOverflowError, protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd})
	// Entering again is harmless and tells nobody.
	b.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd}, nil)
	a.noEvent()

	var list protocol.GetMeetingsResult
	a.ok(protocol.MethodGetMeetings, nil, &list)
	if list.Meetings[0].MemberCount != 2 {
		t.Fatalf("live member count %+v", list)
	}

	// One meeting at a time: entering another leaves the first.
	other := createMeeting(t, b, "other", 0)
	b.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: other.ID}, nil)
	var left protocol.UserLeftMeeting
	a.expectEvent(protocol.EventUserLeftMeeting, &left)
	if left.UserID != "bob" {
		t.Fatalf("userLeftMeeting %+v", left)
	}
	b.ok(protocol.MethodExitMeeting, nil, nil)
	b.ok(protocol.MethodExitMeeting, nil, nil) // not in a meeting: nothing to do

	c.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd}, nil)
	a.expectEvent(protocol.EventUserEnterMeeting, nil)
	c.fails(protocol.APINoPermission, protocol.MethodDestroyMeeting, protocol.DestroyMeetingParams{MeetID: m.ID})
	a.ok(protocol.MethodDestroyMeeting, protocol.DestroyMeetingParams{MeetID: m.ID}, nil)
	var stopped protocol.MeetingStopped
	c.expectEvent(protocol.EventMeetingStopped, &stopped)
	a.expectEvent(protocol.EventMeetingStopped, nil)
	if stopped.MeetID != m.ID {
		t.Fatalf("meetingStopped %+v", stopped)
	}
	c.fails(protocol.MeetNotExist, protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd})
	a.fails(protocol.MeetNotExist, protocol.MethodDestroyMeeting, protocol.DestroyMeetingParams{MeetID: m.ID})
	b.noEvent()
}

func TestDisconnectLeavesMeeting(t *testing.T) {
	n := startNode(t, "", nil)
	a, b := login(t, n, "alice"), login(t, n, "bob")
	m := createMeeting(t, a, "m", 0)
	a.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID}, nil)
	b.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID}, nil)
	a.expectEvent(protocol.EventUserEnterMeeting, nil)
	b.conn.Close()
	var left protocol.UserLeftMeeting
	a.expectEvent(protocol.EventUserLeftMeeting, &left)
	if left.UserID != "bob" {
		t.Fatalf("userLeftMeeting %+v", left)
	}
}

func TestMeetingsSurviveRestart(t *testing.T) {
	skipInCluster(t) // of the node's own store
	dir := t.TempDir()
	n := startNode(t, dir, nil)
	a := login(t, n, "alice")
	m := createMeeting(t, a, "persistent", 1)
	gone := createMeeting(t, a, "gone", 0)
	a.ok(protocol.MethodDestroyMeeting, protocol.DestroyMeetingParams{MeetID: gone.ID}, nil)
	a.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1}, nil)
	n.stop()

	n2 := startNode(t, dir, nil)
	b := login(t, n2, "bob")
	var res protocol.EnterMeetingResult
	b.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd}, &res)
	if res.MeetObj.Subject != "persistent" || res.MeetObj.Creator != "alice" || res.MeetObj.Pswd != m.Pswd {
		t.Fatalf("meeting after restart %+v", res.MeetObj)
	}
	b.fails(protocol.MeetNotExist, protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: gone.ID})
	if st := statusOf(userStatus(t, b), "alice"); st != (protocol.UserStatus{UserID: "alice", DNDType: 1}) {
		t.Fatalf("alice after restart %+v", st)
	}
	a2 := login(t, n2, "alice")
	var list protocol.GetMeetingsResult
	a2.ok(protocol.MethodGetMeetings, nil, &list)
	if len(list.Meetings) != 1 || list.Meetings[0].ID != m.ID || list.Meetings[0].MemberCount != 1 {
		t.Fatalf("getMeetings after restart %+v", list)
	}
}

func TestKickoutAndCustomMessages(t *testing.T) {
	n := startNode(t, "", nil)
	a, b, c := login(t, n, "alice"), login(t, n, "bob"), login(t, n, "carol")
	m := createMeeting(t, a, "k", 0)
	b.fails(protocol.MeetNotExist, protocol.MethodSendMeetingCustomMsg, protocol.MeetingCustomMsgParams{Msg: "hi"})
	for _, u := range []*wsClient{a, b, c} {
		u.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID}, nil)
	}
	a.expectEvent(protocol.EventUserEnterMeeting, nil)
	a.expectEvent(protocol.EventUserEnterMeeting, nil)
	b.expectEvent(protocol.EventUserEnterMeeting, nil)

	b.ok(protocol.MethodSendMeetingCustomMsg, protocol.MeetingCustomMsgParams{Msg: "hello 会议"}, nil)
	for _, u := range []*wsClient{a, b, c} {
		var msg protocol.NotifyMeetingCustomMsg
		u.expectEvent(protocol.EventNotifyMeetingCustomMsg, &msg)
		if msg != (protocol.NotifyMeetingCustomMsg{UserID: "bob", Msg: "hello 会议"}) {
			t.Fatalf("custom msg %+v", msg)
		}
	}
	b.fails(protocol.APINoPermission, protocol.MethodKickout, protocol.KickoutParams{UserID: "carol"})
	a.fails(protocol.ParamErr, protocol.MethodKickout, protocol.KickoutParams{UserID: "alice"})
	a.fails(protocol.ParamErr, protocol.MethodKickout, protocol.KickoutParams{UserID: "nobody"})
	a.ok(protocol.MethodKickout, protocol.KickoutParams{UserID: "carol"}, nil)
	var dropped protocol.MeetingDropped
	c.expectEvent(protocol.EventMeetingDropped, &dropped)
	if dropped.Reason != protocol.DropKickedOut {
		t.Fatalf("meetingDropped %+v", dropped)
	}
	for _, u := range []*wsClient{a, b} {
		var left protocol.UserLeftMeeting
		u.expectEvent(protocol.EventUserLeftMeeting, &left)
		if left.UserID != "carol" {
			t.Fatalf("userLeftMeeting %+v", left)
		}
	}
	c.fails(protocol.MeetNotExist, protocol.MethodSendMeetingCustomMsg, protocol.MeetingCustomMsgParams{Msg: "x"})
}

// A createMeeting whose session is logged off by a newer login while it
// writes the meeting creates nothing: no meeting is left in the database
// that the node never announced.
func TestCreateMeetingRacingRelogin(t *testing.T) {
	skipInCluster(t) // of the node's own store
	n := startNode(t, "", nil)
	old := login(t, n, "alice")
	release := holdWrite(t, n, "insertMeeting", func() {
		old.send(`{"jsonrpc":"2.0","id":7,"method":"createMeeting","params":{"meetSubject":"race"}}`)
	})
	last := login(t, n, "alice") // logs the older session off mid-write
	old.waitClosed()
	release()
	waitAgree(t, func() (string, string) {
		var list protocol.GetMeetingsResult
		last.ok(protocol.MethodGetMeetings, nil, &list)
		stored, err := n.store.meetings(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(len(stored)), fmt.Sprint(len(list.Meetings))
	})
}

// holdWrite makes the next store write op wait: it runs send, returns once
// a request is held at op, and gives the function that lets it go on.
func holdWrite(t *testing.T, n *testNode, op string, send func()) (release func()) {
	t.Helper()
	held, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hook := func(o string) {
		if o == op {
			once.Do(func() { close(held); <-proceed })
		}
	}
	n.store.beforeWrite.Store(&hook)
	var released sync.Once
	release = func() { released.Do(func() { close(proceed) }) }
	t.Cleanup(release)
	send()
	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s write came", op)
	}
	return release
}

// waitAgree polls until what the database and the node say agree (the
// older session's request may still run after its socket closed).
func waitAgree(t *testing.T, read func() (stored, node string)) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) { // within the rate limit
		stored, node := read()
		if stored == node {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database says %s, the node %s", stored, node)
		}
	}
}
