package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crvnode/crvnode/internal/redistest"
	"github.com/crvnode/crvnode/protocol"
)

// Three node processes on one redis-server serve one service: a user on
// any node sees, calls, invites and queues for users on the others, a
// login on another node kicks the first, and a node killed with SIGKILL
// takes only its own users offline, within its heartbeat's lifetime.

// clusterYAML is the configuration every node of the service shares.
const clusterYAML = `
apps:
  - id: acme
    secret: acme-secret
    queues:
      - {id: 1, name: "Sales", desc: "New contracts", prio: 0}
limits:
  rate: 100000
  burst: 100000
`

// startCluster starts k node processes on one Redis.
func startCluster(t *testing.T, rs *redistest.Server, k int) []*proc {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "crvnode.yaml")
	must(t, os.WriteFile(cfg, []byte(clusterYAML), 0o600))
	nodes := make([]*proc, k)
	for i := range nodes {
		nodes[i] = startProc(t, t.TempDir(), "-config", cfg, "-redis", "redis://"+rs.Addr())
	}
	return nodes
}

func loginOn(t *testing.T, p *proc, id string) *user {
	t.Helper()
	return loginAs(t, p.wsURL(), "acme", "acme-secret", id)
}

// statusIn waits for u's notifyUserStatus about who with the given status.
func (u *user) statusIn(who string, status int) protocol.UserStatus {
	u.t.Helper()
	d := u.waitData(protocol.EventNotifyUserStatus, func(d any) bool {
		st := d.(*protocol.NotifyUserStatus).UserStatus
		return st.UserID == who && st.UserStatus == status
	})
	return d.(*protocol.NotifyUserStatus).UserStatus
}

// statusOfUser is who's status in u's getUserStatus.
func statusOfUser(t *testing.T, u *user, who string) (protocol.UserStatus, bool) {
	t.Helper()
	all, err := u.GetUserStatus(ctxTimeout(t, eventWait))
	must(t, err)
	for _, st := range all {
		if st.UserID == who {
			return st, true
		}
	}
	return protocol.UserStatus{}, false
}

