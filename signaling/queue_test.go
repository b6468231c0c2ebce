package signaling

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/crvnode/crvnode/protocol"
)

// queueApps are the test apps with queues: acme has Sales (prio 0) and
// Claims (prio 1), globex a desk of its own under queID 1 too.
func queueApps(tweak func(*QueueConfig)) []AppConfig {
	apps := defaultTestApps()
	apps[0].Queue = QueueConfig{Queues: []QueueDef{
		{ID: 1, Name: "Sales", Desc: "New contracts", Prio: 0}, {ID: 2, Name: "Claims", Prio: 1},
	}}
	apps[1].Queue = QueueConfig{Queues: []QueueDef{{ID: 1, Name: "Desk"}}}
	if tweak != nil {
		tweak(&apps[0].Queue)
	}
	return apps
}

func startQueueNode(t *testing.T, tweak func(*QueueConfig)) *testNode {
	return startNode(t, "", func(c *Config) { c.Apps = queueApps(tweak) })
}

func (c *wsClient) expectQueueStatus(want protocol.QueStatus) {
	c.t.Helper()
	var st protocol.QueStatus
	c.expectEvent(protocol.EventQueueStatusChanged, &st)
	if st != want {
		c.t.Fatalf("queueStatusChanged %+v, want %+v", st, want)
	}
}

// expectQueuing checks a queuingInfoChanged's queue and position.
func (c *wsClient) expectQueuing(queID, position int) {
	c.t.Helper()
	var qi protocol.QueuingInfo
	c.expectEvent(protocol.EventQueuingInfoChanged, &qi)
	if qi.QueID != queID || qi.Position != position || qi.QueuingTime < 0 {
		c.t.Fatalf("queuingInfoChanged %+v, want queue %d position %d", qi, queID, position)
	}
}

func (c *wsClient) expectAssigned(queID int, userID string) protocol.QueUser {
	c.t.Helper()
	var qu protocol.QueUser
	c.expectEvent(protocol.EventAutoAssignUser, &qu)
	if qu.QueID != queID || qu.UserID != userID || qu.NickName != "nick-"+userID {
		c.t.Fatalf("autoAssignUser %+v, want %s of queue %d", qu, userID, queID)
	}
	return qu
}

func (c *wsClient) expectCancelled(queID int, userID string) {
	c.t.Helper()
	var ca protocol.CancelAssignUser
	c.expectEvent(protocol.EventCancelAssignUser, &ca)
	if ca != (protocol.CancelAssignUser{QueID: queID, UserID: userID}) {
		c.t.Fatalf("cancelAssignUser %+v, want %s of queue %d", ca, userID, queID)
	}
}

func (c *wsClient) queueStatus(queID int) protocol.QueStatus {
	c.t.Helper()
	var st protocol.QueStatus
	c.ok(protocol.MethodGetQueueStatus, protocol.QueueIDParams{QueID: queID}, &st)
	return st
}

func (c *wsClient) queueDat() protocol.InitQueueDatResult {
	c.t.Helper()
	var res protocol.InitQueueDatResult
	c.ok(protocol.MethodInitQueueDat, nil, &res)
	return res
}

func assignParams(queID int, userID string) protocol.AssignUserParams {
	return protocol.AssignUserParams{QueID: queID, UserID: userID}
}

func TestQueueConfig(t *testing.T) {
	store := &Store{}
	for _, tc := range []struct {
		name   string
		queues []QueueDef
		field  string
	}{
		{"id 0", []QueueDef{{ID: 0, Name: "a"}}, "Queues[0]"},
		{"negative id", []QueueDef{{ID: 1, Name: "a"}, {ID: -2, Name: "b"}}, "Queues[1]"},
		{"id twice", []QueueDef{{ID: 1, Name: "a"}, {ID: 2, Name: "b"}, {ID: 1, Name: "c"}}, "Queues[2]"},
		{"negative prio", []QueueDef{{ID: 1, Name: "a", Prio: -1}}, "prio"},
		{"no name", []QueueDef{{ID: 1}}, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Apps: []AppConfig{{ID: "acme", Secret: "s", Queue: QueueConfig{Queues: tc.queues}}}, Store: store}
			err := cfg.withDefaults().validate()
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("validate = %v, want %v", err, ErrConfig)
			}
			if !strings.Contains(err.Error(), tc.field) || !strings.Contains(err.Error(), `Apps[0] "acme"`) {
				t.Errorf("validate = %q, which does not name Apps[0] and %s", err, tc.field)
			}
		})
	}
	ok := Config{Apps: queueApps(nil), Store: store}
	if err := ok.withDefaults().validate(); err != nil {
		t.Errorf("good queues refused: %v", err)
	}
	d := QueueConfig{}.withDefaults()
	if d.AssignTimeout != 30*time.Second || d.RejectHold != 60*time.Second {
		t.Errorf("defaults %+v", d)
	}
	set := QueueConfig{AssignTimeout: time.Second, RejectHold: 2 * time.Second}
	if got := set.withDefaults(); got.AssignTimeout != time.Second || got.RejectHold != 2*time.Second {
		t.Errorf("withDefaults changed set times: %+v", got)
	}
}

