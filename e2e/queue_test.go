package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
)

// queueYAML is a configuration with the contract's queue keys: the node
// reads them from the app's own mapping.
const queueYAML = `
apps:
  - id: acme
    secret: acme-secret
    queues:
      - {id: 1, name: "Sales", desc: "New contracts", prio: 0}
      - {id: 2, name: "Claims", desc: "", prio: 1}
    assignTimeout: 30s
    rejectHold: 60s
  - id: globex
    secret: globex-secret
`

func startQueueNode(t *testing.T) *node.Node {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crvnode.yaml")
	must(t, os.WriteFile(path, []byte(queueYAML), 0o600))
	fc, err := node.LoadConfigFile(path)
	must(t, err)
	if q := fc.Apps[0].Queue; len(q.Queues) != 2 || q.Queues[1].Name != "Claims" || q.AssignTimeout != 30*time.Second || q.RejectHold != time.Minute {
		t.Fatalf("queues read from YAML: %+v", q)
	}
	return startNode(t, "", fc)
}

// assignedTo waits for u's autoAssignUser and checks whom it carries.
func (u *user) assignedTo(queID int, userID string) *protocol.QueUser {
	u.t.Helper()
	qu := u.waitData(protocol.EventAutoAssignUser, nil).(*protocol.QueUser)
	if qu.QueID != queID || qu.UserID != userID || qu.NickName != "Nick "+userID {
		u.t.Fatalf("%s: autoAssignUser %+v, want %s of queue %d", u.UserID(), qu, userID, queID)
	}
	return qu
}

// position waits for u's queuingInfoChanged and checks it.
func (u *user) position(queID, position int) {
	u.t.Helper()
	qi := u.waitData(protocol.EventQueuingInfoChanged, nil).(*protocol.QueuingInfo)
	if qi.QueID != queID || qi.Position != position {
		u.t.Fatalf("%s: queuingInfoChanged %+v, want queue %d position %d", u.UserID(), qi, queID, position)
	}
}

// noAssignment checks that no autoAssignUser reaches u for a short while
// (other events may).
func (u *user) noAssignment() {
	u.t.Helper()
	deadline := time.After(200 * time.Millisecond)
	for {
		select {
		case ev := <-u.events:
			if ev.Method == protocol.EventAutoAssignUser {
				u.t.Fatalf("%s: unexpected autoAssignUser %+v", u.UserID(), ev.Data)
			}
		case <-deadline:
			return
		}
	}
}

