package e2e

import (
	"errors"
	"testing"
	"time"

	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
	"github.com/crvnode/crvnode/signaling"
)

// TestSeedCallFlow runs the vendor's call flow with two Go clients:
// create → call → accept → both enter → hang up → exit.
func TestSeedCallFlow(t *testing.T) {
	n := startNode(t, "", node.FileConfig{})
	alice, bob := loginAcme(t, n, "alice"), loginAcme(t, n, "bob")
	ctx := ctxTimeout(t, 10*time.Second)

	meet, err := alice.CreateMeeting(ctx, "Seed flow", 1)
	must(t, err)
	callID, err := alice.Call(ctx, "bob", &meet, "from alice")
	must(t, err)
	in := bob.next(protocol.EventNotifyCallIn).(*protocol.NotifyCallIn)
	if in.CallID != callID || in.CallerID != "alice" || in.MeetObj.ID != meet.ID || in.UsrExtDat != "from alice" {
		t.Fatalf("notifyCallIn %+v", in)
	}
	must(t, bob.AcceptCall(ctx, in.CallID, &in.MeetObj, "yes"))
	acc := alice.next(protocol.EventNotifyCallAccepted).(*protocol.NotifyCallAccepted)
	if acc.CallID != callID || acc.UsrExtDat != "yes" {
		t.Fatalf("notifyCallAccepted %+v", acc)
	}
	_, err = alice.EnterMeeting(ctx, meet.ID, meet.Pswd, "")
	must(t, err)
	res, err := bob.EnterMeeting(ctx, in.MeetObj.ID, in.MeetObj.Pswd, "Bobby")
	must(t, err)
	if len(res.Members) != 2 {
		t.Fatalf("members %+v", res.Members)
	}
	enter := alice.next(protocol.EventUserEnterMeeting).(*protocol.UserEnterMeeting)
	if enter.UserID != "bob" || enter.NickName != "Bobby" {
		t.Fatalf("userEnterMeeting %+v", enter)
	}
	// Both SDKs answer the member queries locally.
	for _, u := range []*user{alice, bob} {
		if !u.IsUserInMeeting("alice") || !u.IsUserInMeeting("bob") || u.MemberNickName("bob") != "Bobby" || len(u.Members()) != 2 {
			t.Fatalf("%s members %+v", u.UserID(), u.Members())
		}
	}
	must(t, alice.HungupCall(ctx, callID, "bye"))
	hung := bob.next(protocol.EventNotifyCallHungup).(*protocol.NotifyCallHungup)
	if hung.CallID != callID || hung.UsrExtDat != "bye" {
		t.Fatalf("notifyCallHungup %+v", hung)
	}
	must(t, alice.ExitMeeting(ctx))
	if left := bob.next(protocol.EventUserLeftMeeting).(*protocol.UserLeftMeeting); left.UserID != "alice" {
		t.Fatalf("userLeftMeeting %+v", left)
	}
	if bob.IsUserInMeeting("alice") || alice.MeetingID() != 0 {
		t.Fatal("member lists not updated after exit")
	}
	// Errors carry their CRVideo code through the SDK.
	err = alice.HungupCall(ctx, callID, "")
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Code != protocol.InvalidCallID {
		t.Fatalf("second hang-up: %v", err)
	}
}

func TestInvitesAndPresence(t *testing.T) {
	n := startNode(t, "", node.FileConfig{Limits: signaling.Limits{CallTimeout: 300 * time.Millisecond}})
	watch := loginAcme(t, n, "watch")
	ctx := ctxTimeout(t, 10*time.Second)
	must(t, watch.StartUserStatusNotify(ctx))
	alice, carol := loginAcme(t, n, "alice"), loginAcme(t, n, "carol")
	status := func(id string, st int) {
		t.Helper()
		ev := watch.next(protocol.EventNotifyUserStatus).(*protocol.NotifyUserStatus)
		if ev.UserStatus.UserID != id || ev.UserStatus.UserStatus != st {
			t.Fatalf("notifyUserStatus %+v, want %s=%d", ev.UserStatus, id, st)
		}
	}
	status("alice", protocol.UserIdle)
	status("carol", protocol.UserIdle)

	meet, err := alice.CreateMeeting(ctx, "Invites", 0)
	must(t, err)
	_, err = alice.EnterMeeting(ctx, meet.ID, "", "")
	must(t, err)
	status("alice", protocol.UserInMeeting)

	inviteID, err := alice.CallMoreParty(ctx, "carol", nil, "come")
	must(t, err)
	st := alice.next(protocol.EventNotifyCallMorePartyStatus).(*protocol.NotifyInviteStatus)
	if st.InviteID != inviteID || st.Status != protocol.InviteRinging {
		t.Fatalf("status %+v", st)
	}
	in := carol.next(protocol.EventNotifyCallIn).(*protocol.NotifyCallIn)
	status("carol", protocol.UserBusy)
	if in.CallID != inviteID || in.MeetObj.ID != meet.ID {
		t.Fatalf("invite %+v", in)
	}
	must(t, carol.AcceptCall(ctx, inviteID, nil, ""))
	if st := alice.next(protocol.EventNotifyCallMorePartyStatus).(*protocol.NotifyInviteStatus); st.Status != protocol.InviteAccepted {
		t.Fatalf("status %+v", st)
	}
	_, err = carol.EnterMeeting(ctx, in.MeetObj.ID, in.MeetObj.Pswd, "")
	must(t, err)
	status("carol", protocol.UserInMeeting)
	alice.next(protocol.EventUserEnterMeeting)

	// clientInvite reports with notifyInviteStatus; nobody answers.
	bob := loginAcme(t, n, "bob")
	status("bob", protocol.UserIdle)
	id2, err := alice.ClientInvite(ctx, "bob", &meet, "")
	must(t, err)
	alice.next(protocol.EventNotifyInviteStatus)
	bob.next(protocol.EventNotifyCallIn)
	status("bob", protocol.UserBusy)
	if st := alice.next(protocol.EventNotifyInviteStatus).(*protocol.NotifyInviteStatus); st.InviteID != id2 || st.Status != protocol.InviteNoAnswer {
		t.Fatalf("status %+v", st)
	}
	bob.next(protocol.EventNotifyCallHungup)
	status("bob", protocol.UserIdle)
}