// One agent, one customer: assigned at once, accepted, called into a
// meeting; when the call ends the agent is given the next customer.
func TestQueueAssignAcceptCall(t *testing.T) {
	n := startQueueNode(t, nil)
	ann, cat := login(t, n, "ann"), login(t, n, "cat")

	dat := ann.queueDat()
	if len(dat.Queues) != 2 || dat.Queues[0] != (protocol.QueueInfo{QueID: 1, Name: "Sales", Desc: "New contracts"}) ||
		dat.Queues[1].QueID != 2 || dat.Queues[1].Prio != 1 || len(dat.Statuses) != 2 || dat.Statuses[1] != (protocol.QueStatus{QueID: 2}) ||
		dat.Queuing != (protocol.QueuingInfo{}) || len(dat.Serving) != 0 {
		t.Fatalf("initQueueDat %+v", dat)
	}
	ann.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1}, nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1})
	if dat := ann.queueDat(); len(dat.Serving) != 1 || dat.Serving[0] != 1 {
		t.Fatalf("serving %+v", dat.Serving)
	}

	cat.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1, UsrExtDat: "contract 42"}, nil)
	if qu := ann.expectAssigned(1, "cat"); qu.UsrExtDat != "contract 42" {
		t.Fatalf("autoAssignUser %+v", qu)
	}
	assigned := protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1, SrvNum: 1}
	ann.expectQueueStatus(assigned)
	cat.expectQueueStatus(assigned)
	cat.expectQueuing(1, 1)
	if dat := cat.queueDat(); dat.Queuing.QueID != 1 || dat.Queuing.Position != 1 {
		t.Fatalf("queuing %+v", dat.Queuing)
	}

	ann.ok(protocol.MethodAcceptAssignUser, assignParams(1, "cat"), nil)
	cat.expectQueuing(0, 0)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, SrvNum: 1})
	ann.fails(protocol.QueueUserCancelled, protocol.MethodAcceptAssignUser, assignParams(1, "cat"))
	cat.fails(protocol.QueueNoUser, protocol.MethodStopQueuing, nil)

	// A second customer waits while ann serves cat.
	dan := login(t, n, "dan")
	dan.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	waiting := protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1, SrvNum: 1}
	ann.expectQueueStatus(waiting)
	dan.expectQueueStatus(waiting)
	dan.expectQueuing(1, 1)

	m := createMeeting(t, ann, "desk", 1)
	ann.ok(protocol.MethodCall, protocol.CallParams{CallID: "q1", CalledUserID: "cat", MeetObj: &m}, nil)
	var in protocol.NotifyCallIn
	cat.expectEvent(protocol.EventNotifyCallIn, &in)
	cat.ok(protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "q1", MeetObj: &in.MeetObj}, nil)
	ann.expectEvent(protocol.EventNotifyCallAccepted, nil)
	ann.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd}, nil)
	cat.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: in.MeetObj.ID, Pswd: in.MeetObj.Pswd}, nil)
	ann.expectEvent(protocol.EventUserEnterMeeting, nil)
	ann.noEvent()
	dan.noEvent()

	ann.ok(protocol.MethodHungupCall, protocol.CallActionParams{CallID: "q1"}, nil)
	cat.expectEvent(protocol.EventNotifyCallHungup, nil)
	ann.expectAssigned(1, "dan")
	ann.noEvent() // the counts are as before: one waiting, one agent busy with the queue
	dan.noEvent()
}