func TestClusterOfProcesses(t *testing.T) {
	rs := redistest.Start(t)
	nodes := startCluster(t, rs, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	ctx := ctxTimeout(t, 2*time.Minute)
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range nodes {
				t.Logf("node %c:\n%s", 'A'+i, p.log())
			}
		}
	})

	ann, ben, cat := loginOn(t, a, "ann"), loginOn(t, b, "ben"), loginOn(t, c, "cat")

	t.Run("presence", func(t *testing.T) {
		for _, who := range []string{"ann", "ben"} {
			if st, ok := statusOfUser(t, cat, who); !ok || st.UserStatus != protocol.UserIdle {
				t.Fatalf("cat on C sees %s as %+v (listed %v)", who, st, ok)
			}
		}
		must(t, cat.StartUserStatusNotify(ctx))
		must(t, ann.StartUserStatusNotify(ctx))
		must(t, ben.SetDNDStatus(ctx, 1))
		for _, w := range []*user{cat, ann} {
			d := w.waitData(protocol.EventNotifyUserStatus, nil).(*protocol.NotifyUserStatus)
			if d.UserStatus.UserID != "ben" || d.UserStatus.DNDType != 1 {
				t.Fatalf("%s heard %+v, want ben in DND", w.UserID(), d.UserStatus)
			}
		}
		must(t, ben.SetDNDStatus(ctx, 0))
		for _, w := range []*user{cat, ann} {
			// Once each: the next status event is this one, not the last again.
			if d := w.next(protocol.EventNotifyUserStatus).(*protocol.NotifyUserStatus); d.UserStatus.UserID != "ben" || d.UserStatus.DNDType != 0 {
				t.Fatalf("%s heard %+v, want ben out of DND", w.UserID(), d.UserStatus)
			}
			w.quiet()
		}
	})

	t.Run("call", func(t *testing.T) {
		start := time.Now()
		id, err := ann.Call(ctx, "ben", nil, "hello")
		must(t, err)
		in := ben.waitData(protocol.EventNotifyCallIn, nil).(*protocol.NotifyCallIn)
		if in.CallID != id || in.CallerID != "ann" || in.UsrExtDat != "hello" {
			t.Fatalf("ben on B: notifyCallIn %+v", in)
		}
		must(t, ben.AcceptCall(ctx, id, nil, ""))
		ann.waitData(protocol.EventNotifyCallAccepted, func(d any) bool { return d.(*protocol.NotifyCallAccepted).CallID == id })
		t.Logf("call from A to B set up in %v", time.Since(start))
		// Both busy, as every node sees it.
		cat.statusIn("ben", protocol.UserBusy)
		if _, err := cat.Call(ctx, "ben", nil, ""); protocol.CodeOf(err) != protocol.ErrBusy {
			t.Fatalf("calling ben, busy on another node: %v", err)
		}
		must(t, ann.HungupCall(ctx, id, ""))
		ben.waitData(protocol.EventNotifyCallHungup, func(d any) bool { return d.(*protocol.NotifyCallHungup).CallID == id })
		cat.statusIn("ben", protocol.UserIdle)
	})

	t.Run("invite", func(t *testing.T) {
		meet, err := ann.CreateMeeting(ctx, "cluster", 0)
		must(t, err)
		id, err := ann.ClientInvite(ctx, "cat", &meet, "join us")
		must(t, err)
		in := cat.waitData(protocol.EventNotifyCallIn, nil).(*protocol.NotifyCallIn)
		if in.CallID != id || in.MeetObj.ID != meet.ID {
			t.Fatalf("cat on C: invite %+v, want %s to meeting %d", in, id, meet.ID)
		}
		must(t, cat.AcceptCall(ctx, id, nil, ""))
		ann.waitData(protocol.EventNotifyInviteStatus, func(d any) bool {
			st := d.(*protocol.NotifyInviteStatus)
			return st.InviteID == id && st.Status == protocol.InviteAccepted
		})
		must(t, ann.HungupCall(ctx, id, ""))
	})

	t.Run("queue", func(t *testing.T) {
		// The agent on A, the customer on C: one assignment, to the agent.
		must(t, ann.StartService(ctx, 1, 0))
		dan := loginOn(t, c, "dan")
		must(t, dan.StartQueuing(ctx, 1, "contract 42"))
		qu := ann.waitData(protocol.EventAutoAssignUser, nil).(*protocol.QueUser)
		if qu.UserID != "dan" || qu.QueID != 1 || qu.UsrExtDat != "contract 42" {
			t.Fatalf("ann on A was assigned %+v", qu)
		}
		must(t, ann.AcceptAssignUser(ctx, 1, "dan"))
		// A read on another node shows a change once that node has read
		// it from the log: a moment later.
		var st protocol.QueStatus
		waitFor(t, "B sees the accept", 5*time.Second, func() bool {
			var err error
			st, err = ben.GetQueueStatus(ctx, 1)
			return err == nil && st.AgentNum == 1 && st.WaitNum == 0 && st.SrvNum == 1
		})
		must(t, ann.StopService(ctx, 1))
	})

	t.Run("kick", func(t *testing.T) {
		again := loginOn(t, c, "ben")
		off := ben.waitData(protocol.EventLineOff, nil).(*protocol.LineOff)
		if off.SdkEr != protocol.UserBeenKickout {
			t.Fatalf("ben on B: lineOff %+v, want %d", off, protocol.UserBeenKickout)
		}
		cat.statusIn("ben", protocol.UserOffline)
		cat.statusIn("ben", protocol.UserIdle)
		// The new session works: ann calls ben, now on C.
		id, err := ann.Call(ctx, "ben", nil, "")
		must(t, err)
		again.waitData(protocol.EventNotifyCallIn, func(d any) bool { return d.(*protocol.NotifyCallIn).CallID == id })
		must(t, ann.HungupCall(ctx, id, ""))
	})

	t.Run("redis hangs", func(t *testing.T) {
		// Changes need the log: one made while Redis hangs is answered
		// 8 once Redis goes on and the log has moved past it (it then
		// counts nowhere); reads of the node's own copy answer meanwhile.
		rs.Stop()
		hung := true
		defer func() {
			if hung {
				rs.Cont()
			}
		}()
		start := time.Now()
		failed := make(chan error, 1)
		go func() { failed <- ann.SetDNDStatus(ctxTimeout(t, 40*time.Second), 1) }()
		time.Sleep(3 * time.Second)
		// Another user's read (ann's connection waits for her change).
		if st, ok := statusOfUser(t, cat, "ann"); !ok || st.DNDType != 0 {
			t.Fatalf("getUserStatus with Redis hung: ann %+v (listed %v)", st, ok)
		}
		rs.Cont()
		hung = false
		err := <-failed
		took := time.Since(start)
		if protocol.CodeOf(err) != protocol.ServerException {
			t.Fatalf("setDNDStatus with Redis hung for 3 s: %v", err)
		}
		t.Logf("a change made with Redis hung for 3 s was answered 8 after %v", took)
		// Back: a change goes through, and every node has it; the one
		// that failed, which Redis may have run once it went on, is void
		// everywhere.
		// A change made on a node is applied there before it is answered:
		// these come after the failed one in the log, if it is there.
		waitFor(t, "a change on C after Redis came back", 15*time.Second, func() bool {
			return cat.SetDNDStatus(ctx, 1) == nil
		})
		must(t, ann.SetNickName(ctx, "Ann again"))
		for _, w := range []*user{ann, cat} {
			if st, _ := statusOfUser(t, w, "ann"); st.DNDType != 0 {
				t.Fatalf("%s's node has ann in DND, which she was told failed: %+v", w.UserID(), st)
			}
		}
		waitFor(t, "A has cat's change", 10*time.Second, func() bool {
			st, _ := statusOfUser(t, ann, "cat")
			return st.DNDType == 1
		})
		must(t, cat.SetDNDStatus(ctx, 0))
	})

	t.Run("node killed", func(t *testing.T) {
		eve := loginOn(t, b, "eve")
		cat.statusIn("eve", protocol.UserIdle)
		id, err := ann.Call(ctx, "eve", nil, "")
		must(t, err)
		eve.waitData(protocol.EventNotifyCallIn, nil)
		killNode(t, b)
		start := time.Now()
		skipTo(t, cat.events, "cat", protocol.EventNotifyUserStatus, func(d any) bool {
			st := d.(*protocol.NotifyUserStatus).UserStatus
			return st.UserID == "eve" && st.UserStatus == protocol.UserOffline
		}, 15*time.Second)
		took := time.Since(start)
		// eve's call ended with her node: ann is told.
		ann.waitData(protocol.EventNotifyCallHungup, func(d any) bool { return d.(*protocol.NotifyCallHungup).CallID == id })
		t.Logf("the killed node's user was offline everywhere after %v", took)
		if took > 12*time.Second {
			t.Fatalf("offline after %v: the heartbeat's lifetime is 6 s", took)
		}
		// The others go on, and a new login on a live node serves eve.
		eve2 := loginOn(t, a, "eve")
		id2, err := cat.Call(ctx, "eve", nil, "")
		must(t, err)
		eve2.waitData(protocol.EventNotifyCallIn, func(d any) bool { return d.(*protocol.NotifyCallIn).CallID == id2 })
	})
}

