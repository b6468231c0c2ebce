package e2e

import (
	"testing"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/internal/redistest"
	"github.com/crvnode/crvnode/protocol"
)

// A meeting entered from two nodes of one service, with video and audio
// both ways: its media is forwarded by the node of its first member with
// media, and the member who logged in on the other node is moved there by
// its SDK, transparently. Its watchers never see it offline.
func TestClusterMeetingFromTwoNodes(t *testing.T) {
	rs := redistest.Start(t)
	nodes := startCluster(t, rs, 2)
	a, b := nodes[0], nodes[1]
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range nodes {
				t.Logf("node %c:\n%s", 'A'+i, p.log())
			}
		}
	})
	ctx := ctxTimeout(t, 90*time.Second)
	ann := joinMediaAt(t, a.wsURL(), "ann", client.Options{})
	ben := joinMediaAt(t, b.wsURL(), "ben", client.Options{})
	cat := loginOn(t, b, "cat") // watches from the node ben leaves
	must(t, cat.StartUserStatusNotify(ctx))
	for _, u := range []*mediaUser{ann, ben} {
		u.SetMicSource(client.NewSyntheticAudio())
		u.SetCameraSource(client.NewSyntheticVideo(300_000, 30, false))
	}
	meet, err := ann.CreateMeeting(ctx, "two nodes", 0)
	must(t, err)
	_, err = ann.EnterMeeting(ctx, meet.ID, "", "")
	must(t, err) // A forwards its media
	res, err := ben.EnterMeeting(ctx, meet.ID, "", "")
	must(t, err) // ben's session moves to A on the way
	if len(res.Members) != 2 {
		t.Fatalf("ben entered with members %+v", res.Members)
	}
	if got, _ := scrapeProc(a, `crvnode_session_moves_total{outcome="taken"}`); got != 1 {
		t.Fatalf("node A took %v sessions, want 1", got)
	}
	for _, u := range []*mediaUser{ann, ben} {
		must(t, u.OpenMic(ctx, u.UserID()))
		must(t, u.OpenVideo(ctx, u.UserID()))
	}
	must(t, ann.SetVideo(ctx, "ben", protocol.VideoIDCamera, 0))
	must(t, ben.SetVideo(ctx, "ann", protocol.VideoIDCamera, 0))
	for _, k := range []struct {
		u   *mediaUser
		key string
	}{{ann, "ben/camera"}, {ann, "ben/mic"}, {ben, "ann/camera"}, {ben, "ann/mic"}} {
		s := k.u.waitPackets(t, k.key, 60, 15*time.Second)
		if p, bad, _ := s.snapshot(); bad != 0 {
			t.Errorf("%s got %s: %d packets, %d bad", k.u.UserID(), k.key, p, bad)
		}
	}
	cat.waitData(protocol.EventNotifyUserStatus, func(d any) bool {
		st := d.(*protocol.NotifyUserStatus).UserStatus
		if st.UserID == "ben" && st.UserStatus == protocol.UserOffline {
			t.Fatal("cat saw ben offline while his session moved")
		}
		return st.UserID == "ben" && st.UserStatus == protocol.UserInMeeting
	})
	// The moved session carries on as any other: it leaves, and its
	// presence follows on every node.
	must(t, ben.ExitMeeting(ctx))
	cat.statusIn("ben", protocol.UserIdle)
	if st, ok := statusOfUser(t, cat, "ben"); !ok || st.UserStatus != protocol.UserIdle {
		t.Fatalf("cat on B lists ben as %+v", st)
	}
}