// Two agents with priorities become free at once (their call ends) while
// three customers wait in two queues: Sales is served first, and the
// better agent gets its front customer. A reject puts the customer back at
// the front and keeps it from that agent.
func TestQueuePriorities(t *testing.T) {
	n := startQueueNode(t, nil)
	ann, ben := login(t, n, "ann"), login(t, n, "ben")
	for _, q := range []int{1, 2} {
		ann.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: q, Priority: 5}, nil)
		ann.expectQueueStatus(protocol.QueStatus{QueID: q, AgentNum: 1})
	}
	for _, q := range []int{1, 2} {
		ben.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: q, Priority: 1}, nil)
		ann.expectQueueStatus(protocol.QueStatus{QueID: q, AgentNum: 2})
		ben.expectQueueStatus(protocol.QueStatus{QueID: q, AgentNum: 2})
	}
	ann.ok(protocol.MethodCall, protocol.CallParams{CallID: "busy", CalledUserID: "ben"}, nil)
	ben.expectEvent(protocol.EventNotifyCallIn, nil)
	ben.ok(protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "busy"}, nil)
	ann.expectEvent(protocol.EventNotifyCallAccepted, nil)

	cat, dan, eve := login(t, n, "cat"), login(t, n, "dan"), login(t, n, "eve")
	cat.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 2}, nil)
	dan.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	eve.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	for _, c := range []*wsClient{ann, ben} {
		c.expectQueueStatus(protocol.QueStatus{QueID: 2, AgentNum: 2, WaitNum: 1})
		c.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 1})
		c.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 2})
	}
	cat.expectQueueStatus(protocol.QueStatus{QueID: 2, AgentNum: 2, WaitNum: 1})
	cat.expectQueuing(2, 1)
	dan.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 1})
	dan.expectQueuing(1, 1)
	dan.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 2})
	eve.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 2})
	eve.expectQueuing(1, 2)

	// The call ends: both agents are free at once.
	ann.ok(protocol.MethodHungupCall, protocol.CallActionParams{CallID: "busy"}, nil)
	both := protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 2, SrvNum: 2}
	ben.expectAssigned(1, "dan") // priority 1 before 5
	ben.expectQueueStatus(both)
	ben.expectEvent(protocol.EventNotifyCallHungup, nil)
	ann.expectAssigned(1, "eve")
	ann.expectQueueStatus(both)
	dan.expectQueueStatus(both)
	eve.expectQueueStatus(both)
	cat.noEvent() // Claims waits: nobody is free for it

	// ann rejects eve: eve goes to the front, and ann gets cat instead.
	ann.ok(protocol.MethodRejectAssignUser, assignParams(1, "eve"), nil)
	ann.expectAssigned(2, "cat")
	sales := protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 2, SrvNum: 1}
	claims := protocol.QueStatus{QueID: 2, AgentNum: 2, WaitNum: 1, SrvNum: 1}
	ann.expectQueueStatus(sales)
	ann.expectQueueStatus(claims)
	ben.expectQueueStatus(sales)
	ben.expectQueueStatus(claims)
	eve.expectQueueStatus(sales)
	dan.expectQueueStatus(sales)
	cat.expectQueueStatus(claims)
	eve.expectQueuing(1, 1)
	dan.expectQueuing(1, 2)

	// ben takes dan; eve waits at the front for ben, not for ann.
	ben.ok(protocol.MethodAcceptAssignUser, assignParams(1, "dan"), nil)
	dan.expectQueuing(0, 0)
	after := protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 1, SrvNum: 1}
	ann.expectQueueStatus(after)
	ben.expectQueueStatus(after)
	eve.expectQueueStatus(after)
	eve.noEvent() // still first
	ann.ok(protocol.MethodAcceptAssignUser, assignParams(2, "cat"), nil)
	cat.expectQueuing(0, 0)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 2, AgentNum: 2, SrvNum: 1})
	ben.expectQueueStatus(protocol.QueStatus{QueID: 2, AgentNum: 2, SrvNum: 1})

	// ben's call with dan ends: ben is free and gets eve.
	ben.ok(protocol.MethodCall, protocol.CallParams{CallID: "d", CalledUserID: "dan"}, nil)
	dan.expectEvent(protocol.EventNotifyCallIn, nil)
	dan.ok(protocol.MethodRejectCall, protocol.CallActionParams{CallID: "d"}, nil)
	ben.expectAssigned(1, "eve") // the call ended before the caller hears why
	ben.expectEvent(protocol.EventNotifyCallRejected, nil)
	ann.noEvent() // srv_num stays 1: ben's served customer became ben's assignment
	if st := eve.queueStatus(1); st != (protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 1, SrvNum: 1}) {
		t.Fatalf("status %+v", st)
	}
	checkQueues(t, n.srv.apps["acme"])
	if got := testutil.ToFloat64(n.srv.metrics.queue.assignments.WithLabelValues(assignRejected)); got != 1 {
		t.Errorf("rejected assignments %v", got)
	}
	if got := testutil.ToFloat64(n.srv.metrics.queue.assignments.WithLabelValues(assignAccepted)); got != 2 {
		t.Errorf("accepted assignments %v", got)
	}
}

// Equal priorities: the agent idle longer is given the customer first,
// though the other's userID sorts first.
func TestQueueLongestIdleFirst(t *testing.T) {
	n := startQueueNode(t, nil)
	ann, ben, cat := login(t, n, "ann"), login(t, n, "ben"), login(t, n, "cat")
	ben.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1, Priority: 3}, nil)
	ben.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1})
	ann.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1, Priority: 3}, nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2})
	ben.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2})
	cat.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	ben.expectAssigned(1, "cat")
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 1, SrvNum: 1})
	ann.noEvent()
}