// A node whose Redis cannot be reached does not start: it exits with 1
// and says which address it tried.
func TestClusterRedisUnreachable(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	// A free port with nothing listening: a Redis started and stopped.
	rs := redistest.Start(t)
	addr := rs.Addr()
	rs.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBinary(t), "-http", "127.0.0.1:0", "-rtc", "", "-turn", "", "-data", t.TempDir(),
		"-redis", "redis://"+addr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("node with Redis unreachable: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), addr) {
		t.Fatalf("the error does not name %s:\n%s", addr, stderr.String())
	}
	if strings.Contains(stderr.String(), "crvnode listening") {
		t.Fatalf("the node listened before it had joined:\n%s", stderr.String())
	}
	t.Logf("exited after %v: %s", time.Since(start), strings.TrimSpace(stderr.String()))
}

// A node whose apps, queues or limits differ from the live nodes' does
// not join: their copies of the state would part.
func TestClusterConfigMismatch(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	rs := redistest.Start(t)
	startCluster(t, rs, 1)
	other := filepath.Join(t.TempDir(), "other.yaml")
	must(t, os.WriteFile(other, []byte(clusterYAML+"  maxMembers: 7\n"), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBinary(t), "-http", "127.0.0.1:0", "-rtc", "", "-turn", "", "-data", t.TempDir(),
		"-config", other, "-redis", "redis://"+rs.Addr())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "another configuration") {
		t.Fatalf("a node with other limits: %v\n%s", err, stderr.String())
	}
}
