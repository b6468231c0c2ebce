package signaling

import (
	"testing"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// TestSeedCallFlow is the vendor's call flow: create → call → accept →
// both enter → hang up → exit.
func TestSeedCallFlow(t *testing.T) {
	n := startNode(t, "", nil)
	a, b := login(t, n, "alice"), login(t, n, "bob")
	m := createMeeting(t, a, "call", 1)

	var cr protocol.CallIDResult
	a.ok(protocol.MethodCall, protocol.CallParams{CallID: "call-1", CalledUserID: "bob", MeetObj: &m, UsrExtDat: "hi"}, &cr)
	if cr.CallID != "call-1" {
		t.Fatalf("call result %+v", cr)
	}
	var in protocol.NotifyCallIn
	b.expectEvent(protocol.EventNotifyCallIn, &in)
	if in.CallID != "call-1" || in.CallerID != "alice" || in.UsrExtDat != "hi" || in.MeetObj.ID != m.ID || in.MeetObj.Pswd != m.Pswd {
		t.Fatalf("notifyCallIn %+v", in)
	}
	// Both are busy while it rings.
	if st := statusOf(userStatus(t, b), "alice"); st.UserStatus != protocol.UserBusy {
		t.Fatalf("caller while ringing %+v", st)
	}
	b.ok(protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "call-1", MeetObj: &in.MeetObj, UsrExtDat: "ok"}, &cr)
	var acc protocol.NotifyCallAccepted
	a.expectEvent(protocol.EventNotifyCallAccepted, &acc)
	if acc.CallID != "call-1" || acc.MeetObj.ID != m.ID || acc.UsrExtDat != "ok" {
		t.Fatalf("notifyCallAccepted %+v", acc)
	}
	b.fails(protocol.InvalidCallID, protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "call-1"})
	a.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd}, nil)
	b.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: in.MeetObj.ID, Pswd: in.MeetObj.Pswd}, nil)
	a.expectEvent(protocol.EventUserEnterMeeting, nil)

	a.ok(protocol.MethodHungupCall, protocol.CallActionParams{CallID: "call-1", UsrExtDat: "bye"}, nil)
	var hung protocol.NotifyCallHungup
	b.expectEvent(protocol.EventNotifyCallHungup, &hung)
	if hung.CallID != "call-1" || hung.UsrExtDat != "bye" {
		t.Fatalf("notifyCallHungup %+v", hung)
	}
	a.fails(protocol.InvalidCallID, protocol.MethodHungupCall, protocol.CallActionParams{CallID: "call-1"})
	a.ok(protocol.MethodExitMeeting, nil, nil)
	b.expectEvent(protocol.EventUserLeftMeeting, nil)
	// Free again: they can call each other.
	b.ok(protocol.MethodCall, protocol.CallParams{CallID: "call-2", CalledUserID: "alice"}, nil)
	a.expectEvent(protocol.EventNotifyCallIn, nil)
}

func TestCallErrors(t *testing.T) {
	n := startNode(t, "", nil)
	a, b, c := login(t, n, "alice"), login(t, n, "bob"), login(t, n, "carol")
	login(t, n, "dave").conn.Close() // dave is known but offline
	waitUntil(t, func() bool { return statusOf(userStatus(t, a), "dave").UserStatus == protocol.UserOffline })

	call := func(id, to string) protocol.CallParams { return protocol.CallParams{CallID: id, CalledUserID: to} }
	a.fails(protocol.ParamErr, protocol.MethodCall, call("bad id!", "bob"))
	a.fails(protocol.ParamErr, protocol.MethodCall, call("c0", "alice"))
	a.fails(protocol.ErrUserNotFound, protocol.MethodCall, call("c0", "nobody"))
	a.fails(protocol.ErrOffline, protocol.MethodCall, call("c0", "dave"))
	a.fails(protocol.MeetNotExist, protocol.MethodCall, protocol.CallParams{CallID: "c0", CalledUserID: "bob", MeetObj: &protocol.MeetInfo{ID: 1}})
	m := createMeeting(t, a, "m", 1)
	a.fails(protocol.AuthError, protocol.MethodCall, protocol.CallParams{CallID: "c0", CalledUserID: "bob", MeetObj: &protocol.MeetInfo{ID: m.ID}})
	c.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1}, nil)
	a.fails(protocol.ErrBusy, protocol.MethodCall, call("c0", "carol"))
	c.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 0}, nil)

	a.ok(protocol.MethodCall, call("c1", "bob"), nil)
	b.expectEvent(protocol.EventNotifyCallIn, nil)
	a.fails(protocol.ErrCallExist, protocol.MethodCall, call("c2", "carol"))
	c.fails(protocol.ErrBusy, protocol.MethodCall, call("c2", "bob"))
	c.fails(protocol.ParamErr, protocol.MethodCall, call("c1", "dave")) // duplicate ID
	// Only the callee answers; strangers cannot touch the call.
	a.fails(protocol.InvalidCallID, protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "c1"})
	c.fails(protocol.InvalidCallID, protocol.MethodRejectCall, protocol.CallActionParams{CallID: "c1"})
	c.fails(protocol.InvalidCallID, protocol.MethodHungupCall, protocol.CallActionParams{CallID: "c1"})
	b.fails(protocol.InvalidCallID, protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "nope"})

	b.ok(protocol.MethodRejectCall, protocol.CallActionParams{CallID: "c1", UsrExtDat: "later"}, nil)
	var rej protocol.NotifyCallRejected
	a.expectEvent(protocol.EventNotifyCallRejected, &rej)
	if rej.CallID != "c1" || rej.SdkErr != protocol.ErrRefuse || rej.UsrExtDat != "later" {
		t.Fatalf("notifyCallRejected %+v", rej)
	}
	b.fails(protocol.InvalidCallID, protocol.MethodHungupCall, protocol.CallActionParams{CallID: "c1"})

	// Hanging up before the answer stops the ringing.
	a.ok(protocol.MethodCall, call("c3", "carol"), nil)
	c.expectEvent(protocol.EventNotifyCallIn, nil)
	a.ok(protocol.MethodHungupCall, protocol.CallActionParams{CallID: "c3"}, nil)
	c.expectEvent(protocol.EventNotifyCallHungup, nil)
	c.fails(protocol.InvalidCallID, protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "c3"})
}