// With DND on nothing is assigned until the agent asks; turning DND off
// assigns at once.
func TestQueueDND(t *testing.T) {
	n := startQueueNode(t, nil)
	ann, cat := login(t, n, "ann"), login(t, n, "cat")
	ann.fails(protocol.QueueServiceNotStart, protocol.MethodReqAssignUser, nil)
	ann.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1}, nil)
	ann.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1}, nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1})
	ann.fails(protocol.QueueNoUser, protocol.MethodReqAssignUser, nil)

	cat.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1})
	ann.noEvent() // no autoAssignUser
	var qu protocol.QueUser
	ann.ok(protocol.MethodReqAssignUser, nil, &qu)
	if qu.QueID != 1 || qu.UserID != "cat" || qu.NickName != "nick-cat" {
		t.Fatalf("reqAssignUser %+v", qu)
	}
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1, SrvNum: 1})
	var again protocol.QueUser
	ann.ok(protocol.MethodReqAssignUser, nil, &again) // it holds cat already
	if again.UserID != "cat" {
		t.Fatalf("second reqAssignUser %+v", again)
	}
	ann.ok(protocol.MethodRejectAssignUser, assignParams(1, "cat"), nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1})
	ann.fails(protocol.QueueNoUser, protocol.MethodReqAssignUser, nil) // cat is held from ann

	// dan queues; ann turns DND off and is given dan at once.
	dan := login(t, n, "dan")
	dan.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 2})
	ann.noEvent()
	ann.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 0}, nil)
	ann.expectAssigned(1, "dan")
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 2, SrvNum: 1})

	ann.ok(protocol.MethodStopService, protocol.QueueIDParams{QueID: 1}, nil)
	ann.fails(protocol.QueueServiceNotStart, protocol.MethodReqAssignUser, nil)
	ann.fails(protocol.QueueServiceNotStart, protocol.MethodStopService, protocol.QueueIDParams{QueID: 1})
	if st := cat.queueStatus(1); st != (protocol.QueStatus{QueID: 1, WaitNum: 2}) {
		t.Fatalf("status after stopService %+v", st)
	}
}

// A reject keeps the customer from that agent for rejectHold; when the
// hold ends the agent is given it again.
func TestQueueRejectHold(t *testing.T) {
	n := startQueueNode(t, nil)
	ann, cat := login(t, n, "ann"), login(t, n, "cat")
	ann.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1}, nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1})
	cat.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	ann.expectAssigned(1, "cat")
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1, SrvNum: 1})
	ann.ok(protocol.MethodRejectAssignUser, assignParams(1, "cat"), nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1})
	ann.noEvent()
	ann.fails(protocol.QueueNoUser, protocol.MethodReqAssignUser, nil)
	ann.fails(protocol.QueueUserCancelled, protocol.MethodAcceptAssignUser, assignParams(1, "cat"))

	// The hold's timer fires now, as if rejectHold had passed.
	app := n.srv.apps["acme"]
	app.mu.Lock()
	hold := app.queues.customers[app.users["cat"]].holds[app.users["ann"]]
	app.mu.Unlock()
	if hold == nil {
		t.Fatal("no hold")
	}
	hold.timer.Reset(0)
	ann.expectAssigned(1, "cat")
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1, SrvNum: 1})
}

// An assignment nobody answers goes back after assignTimeout: the agent is
// told, the customer keeps its place, and the agent is given the next
// customer instead. Nothing here must be answered within the short time.
func TestQueueAssignTimeout(t *testing.T) {
	n := startQueueNode(t, func(q *QueueConfig) { q.AssignTimeout = 150 * time.Millisecond })
	ann, cat, dan := login(t, n, "ann"), login(t, n, "cat"), login(t, n, "dan")
	cat.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	dan.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	ann.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1}, nil)
	ann.expectAssigned(1, "cat")
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 2, SrvNum: 1})
	ann.expectCancelled(1, "cat")
	ann.expectAssigned(1, "dan")
	ann.expectCancelled(1, "dan")
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 2})
	ann.noEvent() // both held from ann now
	if dat := cat.queueDat(); dat.Queuing.QueID != 1 || dat.Queuing.Position != 1 {
		t.Fatalf("cat after the timeout %+v", dat.Queuing)
	}
	if dat := dan.queueDat(); dat.Queuing.Position != 2 {
		t.Fatalf("dan after the timeout %+v", dat.Queuing)
	}
	if got := testutil.ToFloat64(n.srv.metrics.queue.assignments.WithLabelValues(assignTimeout)); got != 2 {
		t.Errorf("timed-out assignments %v", got)
	}
}

