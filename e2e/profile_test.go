package e2e

import (
	"testing"
	"time"

	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
)

// TestSetNickNameInMeeting: a Go client that renames itself is shown
// under the new name in the other members' lists, and they are told.
func TestSetNickNameInMeeting(t *testing.T) {
	n := startNode(t, "", node.FileConfig{})
	ctx := ctxTimeout(t, 10*time.Second)
	alice, bob := loginAcme(t, n, "alice"), loginAcme(t, n, "bob")
	meet, err := alice.CreateMeeting(ctx, "names", 0)
	must(t, err)
	_, err = alice.EnterMeeting(ctx, meet.ID, meet.Pswd, "")
	must(t, err)
	_, err = bob.EnterMeeting(ctx, meet.ID, meet.Pswd, "")
	must(t, err)
	alice.next(protocol.EventUserEnterMeeting)

	must(t, bob.SetNickName(ctx, "Robert"))
	ev := alice.next(protocol.EventNotifyNickNameChanged).(*protocol.NickNameChanged)
	if ev.UserID != "bob" || ev.NewName != "Robert" {
		t.Fatalf("notifyNickNameChanged %+v", ev)
	}
	if m, ok := alice.Member("bob"); !ok || m.NickName != "Robert" {
		t.Fatalf("alice's member list has bob as %+v (%v)", m, ok)
	}
	bob.next(protocol.EventNotifyNickNameChanged)
}