func TestKickByRelogin(t *testing.T) {
	n := startNode(t, "", node.FileConfig{})
	first := loginAcme(t, n, "alice")
	second := loginAcme(t, n, "alice")
	if off := first.next(protocol.EventLineOff).(*protocol.LineOff); off.SdkEr != protocol.UserBeenKickout {
		t.Fatalf("lineOff %+v", off)
	}
	select {
	case <-first.Done():
	case <-time.After(eventWait):
		t.Fatal("kicked client still connected")
	}
	first.quiet() // one lineOff only, not a second one for the drop
	if _, err := second.GetUserStatus(ctxTimeout(t, eventWait)); err != nil {
		t.Fatal(err)
	}
}

func TestAppsIsolated(t *testing.T) {
	n := startNode(t, "", node.FileConfig{})
	ctx := ctxTimeout(t, 10*time.Second)
	acme := loginAcme(t, n, "alice")
	must(t, acme.StartUserStatusNotify(ctx))
	globex := loginAs(t, "ws://"+n.Addr()+"/ws", "globex", "globex-secret", "gary")
	acme.quiet()
	list, err := globex.GetUserStatus(ctx)
	must(t, err)
	if len(list) != 1 || list[0].UserID != "gary" {
		t.Fatalf("globex sees %+v", list)
	}
	meet, err := acme.CreateMeeting(ctx, "acme", 0)
	must(t, err)
	if _, err := globex.EnterMeeting(ctx, meet.ID, "", ""); protocol.CodeOf(err) != protocol.MeetNotExist {
		t.Fatalf("cross-app enter: %v", err)
	}
	if _, err := globex.Call(ctx, "alice", nil, ""); protocol.CodeOf(err) != protocol.ErrUserNotFound {
		t.Fatalf("cross-app call: %v", err)
	}
}

func TestMeetingChatAndKickout(t *testing.T) {
	n := startNode(t, "", node.FileConfig{})
	ctx := ctxTimeout(t, 10*time.Second)
	host, guest := loginAcme(t, n, "host"), loginAcme(t, n, "guest")
	meet, err := host.CreateMeeting(ctx, "chat", 0)
	must(t, err)
	_, err = host.EnterMeeting(ctx, meet.ID, "", "")
	must(t, err)
	_, err = guest.EnterMeeting(ctx, meet.ID, "", "")
	must(t, err)
	host.next(protocol.EventUserEnterMeeting)
	must(t, guest.SendMeetingCustomMsg(ctx, "hello"))
	for _, u := range []*user{host, guest} {
		if m := u.next(protocol.EventNotifyMeetingCustomMsg).(*protocol.NotifyMeetingCustomMsg); m.UserID != "guest" || m.Msg != "hello" {
			t.Fatalf("custom msg %+v", m)
		}
	}
	if err := guest.Kickout(ctx, "host"); protocol.CodeOf(err) != protocol.APINoPermission {
		t.Fatalf("guest kicking the host: %v", err)
	}
	must(t, host.Kickout(ctx, "guest"))
	if d := guest.next(protocol.EventMeetingDropped).(*protocol.MeetingDropped); d.Reason != protocol.DropKickedOut {
		t.Fatalf("meetingDropped %+v", d)
	}
	host.next(protocol.EventUserLeftMeeting)
	if guest.MeetingID() != 0 || len(guest.Members()) != 0 || host.IsUserInMeeting("guest") {
		t.Fatal("member lists not updated after kickout")
	}
}