// A timeout that fires after the accept (the two race for the lock) finds
// the assignment gone and does nothing.
func TestQueueAcceptedIgnoresLateTimeout(t *testing.T) {
	n := startQueueNode(t, nil)
	ann, cat := login(t, n, "ann"), login(t, n, "cat")
	ann.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1}, nil)
	cat.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1})
	ann.expectAssigned(1, "cat")
	app := n.srv.apps["acme"]
	app.mu.Lock()
	as := app.queues.agents[app.users["ann"]].as
	app.mu.Unlock()
	ann.ok(protocol.MethodAcceptAssignUser, assignParams(1, "cat"), nil)
	app.execAsync(nil, changeAssignTimeout, "", &queueTimerParams{Cust: "cat", Gen: as.gen}) // as if its timer fired now
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1, SrvNum: 1})
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, SrvNum: 1})
	ann.noEvent()
	if st := ann.queueStatus(1); st != (protocol.QueStatus{QueID: 1, AgentNum: 1, SrvNum: 1}) {
		t.Fatalf("status %+v", st)
	}
	// The served state ends by its own timer when no call comes.
	app.mu.Lock()
	ag := app.queues.agents[app.users["ann"]]
	sv := ag.served
	app.mu.Unlock()
	app.execAsync(nil, changeServedTimeout, "", &queueTimerParams{Agent: "ann", Gen: sv.gen})
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1})
}

// A customer who stops queuing or goes offline while assigned: the agent
// gets cancelAssignUser and its answer 402; the agent is given the next.
func TestQueueCustomerLeavesWhileAssigned(t *testing.T) {
	n := startQueueNode(t, nil)
	ann, cat, dan := login(t, n, "ann"), login(t, n, "cat"), login(t, n, "dan")
	ann.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1}, nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1})
	cat.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	dan.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	ann.expectAssigned(1, "cat")
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1, SrvNum: 1})
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 2, SrvNum: 1})
	dan.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 2, SrvNum: 1})
	dan.expectQueuing(1, 2)

	cat.ok(protocol.MethodStopQueuing, nil, nil)
	ann.expectCancelled(1, "cat")
	ann.expectAssigned(1, "dan")
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1, SrvNum: 1})
	dan.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1, SrvNum: 1})
	dan.expectQueuing(1, 1)
	ann.fails(protocol.QueueUserCancelled, protocol.MethodAcceptAssignUser, assignParams(1, "cat"))

	dan.conn.Close()
	ann.expectCancelled(1, "dan")
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1})
	ann.fails(protocol.QueueUserCancelled, protocol.MethodRejectAssignUser, assignParams(1, "dan"))
	if got := testutil.ToFloat64(n.srv.metrics.queue.assignments.WithLabelValues(assignCancelled)); got != 2 {
		t.Errorf("cancelled assignments %v", got)
	}
}

// acceptAssignUser racing the customer's stopQueuing: exactly one wins,
// and the state agrees with the winner.
func TestQueueAcceptRacesLeaving(t *testing.T) {
	n := startQueueNode(t, nil)
	for i := 0; i < 8; i++ {
		ag, cu := login(t, n, "agent"), login(t, n, "customer")
		ag.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1}, nil)
		cu.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
		ag.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1})
		ag.expectAssigned(1, "customer")
		ag.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1, SrvNum: 1})
		var accept, stop *protocol.Error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, accept = ag.rpc(protocol.MethodAcceptAssignUser, assignParams(1, "customer"))
		}()
		go func() { defer wg.Done(); _, stop = cu.rpc(protocol.MethodStopQueuing, nil) }()
		wg.Wait()
		switch {
		case accept == nil && stop != nil && stop.Code == protocol.QueueNoUser:
			cu.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1, SrvNum: 1})
			cu.expectQueuing(1, 1)
			cu.expectQueuing(0, 0)
			if st := ag.queueStatus(1); st != (protocol.QueStatus{QueID: 1, AgentNum: 1, SrvNum: 1}) {
				t.Fatalf("round %d: accept won, status %+v", i, st)
			}
		case stop == nil && accept != nil && accept.Code == protocol.QueueUserCancelled:
			ag.expectCancelled(1, "customer")
			if st := ag.queueStatus(1); st != (protocol.QueStatus{QueID: 1, AgentNum: 1}) {
				t.Fatalf("round %d: stop won, status %+v", i, st)
			}
		default:
			t.Fatalf("round %d: accept %v, stopQueuing %v", i, accept, stop)
		}
		checkQueues(t, n.srv.apps["acme"])
		ag.ok(protocol.MethodLogout, nil, nil)
		cu.ok(protocol.MethodLogout, nil, nil)
	}
}