// A call nobody answers ends after CallTimeout. Nothing in this node may
// race the short timeout: whatever has to be answered in time goes to a
// node with the default one.
func TestCallTimeout(t *testing.T) {
	n := startNode(t, "", func(c *Config) { c.Limits.CallTimeout = 150 * time.Millisecond })
	a, b := login(t, n, "alice"), login(t, n, "bob")
	a.ok(protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "bob"}, nil)
	b.expectEvent(protocol.EventNotifyCallIn, nil)
	expectRingTimeout(t, a, b)
	b.fails(protocol.InvalidCallID, protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "c1"})
}

// An accepted call does not time out, even when its timer fires after the
// accept (the two race for the app lock): the timer finds it accepted and
// does nothing.
func TestAcceptedCallIgnoresLateTimeout(t *testing.T) {
	n := startNode(t, "", nil)
	a, b := login(t, n, "alice"), login(t, n, "bob")
	a.ok(protocol.MethodCall, protocol.CallParams{CallID: "c2", CalledUserID: "bob"}, nil)
	b.expectEvent(protocol.EventNotifyCallIn, nil)
	b.ok(protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "c2"}, nil)
	a.expectEvent(protocol.EventNotifyCallAccepted, nil)
	app := n.srv.apps["acme"]
	app.mu.Lock()
	c := app.calls["c2"]
	app.mu.Unlock()
	if c == nil {
		t.Fatal("accepted call c2 not found")
	}
	app.execAsync(nil, changeRingTimeout, "", &ringTimeoutParams{ID: c.id, Gen: c.gen}) // as if its timer fired now
	a.noEvent()
	b.noEvent()
	a.ok(protocol.MethodHungupCall, protocol.CallActionParams{CallID: "c2"}, nil) // still there to hang up
	b.expectEvent(protocol.EventNotifyCallHungup, nil)
}

func TestDisconnectEndsCalls(t *testing.T) {
	n := startNode(t, "", nil)
	a, b := login(t, n, "alice"), login(t, n, "bob")
	a.ok(protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "bob"}, nil)
	b.expectEvent(protocol.EventNotifyCallIn, nil)
	b.ok(protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "c1"}, nil)
	a.expectEvent(protocol.EventNotifyCallAccepted, nil)
	b.conn.Close()
	var hung protocol.NotifyCallHungup
	a.expectEvent(protocol.EventNotifyCallHungup, &hung)
	if hung.CallID != "c1" {
		t.Fatalf("notifyCallHungup %+v", hung)
	}
	if st := statusOf(userStatus(t, a), "alice"); st.UserStatus != protocol.UserIdle {
		t.Fatalf("alice after the peer left %+v", st)
	}
}