// TestQueueDesk runs a customer-service desk over real WebSockets: two
// agents with priorities free at once, three customers in two queues, a
// reject, a customer who disconnects while assigned, DND on and off, and
// the agent calling its accepted customer into a meeting as the seeds do.
func TestQueueDesk(t *testing.T) {
	n := startQueueNode(t)
	ctx := ctxTimeout(t, 20*time.Second)
	ann, ben := loginAcme(t, n, "ann"), loginAcme(t, n, "ben")

	dat, err := ann.InitQueueDat(ctx)
	must(t, err)
	if len(dat.Queues) != 2 || dat.Queues[0].Name != "Sales" || dat.Queues[0].Desc != "New contracts" || dat.Queues[1].Prio != 1 ||
		len(dat.Statuses) != 2 || dat.Queuing.QueID != 0 || len(dat.Serving) != 0 {
		t.Fatalf("initQueueDat %+v", dat)
	}
	for _, q := range []int{1, 2} {
		must(t, ann.StartService(ctx, q, 5))
		must(t, ben.StartService(ctx, q, 1))
	}
	if dat, err := ben.InitQueueDat(ctx); err != nil || len(dat.Serving) != 2 {
		t.Fatalf("ben serves %+v (%v)", dat, err)
	}
	// The agents talk to each other while the customers arrive.
	busy, err := ann.Call(ctx, "ben", nil, "")
	must(t, err)
	ben.waitData(protocol.EventNotifyCallIn, nil)
	must(t, ben.AcceptCall(ctx, busy, nil, ""))
	ann.waitData(protocol.EventNotifyCallAccepted, nil)

	cat, dan, eve := loginAcme(t, n, "cat"), loginAcme(t, n, "dan"), loginAcme(t, n, "eve")
	must(t, cat.StartQueuing(ctx, 2, "claim 7"))
	cat.position(2, 1)
	must(t, dan.StartQueuing(ctx, 1, "contract 42"))
	dan.position(1, 1)
	must(t, eve.StartQueuing(ctx, 1, ""))
	eve.position(1, 2)
	if err := eve.StartQueuing(ctx, 2, ""); protocol.CodeOf(err) != protocol.QueueAlreadyQueuing {
		t.Fatalf("queuing twice: %v", err)
	}
	st, err := ann.GetQueueStatus(ctx, 1)
	must(t, err)
	if st != (protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 2}) {
		t.Fatalf("Sales %+v", st)
	}

	// Both agents are free at once: ben (priority 1) gets Sales' front
	// customer, ann the next; Claims waits.
	must(t, ann.HungupCall(ctx, busy, ""))
	if qu := ben.assignedTo(1, "dan"); qu.UsrExtDat != "contract 42" {
		t.Fatalf("autoAssignUser %+v", qu)
	}
	ann.assignedTo(1, "eve")
	statuses, err := cat.RefreshAllQueueStatus(ctx)
	must(t, err)
	if len(statuses) != 2 || statuses[0] != (protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 2, SrvNum: 2}) ||
		statuses[1] != (protocol.QueStatus{QueID: 2, AgentNum: 2, WaitNum: 1}) {
		t.Fatalf("statuses %+v", statuses)
	}

	// ann rejects eve: eve goes to the front, ann is given cat.
	must(t, ann.RejectAssignUser(ctx, 1, "eve"))
	eve.position(1, 1)
	dan.position(1, 2)
	ann.assignedTo(2, "cat")
	if err := ann.AcceptAssignUser(ctx, 1, "eve"); protocol.CodeOf(err) != protocol.QueueUserCancelled {
		t.Fatalf("accepting a rejected customer: %v", err)
	}
	if err := ben.AcceptAssignUser(ctx, 2, "cat"); protocol.CodeOf(err) != protocol.QueueUserCancelled {
		t.Fatalf("accepting ann's assignment: %v", err)
	}

	// cat disconnects while assigned to ann.
	must(t, cat.Close())
	ca := ann.waitData(protocol.EventCancelAssignUser, nil).(*protocol.CancelAssignUser)
	if *ca != (protocol.CancelAssignUser{QueID: 2, UserID: "cat"}) {
		t.Fatalf("cancelAssignUser %+v", ca)
	}
	if err := ann.AcceptAssignUser(ctx, 2, "cat"); protocol.CodeOf(err) != protocol.QueueUserCancelled {
		t.Fatalf("accepting a customer who left: %v", err)
	}
	ann.noAssignment() // eve is held from ann

	// ben accepts dan and calls it into a meeting, as the seeds do.
	must(t, ben.AcceptAssignUser(ctx, 1, "dan"))
	dan.position(0, 0)
	meet, err := ben.CreateMeeting(ctx, "Desk", 1)
	must(t, err)
	callID, err := ben.Call(ctx, "dan", &meet, "your advisor")
	must(t, err)
	in := dan.waitData(protocol.EventNotifyCallIn, nil).(*protocol.NotifyCallIn)
	if in.CallID != callID || in.CallerID != "ben" || in.MeetObj.ID != meet.ID {
		t.Fatalf("notifyCallIn %+v", in)
	}
	must(t, dan.AcceptCall(ctx, in.CallID, &in.MeetObj, ""))
	ben.waitData(protocol.EventNotifyCallAccepted, nil)
	_, err = ben.EnterMeeting(ctx, meet.ID, meet.Pswd, "")
	must(t, err)
	res, err := dan.EnterMeeting(ctx, in.MeetObj.ID, in.MeetObj.Pswd, "")
	must(t, err)
	if len(res.Members) != 2 {
		t.Fatalf("members %+v", res.Members)
	}
	st, err = eve.GetQueueStatus(ctx, 1)
	must(t, err)
	if st != (protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 1, SrvNum: 1}) {
		t.Fatalf("Sales while ben serves dan %+v", st)
	}

	// With DND on, ben is given nobody when the call ends, until it asks.
	must(t, ben.SetDNDStatus(ctx, 1))
	must(t, ben.HungupCall(ctx, callID, ""))
	dan.waitData(protocol.EventNotifyCallHungup, nil)
	ben.noAssignment()
	qu, err := ben.ReqAssignUser(ctx)
	must(t, err)
	if qu.QueID != 1 || qu.UserID != "eve" {
		t.Fatalf("reqAssignUser %+v", qu)
	}
	must(t, ben.AcceptAssignUser(ctx, 1, "eve"))
	eve.position(0, 0)
	if _, err := ben.ReqAssignUser(ctx); protocol.CodeOf(err) != protocol.QueueNoUser {
		t.Fatalf("reqAssignUser with nobody waiting: %v", err)
	}

	// ann turns DND on, fay queues, ann turns it off and is given fay.
	must(t, ann.SetDNDStatus(ctx, 1))
	fay := loginAcme(t, n, "fay")
	must(t, fay.StartQueuing(ctx, 2, ""))
	fay.position(2, 1)
	ann.noAssignment()
	must(t, ann.SetDNDStatus(ctx, 0))
	ann.assignedTo(2, "fay")
	must(t, ann.AcceptAssignUser(ctx, 2, "fay"))
	fay.position(0, 0)

	// Another app's user sees its own (empty) queue component.
	gary := loginAs(t, "ws://"+n.Addr()+"/ws", "globex", "globex-secret", "gary")
	if _, err := gary.GetQueueStatus(ctx, 1); protocol.CodeOf(err) != protocol.QueueIDErr {
		t.Fatalf("globex queue 1: %v", err)
	}
	if err := gary.AcceptAssignUser(ctx, 1, "fay"); protocol.CodeOf(err) != protocol.QueueIDErr {
		t.Fatalf("globex accepting acme's customer: %v", err)
	}
	if err := gary.StartService(ctx, 1, 0); protocol.CodeOf(err) != protocol.QueueIDErr {
		t.Fatalf("globex serving acme's queue: %v", err)
	}
	must(t, ann.StopService(ctx, 1))
	must(t, ann.StopService(ctx, 2))
	if err := ann.StopService(ctx, 2); protocol.CodeOf(err) != protocol.QueueServiceNotStart {
		t.Fatalf("stopping a queue not served: %v", err)
	}
	if _, err := ann.ReqAssignUser(ctx); protocol.CodeOf(err) != protocol.QueueServiceNotStart {
		t.Fatalf("reqAssignUser serving nothing: %v", err)
	}
}