// Bad input gets its code and changes nothing: unknown queues, queuing
// twice, answering someone else's assignment, another app's users.
func TestQueueBadInput(t *testing.T) {
	n := startQueueNode(t, nil)
	ann, ben, cat := login(t, n, "ann"), login(t, n, "ben"), login(t, n, "cat")
	gary := loginApp(t, n, "globex", "globex-secret", "gary")
	ann.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1}, nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1})
	ben.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1}, nil)
	ben.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1}, nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2})
	ben.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2})
	cat.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	ann.expectAssigned(1, "cat")
	assigned := protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 1, SrvNum: 1}
	ann.expectQueueStatus(assigned)
	ben.expectQueueStatus(assigned)
	cat.expectQueueStatus(assigned)
	cat.expectQueuing(1, 1)

	for _, tc := range []struct {
		name   string
		c      *wsClient
		code   protocol.Code
		method string
		params any
	}{
		{"status of queue 0", cat, protocol.QueueIDErr, protocol.MethodGetQueueStatus, protocol.QueueIDParams{QueID: 0}},
		{"status of queue 9", cat, protocol.QueueIDErr, protocol.MethodGetQueueStatus, protocol.QueueIDParams{QueID: 9}},
		{"queue in queue -1", ben, protocol.QueueIDErr, protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: -1}},
		{"queue twice", cat, protocol.QueueAlreadyQueuing, protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}},
		{"queue in another queue", cat, protocol.QueueAlreadyQueuing, protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 2}},
		{"queue with a huge usrExtDat", ben, protocol.ParamErr, protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1, UsrExtDat: strings.Repeat("x", maxExtDatLen+1)}},
		{"serve queue 3", ben, protocol.QueueIDErr, protocol.MethodStartService, protocol.StartServiceParams{QueID: 3}},
		{"priority over 1000", ben, protocol.ParamErr, protocol.MethodStartService, protocol.StartServiceParams{QueID: 2, Priority: 1001}},
		{"negative priority", ben, protocol.ParamErr, protocol.MethodStartService, protocol.StartServiceParams{QueID: 2, Priority: -1}},
		{"stop serving queue 3", ben, protocol.QueueIDErr, protocol.MethodStopService, protocol.QueueIDParams{QueID: 3}},
		{"stop serving a queue not served", ben, protocol.QueueServiceNotStart, protocol.MethodStopService, protocol.QueueIDParams{QueID: 2}},
		{"stop queuing when not queuing", ben, protocol.QueueNoUser, protocol.MethodStopQueuing, nil},
		{"accept in an unknown queue", ann, protocol.QueueIDErr, protocol.MethodAcceptAssignUser, assignParams(7, "cat")},
		{"accept another agent's assignment", ben, protocol.QueueUserCancelled, protocol.MethodAcceptAssignUser, assignParams(1, "cat")},
		{"reject another agent's assignment", ben, protocol.QueueUserCancelled, protocol.MethodRejectAssignUser, assignParams(1, "cat")},
		{"accept in the wrong queue", ann, protocol.QueueUserCancelled, protocol.MethodAcceptAssignUser, assignParams(2, "cat")},
		{"accept an unknown user", ann, protocol.QueueUserCancelled, protocol.MethodAcceptAssignUser, assignParams(1, "nobody")},
		{"a customer accepts itself", cat, protocol.QueueUserCancelled, protocol.MethodAcceptAssignUser, assignParams(1, "cat")},
		{"another app accepts acme's customer", gary, protocol.QueueUserCancelled, protocol.MethodAcceptAssignUser, assignParams(1, "cat")},
		{"another app's queue 2", gary, protocol.QueueIDErr, protocol.MethodGetQueueStatus, protocol.QueueIDParams{QueID: 2}},
		{"another app asks for acme's customers", gary, protocol.QueueServiceNotStart, protocol.MethodReqAssignUser, nil},
		{"queID a string", ann, protocol.RPCInvalidParams, protocol.MethodGetQueueStatus, map[string]any{"queID": "1"}},
		{"queID missing", ann, protocol.RPCInvalidParams, protocol.MethodAcceptAssignUser, map[string]any{"userID": "cat"}},
		{"userID missing", ann, protocol.RPCInvalidParams, protocol.MethodRejectAssignUser, map[string]any{"queID": 1}},
		{"a cookie", ann, protocol.RPCInvalidParams, protocol.MethodInitQueueDat, map[string]any{"cookie": "c"}},
		{"queID 1.5", ann, protocol.RPCInvalidParams, protocol.MethodStopService, map[string]any{"queID": 1.5}},
	} {
		_, e := tc.c.rpc(tc.method, tc.params)
		if e == nil || e.Code != tc.code {
			t.Errorf("%s: got %v, want code %d", tc.name, e, tc.code)
		}
	}
	anon := dial(t, n)
	anon.fails(protocol.NotLogin, protocol.MethodInitQueueDat, nil)

	// Nothing changed: the same counts, cat still first and ann's, globex empty.
	for _, c := range []*wsClient{ann, ben, cat, gary} {
		c.noEvent()
	}
	if st := cat.queueStatus(1); st != assigned {
		t.Fatalf("status %+v", st)
	}
	if dat := cat.queueDat(); dat.Queuing.QueID != 1 || dat.Queuing.Position != 1 {
		t.Fatalf("cat %+v", dat.Queuing)
	}
	if dat := ben.queueDat(); len(dat.Serving) != 1 || dat.Serving[0] != 1 || dat.Queuing.QueID != 0 {
		t.Fatalf("ben %+v", dat)
	}
	if dat := gary.queueDat(); len(dat.Queues) != 1 || dat.Queues[0].Name != "Desk" || dat.Statuses[0] != (protocol.QueStatus{QueID: 1}) {
		t.Fatalf("globex %+v", dat)
	}
	checkQueues(t, n.srv.apps["acme"])
	ann.ok(protocol.MethodAcceptAssignUser, assignParams(1, "cat"), nil) // still ann's to accept
	checkQueues(t, n.srv.apps["acme"])
}