func TestInvites(t *testing.T) {
	n := startNode(t, "", nil)
	a, b, c := login(t, n, "alice"), login(t, n, "bob"), login(t, n, "carol")
	m := createMeeting(t, a, "three", 1)
	a.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd}, nil)
	a.ok(protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "bob", MeetObj: &m}, nil)
	b.expectEvent(protocol.EventNotifyCallIn, nil)
	b.ok(protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "c1"}, nil)
	a.expectEvent(protocol.EventNotifyCallAccepted, nil)

	// callMoreParty: accepted. The meeting defaults to the inviter's.
	var ir protocol.InviteIDResult
	a.ok(protocol.MethodCallMoreParty, protocol.InviteParams{InviteID: "i1", Called: "carol", UsrExtDat: "join"}, &ir)
	var st protocol.NotifyInviteStatus
	a.expectEvent(protocol.EventNotifyCallMorePartyStatus, &st)
	if ir.InviteID != "i1" || st != (protocol.NotifyInviteStatus{InviteID: "i1", Status: protocol.InviteRinging}) {
		t.Fatalf("invite %+v, status %+v", ir, st)
	}
	var in protocol.NotifyCallIn
	c.expectEvent(protocol.EventNotifyCallIn, &in)
	if in.CallID != "i1" || in.CallerID != "alice" || in.MeetObj.ID != m.ID || in.MeetObj.Pswd != m.Pswd || in.UsrExtDat != "join" {
		t.Fatalf("invite notifyCallIn %+v", in)
	}
	c.ok(protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "i1"}, nil)
	a.expectEvent(protocol.EventNotifyCallMorePartyStatus, &st)
	if st.Status != protocol.InviteAccepted {
		t.Fatalf("status after accept %+v", st)
	}
	c.ok(protocol.MethodHungupCall, protocol.CallActionParams{CallID: "i1"}, nil)
	a.expectEvent(protocol.EventNotifyCallMorePartyStatus, &st)
	if st.Status != protocol.InviteHungup {
		t.Fatalf("status after the invitee hung up %+v", st)
	}

	// clientInvite: the second document's names; rejected.
	a.ok(protocol.MethodClientInvite, protocol.InviteParams{InviteID: "i2", Called: "carol"}, nil)
	a.expectEvent(protocol.EventNotifyInviteStatus, &st)
	c.expectEvent(protocol.EventNotifyCallIn, nil)
	c.ok(protocol.MethodRejectCall, protocol.CallActionParams{CallID: "i2"}, nil)
	a.expectEvent(protocol.EventNotifyInviteStatus, &st)
	if st.Status != protocol.InviteRejected {
		t.Fatalf("status after reject %+v", st)
	}
	// Cancel, under both names; only the inviter may.
	a.ok(protocol.MethodCallMoreParty, protocol.InviteParams{InviteID: "i4", Called: "carol"}, nil)
	a.expectEvent(protocol.EventNotifyCallMorePartyStatus, nil)
	c.expectEvent(protocol.EventNotifyCallIn, nil)
	b.fails(protocol.InvalidCallID, protocol.MethodCancelCallMoreParty, protocol.CancelInviteParams{InviteID: "i4"})
	a.fails(protocol.InvalidCallID, protocol.MethodCancelCallMoreParty, protocol.CancelInviteParams{InviteID: "c1"})
	a.ok(protocol.MethodCancelCallMoreParty, protocol.CancelInviteParams{InviteID: "i4"}, &ir)
	c.expectEvent(protocol.EventNotifyCallHungup, nil)
	a.ok(protocol.MethodClientInvite, protocol.InviteParams{InviteID: "i5", Called: "carol"}, nil)
	a.expectEvent(protocol.EventNotifyInviteStatus, nil)
	c.expectEvent(protocol.EventNotifyCallIn, nil)
	a.ok(protocol.MethodClientCancelInvite, protocol.CancelInviteParams{InviteID: "i5"}, nil)
	c.expectEvent(protocol.EventNotifyCallHungup, nil)
	a.fails(protocol.InvalidCallID, protocol.MethodClientCancelInvite, protocol.CancelInviteParams{InviteID: "i5"})
}

// An invite nobody answers ends after CallTimeout with InviteNoAnswer.
// The timeout is short, so this node serves nothing that must be answered
// before it: TestInvites runs with the default.
func TestInviteTimeout(t *testing.T) {
	n := startNode(t, "", func(c *Config) { c.Limits.CallTimeout = 200 * time.Millisecond })
	a, c := login(t, n, "alice"), login(t, n, "carol")
	a.ok(protocol.MethodClientInvite, protocol.InviteParams{InviteID: "i3", Called: "carol"}, nil)
	a.expectEvent(protocol.EventNotifyInviteStatus, nil)
	c.expectEvent(protocol.EventNotifyCallIn, nil)
	var st protocol.NotifyInviteStatus
	a.expectEvent(protocol.EventNotifyInviteStatus, &st)
	if st != (protocol.NotifyInviteStatus{InviteID: "i3", Status: protocol.InviteNoAnswer}) {
		t.Fatalf("status after timeout %+v", st)
	}
	c.expectEvent(protocol.EventNotifyCallHungup, nil)
	c.fails(protocol.InvalidCallID, protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "i3"})
}

// waitUntil polls cond for a bounded time.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("condition not reached")
}

// expectRingTimeout checks what a ringing call's timeout tells its two
// sides: the caller notifyCallRejected with 604, the callee
// notifyCallHungup.
func expectRingTimeout(t *testing.T, caller, callee *wsClient) {
	t.Helper()
	var rej protocol.NotifyCallRejected
	caller.expectEvent(protocol.EventNotifyCallRejected, &rej)
	if rej.SdkErr != protocol.ErrNoAnswer {
		t.Fatalf("the caller heard %+v, want %d", rej, protocol.ErrNoAnswer)
	}
	callee.expectEvent(protocol.EventNotifyCallHungup, nil)
}
