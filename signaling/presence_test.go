package signaling

import (
	"testing"

	"github.com/crvnode/crvnode/protocol"
)

func userStatus(t *testing.T, c *wsClient) []protocol.UserStatus {
	t.Helper()
	var res protocol.GetUserStatusResult
	c.ok(protocol.MethodGetUserStatus, nil, &res)
	return res.UserStatus
}

func expectStatus(t *testing.T, c *wsClient, user string, status, dnd int) {
	t.Helper()
	var ev protocol.NotifyUserStatus
	c.expectEvent(protocol.EventNotifyUserStatus, &ev)
	want := protocol.UserStatus{UserID: user, UserStatus: status, DNDType: dnd}
	if ev.UserStatus != want {
		t.Fatalf("notifyUserStatus %+v, want %+v", ev.UserStatus, want)
	}
}

func TestPresenceAndDND(t *testing.T) {
	n := startNode(t, "", nil)
	w := login(t, n, "watcher")
	w.ok(protocol.MethodStartUserStatusNotify, nil, nil)

	a := login(t, n, "alice")
	expectStatus(t, w, "alice", protocol.UserIdle, 0)
	a.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 2}, nil)
	expectStatus(t, w, "alice", protocol.UserIdle, 2)

	var mo protocol.MeetObjResult
	a.ok(protocol.MethodCreateMeeting, protocol.CreateMeetingParams{MeetSubject: "standup"}, &mo)
	w.noEvent() // creating a meeting is not entering it
	a.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: mo.MeetObj.ID}, nil)
	expectStatus(t, w, "alice", protocol.UserInMeeting, 2)
	a.ok(protocol.MethodExitMeeting, nil, nil)
	expectStatus(t, w, "alice", protocol.UserIdle, 2)

	// Everyone the app has seen is listed, offline users too, DND kept.
	a.conn.Close()
	expectStatus(t, w, "alice", protocol.UserOffline, 2)
	list := userStatus(t, w)
	if len(list) != 2 || statusOf(list, "alice") != (protocol.UserStatus{UserID: "alice", DNDType: 2}) ||
		statusOf(list, "watcher").UserStatus != protocol.UserIdle {
		t.Fatalf("getUserStatus %+v", list)
	}

	w.ok(protocol.MethodStopUserStatusNotify, nil, nil)
	login(t, n, "bob")
	w.noEvent()
}

func TestTenantsAreIsolated(t *testing.T) {
	n := startNode(t, "", nil)
	a := login(t, n, "alice")
	a.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	g := loginApp(t, n, "globex", "globex-secret", "gary")
	a.noEvent() // another app's login is invisible

	list := userStatus(t, g)
	if len(list) != 1 || list[0].UserID != "gary" {
		t.Fatalf("globex sees %+v", list)
	}
	// The same userID in two apps are two users.
	loginApp(t, n, "globex", "globex-secret", "alice")
	a.noEvent()
	a.ok(protocol.MethodGetUserStatus, nil, nil)

	var mo protocol.MeetObjResult
	a.ok(protocol.MethodCreateMeeting, protocol.CreateMeetingParams{MeetSubject: "acme only"}, &mo)
	g.fails(protocol.MeetNotExist, protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: mo.MeetObj.ID})
	g.fails(protocol.MeetNotExist, protocol.MethodDestroyMeeting, protocol.DestroyMeetingParams{MeetID: mo.MeetObj.ID})
	g.fails(protocol.ErrUserNotFound, protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "bob"})
	// gary calling "alice" reaches globex's alice, not acme's.
	g.ok(protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "alice"}, nil)
	a.noEvent()
	var ms protocol.GetMeetingsResult
	g.ok(protocol.MethodGetMeetings, nil, &ms)
	if len(ms.Meetings) != 0 {
		t.Fatalf("globex lists acme's meetings: %+v", ms)
	}
}