// An agent who logs off or is logged off by a login elsewhere leaves its
// queues: its assignment goes to another agent; a customer who logs in
// again has stopped queuing.
func TestQueueLogoffLeavesQueues(t *testing.T) {
	n := startQueueNode(t, nil)
	ann, ben, cat := login(t, n, "ann"), login(t, n, "ben"), login(t, n, "cat")
	ann.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1}, nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1})
	ben.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1, Priority: 9}, nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2})
	ben.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2})
	cat.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	ann.expectAssigned(1, "cat")
	ben.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 1, SrvNum: 1})
	cat.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 2, WaitNum: 1, SrvNum: 1})
	cat.expectQueuing(1, 1)

	ann.ok(protocol.MethodLogout, nil, nil)
	ben.expectAssigned(1, "cat")
	ben.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1, SrvNum: 1})
	cat.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1, WaitNum: 1, SrvNum: 1})
	cat.noEvent() // its place did not change

	login(t, n, "ben") // ben logs in elsewhere: the old session leaves the queue
	ben.expectEvent(protocol.EventLineOff, nil)
	cat.expectQueueStatus(protocol.QueStatus{QueID: 1, WaitNum: 1})
	login(t, n, "cat")
	cat.expectEvent(protocol.EventLineOff, nil)
	app := n.srv.apps["acme"]
	app.mu.Lock()
	defer app.mu.Unlock()
	if len(app.queues.agents) != 0 || len(app.queues.customers) != 0 || len(app.queues.byID[1].waiting) != 0 {
		t.Fatalf("left behind: %d agents, %d customers", len(app.queues.agents), len(app.queues.customers))
	}
}

func TestQueueMetrics(t *testing.T) {
	n := startQueueNode(t, nil)
	ann, cat, dan := login(t, n, "ann"), login(t, n, "cat"), login(t, n, "dan")
	ann.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1}, nil)
	ann.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 2}, nil)
	cat.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 2}, nil)
	dan.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	want := `
# HELP crvnode_queue_agents Agents serving a queue.
# TYPE crvnode_queue_agents gauge
crvnode_queue_agents{app="acme",queue="1"} 0
crvnode_queue_agents{app="acme",queue="2"} 1
crvnode_queue_agents{app="globex",queue="1"} 0
# HELP crvnode_queue_waiting Customers waiting in a queue (assigned ones included, until accepted).
# TYPE crvnode_queue_waiting gauge
crvnode_queue_waiting{app="acme",queue="1"} 1
crvnode_queue_waiting{app="acme",queue="2"} 1
crvnode_queue_waiting{app="globex",queue="1"} 0
`
	if err := testutil.GatherAndCompare(n.reg, strings.NewReader(want), "crvnode_queue_agents", "crvnode_queue_waiting"); err != nil {
		t.Fatal(err)
	}
	ann.ok(protocol.MethodReqAssignUser, nil, nil)
	ann.ok(protocol.MethodAcceptAssignUser, assignParams(2, "cat"), nil)
	want = `
# HELP crvnode_queue_assignments_total Customers assigned to agents, by how the assignment ended (accepted, rejected, timeout, cancelled).
# TYPE crvnode_queue_assignments_total counter
crvnode_queue_assignments_total{outcome="accepted"} 1
`
	if err := testutil.GatherAndCompare(n.reg, strings.NewReader(want), "crvnode_queue_assignments_total"); err != nil {
		t.Fatal(err)
	}
	families, err := n.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	waits := uint64(0)
	for _, f := range families {
		if f.GetName() == "crvnode_queue_wait_seconds" {
			waits = f.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	if waits != 1 {
		t.Errorf("crvnode_queue_wait_seconds counted %d waits, want 1", waits)
	}
	if got := testutil.ToFloat64(n.srv.metrics.queue.assignments.WithLabelValues(assignAccepted)); got != 1 {
		t.Fatalf("accepted %v", got)
	}
}

// checkQueues holds the queue state to its invariants: every customer in
// its queue once, assignments linked both ways and one per agent and per
// customer, agents serving what they were given, everyone online, and
// what was last sent equal to the state.
func checkQueues(t *testing.T, a *app) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	qs := a.queues
	waiting := 0
	for _, q := range qs.list {
		for i, c := range q.waiting {
			waiting++
			if qs.customers[c.u] != c || c.q != q || c.shown != i+1 {
				t.Errorf("queue %d: customer %s out of place (shown %d at %d)", q.info.QueID, c.u.id, c.shown, i+1)
			}
		}
		if st := qs.statusLocked(q); st != q.shown {
			t.Errorf("queue %d: status %+v, last sent %+v", q.info.QueID, st, q.shown)
		}
	}
	if waiting != len(qs.customers) {
		t.Errorf("%d customers, %d in queues", len(qs.customers), waiting)
	}
	for u, c := range qs.customers {
		if u.sess == nil {
			t.Errorf("customer %s is offline", u.id)
		}
		if as := c.as; as != nil {
			if as.c != c || as.ag.as != as || qs.agents[as.ag.u] != as.ag {
				t.Errorf("customer %s: assignment not linked", u.id)
			} else if _, ok := as.ag.serving[c.q]; !ok {
				t.Errorf("customer %s: assigned to %s, who does not serve queue %d", u.id, as.ag.u.id, c.q.info.QueID)
			}
		}
	}
	for u, ag := range qs.agents {
		switch {
		case u.sess == nil:
			t.Errorf("agent %s is offline", u.id)
		case len(ag.serving) == 0:
			t.Errorf("agent %s serves nothing", u.id)
		case ag.as != nil && (ag.as.ag != ag || ag.as.c.as != ag.as):
			t.Errorf("agent %s: assignment not linked", u.id)
		case ag.as != nil && ag.served != nil:
			t.Errorf("agent %s holds an assignment while serving %s", u.id, ag.served.cust.id)
		}
		if ag.served != nil {
			if _, ok := ag.serving[ag.served.q]; !ok {
				t.Errorf("agent %s serves a customer of a queue it left", u.id)
			}
		}
	}
}

// Agents and customers do everything at once; the state keeps its
// invariants and is empty once they have all gone.
func TestQueueConcurrentStress(t *testing.T) {
	n := startQueueNode(t, nil)
	app := n.srv.apps["acme"]
	var clients []*wsClient
	for i := 0; i < 4; i++ {
		clients = append(clients, login(t, n, "agent"+string(rune('a'+i))))
	}
	for i := 0; i < 8; i++ {
		clients = append(clients, login(t, n, "customer"+string(rune('a'+i))))
	}
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			agentOf := i < 4
			for step := 0; step < 40; step++ {
				q := 1 + (i+step)%2
				switch {
				case agentOf && step%7 == 0:
					c.rpc(protocol.MethodStopService, protocol.QueueIDParams{QueID: q})
				case agentOf && step%5 == 0:
					c.rpc(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: step % 2})
				case agentOf && step%3 == 0:
					c.rpc(protocol.MethodStartService, protocol.StartServiceParams{QueID: q, Priority: i})
				case agentOf:
					res, e := c.rpc(protocol.MethodReqAssignUser, nil)
					var qu protocol.QueUser
					if e == nil && json.Unmarshal(res, &qu) == nil {
						if step%2 == 0 {
							c.rpc(protocol.MethodAcceptAssignUser, assignParams(qu.QueID, qu.UserID))
						} else {
							c.rpc(protocol.MethodRejectAssignUser, assignParams(qu.QueID, qu.UserID))
						}
					}
				case step%4 == 3:
					c.rpc(protocol.MethodStopQueuing, nil)
				default:
					c.rpc(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: q})
				}
			}
		}()
	}
	wg.Wait()
	checkQueues(t, app)
	for _, c := range clients {
		c.conn.Close()
	}
	waitUntil(t, func() bool {
		app.mu.Lock()
		defer app.mu.Unlock()
		return len(app.queues.agents) == 0 && len(app.queues.customers) == 0
	})
	checkQueues(t, app)
}
