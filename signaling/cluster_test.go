package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/protocol"
)

// startNodes starts k Servers sharing one log, each with its own store
// and address, as k node processes on Redis would.
func startNodes(t *testing.T, l *memLog, k int, tweak func(*Config)) []*testNode {
	t.Helper()
	nodes := make([]*testNode, k)
	for i := range nodes {
		nodes[i] = startNode(t, "", func(c *Config) {
			c.Cluster = l.node()
			c.Apps[0].Queue = QueueConfig{Queues: []QueueDef{{ID: 1, Name: "Sales"}, {ID: 2, Name: "Support", Prio: 1}}}
			if tweak != nil {
				tweak(c)
			}
		})
	}
	return nodes
}

func (n *testNode) id() string { return n.srv.repl.node }

// dumpState writes an app's shared state in one canonical form: the
// copies of every node must print the same.
func dumpState(a *app) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var b strings.Builder
	for _, id := range slices.Sorted(mapKeys(a.users)) {
		u := a.users[id]
		on := ""
		if u.sess != nil {
			on = fmt.Sprintf("%s/%d", u.sess.node, u.sess.serial)
		}
		meet := protocol.MeetingID(0)
		if u.meeting != nil {
			meet = u.meeting.info.ID
		}
		fmt.Fprintf(&b, "user %s nick=%q dnd=%d on=%s meet=%d shown=%+v\n", id, u.nick, u.dnd, on, meet, u.shown)
	}
	ids := make([]protocol.MeetingID, 0, len(a.meetings))
	for id := range a.meetings {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		m := a.meetings[id]
		fmt.Fprintf(&b, "meeting %+v members=%+v\n", m.info, m.membersLocked())
	}
	for _, id := range slices.Sorted(mapKeys(a.calls)) {
		c := a.calls[id]
		fmt.Fprintf(&b, "call %s %s->%s invite=%v accepted=%v gen=%d\n", id, c.caller.id, c.callee.id, c.invite, c.accepted, c.gen)
	}
	qs := a.queues
	for _, q := range qs.list {
		var w []string
		for _, c := range q.waiting {
			as := ""
			if c.as != nil {
				as = fmt.Sprintf("->%s#%d", c.as.ag.u.id, c.as.gen)
			}
			var holds []string
			for u, h := range c.holds {
				holds = append(holds, fmt.Sprintf("%s#%d", u.id, h.gen))
			}
			sort.Strings(holds)
			w = append(w, fmt.Sprintf("%s%s holds=%v shown=%d", c.u.id, as, holds, c.shown))
		}
		fmt.Fprintf(&b, "queue %d waiting=%v shown=%+v\n", q.info.QueID, w, q.shown)
	}
	for _, ag := range qs.sortedAgents() {
		var serving []string
		for q, prio := range ag.serving {
			serving = append(serving, fmt.Sprintf("%d:%d", q.info.QueID, prio))
		}
		sort.Strings(serving)
		sv := ""
		if ag.served != nil {
			sv = fmt.Sprintf("%s#%d", ag.served.cust.id, ag.served.gen)
		}
		fmt.Fprintf(&b, "agent %s serving=%v idle=%d served=%s\n", ag.u.id, serving, ag.idle, sv)
	}
	fmt.Fprintf(&b, "seq=%d stamps=%d\n", a.seq, a.stamps)
	return b.String()
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// agree waits until every node has applied the whole log and checks that
// their copies of app acme are the same.
func agree(t *testing.T, nodes []*testNode) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		first := dumpState(nodes[0].srv.apps["acme"])
		same := true
		var other string
		for _, n := range nodes[1:] {
			if other = dumpState(n.srv.apps["acme"]); other != first {
				same = false
				break
			}
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the nodes' copies differ:\n%s\n---\n%s", first, other)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestClusterPresenceAcrossNodes(t *testing.T) {
	nodes := startNodes(t, newMemLog(), 3, nil)
	alice := login(t, nodes[0], "alice")
	alice.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	bob := login(t, nodes[1], "bob")
	var st protocol.NotifyUserStatus
	alice.expectEvent(protocol.EventNotifyUserStatus, &st)
	if st.UserStatus.UserID != "bob" || st.UserStatus.UserStatus != protocol.UserIdle {
		t.Fatalf("alice saw %+v", st)
	}
	bob.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1}, nil)
	alice.expectEvent(protocol.EventNotifyUserStatus, &st)
	if st.UserStatus.UserID != "bob" || st.UserStatus.DNDType != 1 {
		t.Fatalf("alice saw %+v", st)
	}
	alice.noEvent() // once each
	carol := login(t, nodes[2], "carol")
	alice.expectEvent(protocol.EventNotifyUserStatus, nil)
	if got := statusOf(userStatus(t, carol), "alice"); got.UserStatus != protocol.UserIdle {
		t.Fatalf("carol on another node sees alice %+v", got)
	}
	if got := statusOf(userStatus(t, carol), "bob"); got.DNDType != 1 {
		t.Fatalf("carol sees bob %+v", got)
	}
	agree(t, nodes)
}

func TestClusterCallAcrossNodes(t *testing.T) {
	nodes := startNodes(t, newMemLog(), 2, nil)
	alice, bob := login(t, nodes[0], "alice"), login(t, nodes[1], "bob")
	alice.ok(protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "bob", UsrExtDat: "hi"}, nil)
	var in protocol.NotifyCallIn
	bob.expectEvent(protocol.EventNotifyCallIn, &in)
	if in.CallID != "c1" || in.CallerID != "alice" || in.UsrExtDat != "hi" {
		t.Fatalf("notifyCallIn %+v", in)
	}
	// Both nodes know bob is busy now: a third caller on either is refused.
	carol := login(t, nodes[1], "carol")
	carol.fails(protocol.ErrBusy, protocol.MethodCall, protocol.CallParams{CallID: "c2", CalledUserID: "bob"})
	bob.ok(protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "c1"}, nil)
	alice.expectEvent(protocol.EventNotifyCallAccepted, nil)
	bob.ok(protocol.MethodHungupCall, protocol.CallActionParams{CallID: "c1"}, nil)
	alice.expectEvent(protocol.EventNotifyCallHungup, nil)
	agree(t, nodes)
}

// The ringing timer is the caller's node's: the callee on the other node
// hears the hang-up once, the caller 604.
func TestClusterRingTimeoutAcrossNodes(t *testing.T) {
	nodes := startNodes(t, newMemLog(), 2, func(c *Config) { c.Limits.CallTimeout = 200 * time.Millisecond })
	alice, bob := login(t, nodes[0], "alice"), login(t, nodes[1], "bob")
	alice.ok(protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "bob"}, nil)
	bob.expectEvent(protocol.EventNotifyCallIn, nil)
	expectRingTimeout(t, alice, bob)
	bob.noEvent()
	agree(t, nodes)
}

// A login on node B kicks the user's session on node A: A's client hears
// lineOff 10 and is closed; a watcher on C sees the user offline, then
// online again.
func TestClusterKickAcrossNodes(t *testing.T) {
	nodes := startNodes(t, newMemLog(), 3, nil)
	carol := login(t, nodes[2], "carol")
	carol.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	old := login(t, nodes[0], "alice")
	carol.expectEvent(protocol.EventNotifyUserStatus, nil)
	login(t, nodes[1], "alice")
	var off protocol.LineOff
	old.expectEvent(protocol.EventLineOff, &off)
	if off.SdkEr != protocol.UserBeenKickout {
		t.Fatalf("lineOff %+v", off)
	}
	old.waitClosed()
	var st protocol.NotifyUserStatus
	carol.expectEvent(protocol.EventNotifyUserStatus, &st)
	if st.UserStatus.UserID != "alice" || st.UserStatus.UserStatus != protocol.UserOffline {
		t.Fatalf("first %+v", st)
	}
	carol.expectEvent(protocol.EventNotifyUserStatus, &st)
	if st.UserStatus.UserID != "alice" || st.UserStatus.UserStatus != protocol.UserIdle {
		t.Fatalf("second %+v", st)
	}
	agree(t, nodes)
	if on := nodes[2].srv.apps["acme"]; true {
		on.mu.Lock()
		s := on.users["alice"].sess
		on.mu.Unlock()
		if s == nil || s.node != nodes[1].id() {
			t.Fatalf("alice's session is on %v, want node B", s)
		}
	}
}

func TestClusterMeetingAcrossNodes(t *testing.T) {
	nodes := startNodes(t, newMemLog(), 2, nil)
	alice, bob := login(t, nodes[0], "alice"), login(t, nodes[1], "bob")
	var mo protocol.MeetObjResult
	alice.ok(protocol.MethodCreateMeeting, protocol.CreateMeetingParams{MeetSubject: "weekly"}, &mo)
	alice.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: mo.MeetObj.ID}, nil)
	var res protocol.EnterMeetingResult
	bob.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: mo.MeetObj.ID}, &res)
	if len(res.Members) != 2 {
		t.Fatalf("members %+v", res.Members)
	}
	alice.expectEvent(protocol.EventUserEnterMeeting, nil)
	bob.ok(protocol.MethodSendMeetingCustomMsg, protocol.MeetingCustomMsgParams{Msg: "hello"}, nil)
	var msg protocol.NotifyMeetingCustomMsg
	alice.expectEvent(protocol.EventNotifyMeetingCustomMsg, &msg)
	bob.expectEvent(protocol.EventNotifyMeetingCustomMsg, &msg)
	if msg.Msg != "hello" || msg.UserID != "bob" {
		t.Fatalf("custom msg %+v", msg)
	}
	alice.ok(protocol.MethodKickout, protocol.KickoutParams{UserID: "bob"}, nil)
	bob.expectEvent(protocol.EventMeetingDropped, nil)
	alice.expectEvent(protocol.EventUserLeftMeeting, nil)
	// Only the creator destroys it, from whichever node.
	bob.fails(protocol.APINoPermission, protocol.MethodDestroyMeeting, protocol.DestroyMeetingParams{MeetID: mo.MeetObj.ID})
	alice.ok(protocol.MethodDestroyMeeting, protocol.DestroyMeetingParams{MeetID: mo.MeetObj.ID}, nil)
	bob.fails(protocol.MeetNotExist, protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: mo.MeetObj.ID})
	agree(t, nodes)
}

// A meeting's media is forwarded by one node: a member with media who
// would enter it from another node is refused with 803, a member on the
// same node or one without media enters.
func TestClusterMeetingMediaOnOneNode(t *testing.T) {
	l := newMemLog()
	withMedia := startNodes(t, l, 2, func(c *Config) { c.Media = nullMedia{} })
	plain := startNodes(t, l, 1, nil)
	alice, carol := login(t, withMedia[0], "alice"), login(t, withMedia[0], "carol")
	bob, dave := login(t, withMedia[1], "bob"), login(t, plain[0], "dave")
	var mo protocol.MeetObjResult
	alice.ok(protocol.MethodCreateMeeting, protocol.CreateMeetingParams{MeetSubject: "m"}, &mo)
	enter := protocol.EnterMeetingParams{MeetID: mo.MeetObj.ID}
	bob.ok(protocol.MethodEnterMeeting, enter, nil) // the first with media: B hosts it
	alice.fails(protocol.ResourceAllocateError, protocol.MethodEnterMeeting, enter)
	dave.ok(protocol.MethodEnterMeeting, enter, nil)
	bob.ok(protocol.MethodExitMeeting, nil, nil)
	alice.ok(protocol.MethodEnterMeeting, enter, nil) // now A's
	carol.ok(protocol.MethodEnterMeeting, enter, nil)
	bob.fails(protocol.ResourceAllocateError, protocol.MethodEnterMeeting, enter)
	agree(t, append(withMedia, plain...))
}

// nullMedia is an SFU that forwards nothing.
type nullMedia struct{}

func (nullMedia) NewPeer(string, protocol.UserID, MediaEvents) (MediaPeer, error) {
	return nullPeer{}, nil
}

type nullPeer struct{}

func (nullPeer) UpOffer(string, []protocol.UpTrack) (string, error) { return "", nil }
func (nullPeer) AddUpCandidate(protocol.ICECandidate) error         { return nil }
func (nullPeer) DownAnswer(string) error                            { return nil }
func (nullPeer) AddDownCandidate(protocol.ICECandidate) error       { return nil }
func (nullPeer) Join(string)                                        {}
func (nullPeer) Leave()                                             {}
func (nullPeer) SetSending(protocol.Source, bool)                   {}
func (nullPeer) Watch(protocol.UserID, protocol.Source, int, bool)  {}
func (nullPeer) RestartDown()                                       {}
func (nullPeer) CloseUp() error                                     { return nil }
func (nullPeer) Close()                                             {}

// A customer on C is given to the agent on A; two agents on two nodes
// and one customer: exactly one of them gets it.
func TestClusterQueueAcrossNodes(t *testing.T) {
	nodes := startNodes(t, newMemLog(), 3, nil)
	ann := login(t, nodes[0], "ann")
	ann.ok(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1}, nil)
	ann.expectQueueStatus(protocol.QueStatus{QueID: 1, AgentNum: 1})
	cat := login(t, nodes[2], "cat")
	cat.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
	ann.expectAssigned(1, "cat")
	ann.ok(protocol.MethodAcceptAssignUser, assignParams(1, "cat"), nil)
	agree(t, nodes)

	for round := 0; round < 20; round++ {
		l := newMemLog()
		nodes := startNodes(t, l, 2, nil)
		a1, a2 := login(t, nodes[0], "ag1"), login(t, nodes[1], "ag2")
		cust := login(t, nodes[1], fmt.Sprintf("cust%d", round))
		// Both agents become free at once, on two nodes, with the
		// customer already waiting.
		cust.ok(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1}, nil)
		a1.rpcAsync(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1})
		a2.rpcAsync(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1})
		a1.awaitAnswer()
		a2.awaitAnswer()
		agree(t, nodes)
		a := nodes[0].srv.apps["acme"]
		a.mu.Lock()
		n := 0
		for _, ag := range a.queues.agents {
			if ag.as != nil {
				n++
			}
		}
		a.mu.Unlock()
		if n != 1 {
			t.Fatalf("round %d: %d assignments of one customer\n%s", round, n, dumpState(a))
		}
		for _, n := range nodes {
			n.stop()
		}
	}
}

// A node found dead: its users are offline on the others, with their
// calls ended; its own clients, if it still runs, hear lineOff and close.
func TestClusterNodeDown(t *testing.T) {
	nodes := startNodes(t, newMemLog(), 2, nil)
	alice, bob := login(t, nodes[0], "alice"), login(t, nodes[1], "bob")
	alice.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	alice.ok(protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "bob"}, nil)
	bob.expectEvent(protocol.EventNotifyCallIn, nil)
	alice.expectEvent(protocol.EventNotifyUserStatus, nil) // bob busy
	if err := nodes[0].srv.NodeDown(nodes[1].id()); err != nil {
		t.Fatal(err)
	}
	var st protocol.NotifyUserStatus
	alice.expectEvent(protocol.EventNotifyUserStatus, &st) // alice idle again: the call is gone
	droppedByNode(t, bob, alice, "bob")
	agree(t, nodes)
}

// A node that lags a whole snapshot's interval behind finds its place in
// the log trimmed away: its sessions end with lineOff 207, it starts again
// from the newest snapshot, and its copy agrees with the others' again.
func TestClusterNodeBehind(t *testing.T) {
	l := newMemLog()
	l.trims = true
	nodes := startNodes(t, l, 3, func(c *Config) { c.SnapshotEvery = 5 })
	alice, bob := login(t, nodes[0], "alice"), login(t, nodes[1], "bob")
	lag := login(t, nodes[2], "lag")
	alice.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	resume := nodes[2].srv.repl.c.(*memNode).pause()
	for i := range 30 {
		c := alice
		if i%2 == 1 {
			c = bob
		}
		c.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: i % 2}, nil)
	}
	resume()
	droppedByNode(t, lag, alice, "lag")
	agree(t, nodes)
	// The node serves again.
	again := login(t, nodes[2], "lag")
	carol := login(t, nodes[1], "carol")
	again.ok(protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "carol"}, nil)
	carol.expectEvent(protocol.EventNotifyCallIn, nil)
}

// A change the log took after its user was told 8 (Redis hung, then ran
// the write) is void on every node; a node's own changes, which nobody
// waits for, still count.
func TestClusterLateChangeVoid(t *testing.T) {
	l := newMemLog()
	nodes := startNodes(t, l, 2, nil)
	alice, bob := login(t, nodes[0], "alice"), login(t, nodes[1], "bob")
	bob.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	l.late.Store(int64(voidAfter + 100*time.Millisecond))
	alice.fails(protocol.ServerException, protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1})
	bob.noEvent()
	agree(t, nodes)
	for _, n := range nodes {
		a := n.srv.apps["acme"]
		a.mu.Lock()
		dnd := a.users["alice"].dnd
		a.mu.Unlock()
		if dnd != 0 {
			t.Fatalf("node %s applied a void change: DND %d", n.id(), dnd)
		}
	}
	// alice's connection ends: her logoff is the node's, and counts.
	_ = alice.conn.Close()
	var st protocol.NotifyUserStatus
	bob.expectEvent(protocol.EventNotifyUserStatus, &st)
	if st.UserStatus.UserID != "alice" || st.UserStatus.UserStatus != protocol.UserOffline {
		t.Fatalf("after alice left: %+v", st)
	}
	l.late.Store(0)
	agree(t, nodes)
}

// A change nobody waits for (a logoff when a connection ends) that the
// log refuses is appended again once it takes changes: the user does not
// stay online on the other nodes.
func TestClusterLostChangeRetried(t *testing.T) {
	l := newMemLog()
	nodes := startNodes(t, l, 2, nil)
	alice, bob := login(t, nodes[0], "alice"), login(t, nodes[1], "bob")
	bob.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	l.down.Store(true)
	_ = alice.conn.Close()
	time.Sleep(300 * time.Millisecond) // the logoff is refused, and kept
	l.down.Store(false)
	var st protocol.NotifyUserStatus
	bob.expectEvent(protocol.EventNotifyUserStatus, &st)
	if st.UserStatus.UserID != "alice" || st.UserStatus.UserStatus != protocol.UserOffline {
		t.Fatalf("after alice's connection ended: %+v", st)
	}
	agree(t, nodes)
}

// A request whose change is in the log waits for its own node to apply
// it, however late; a node that lags past applyWait ends the session
// rather than answer 8 for a change that happened.
func TestClusterOriginLags(t *testing.T) {
	l := newMemLog()
	nodes := startNodes(t, l, 2, nil)
	alice, bob := login(t, nodes[0], "alice"), login(t, nodes[1], "bob")
	bob.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	resume := nodes[0].srv.repl.c.(*memNode).pause()
	go func() { time.Sleep(700 * time.Millisecond); resume() }()
	alice.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1}, nil)
	bob.expectEvent(protocol.EventNotifyUserStatus, nil)

	saved := applyWait.Swap(int64(200 * time.Millisecond))
	t.Cleanup(func() { applyWait.Store(saved) })
	resume = nodes[0].srv.repl.c.(*memNode).pause()
	alice.rpcAsync(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 0})
	alice.waitClosed()
	resume()
	var st protocol.NotifyUserStatus
	bob.expectEvent(protocol.EventNotifyUserStatus, &st) // the change happened
	if st.UserStatus.UserID != "alice" || st.UserStatus.DNDType != 0 {
		t.Fatalf("bob heard %+v", st)
	}
	agree(t, nodes)
}

// A log Redis lost (it restarted without its data): every node ends its
// sessions with lineOff 207 and starts again from nothing, as a node that
// joins now would; logins work again and the copies agree.
func TestClusterLogLost(t *testing.T) {
	l := newMemLog()
	nodes := startNodes(t, l, 2, nil)
	alice, bob := login(t, nodes[0], "alice"), login(t, nodes[1], "bob")
	alice.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1}, nil)
	l.lose()
	for _, c := range []*wsClient{alice, bob} {
		droppedByNode(t, c, nil, "")
	}
	late := startNodes(t, l, 1, nil)
	all := append(nodes, late...)
	agree(t, all)
	a2, b2 := login(t, nodes[0], "alice"), login(t, late[0], "bob")
	a2.ok(protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "bob"}, nil)
	b2.expectEvent(protocol.EventNotifyCallIn, nil)
	agree(t, all)
}

// With the log unreachable, a change is refused with 8 and changes
// nothing; reads of the node's copy still answer.
func TestClusterLogDown(t *testing.T) {
	l := newMemLog()
	nodes := startNodes(t, l, 2, nil)
	alice, carol := login(t, nodes[0], "alice"), login(t, nodes[1], "carol")
	l.down.Store(true)
	alice.rpcAsync(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1})
	c := dial(t, nodes[1])
	c.rpcAsync(protocol.MethodLogin, loginParams("acme", "acme-secret", "bob"))
	// Reads of a node's copy answer meanwhile.
	if got := statusOf(userStatus(t, carol), "alice"); got.DNDType != 0 || got.UserStatus != protocol.UserIdle {
		t.Fatalf("alice %+v", got)
	}
	time.Sleep(2*appendTimeout + 200*time.Millisecond) // both appends failed
	// Once the log takes changes again, the two are answered 8: the log
	// has moved past their void time without them.
	l.down.Store(false)
	for _, cl := range []*wsClient{alice, c} {
		if e := cl.answer(); e == nil || e.Code != protocol.ServerException {
			t.Fatalf("answer with the log down: %v", e)
		}
	}
	if got := statusOf(userStatus(t, carol), "alice"); got.DNDType != 0 {
		t.Fatalf("alice %+v", got)
	}
	if got := statusOf(userStatus(t, carol), "bob"); got.UserStatus == protocol.UserIdle {
		t.Fatalf("bob's login that failed counted: %+v", got)
	}
	alice.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1}, nil)
	agree(t, nodes)
}

// Random requests from users spread over three nodes, and a node that
// joins afterwards: every copy of the state ends the same.
func TestClusterCopiesAgree(t *testing.T) {
	l := newMemLog()
	nodes := startNodes(t, l, 3, func(c *Config) { c.Limits.CallTimeout = 300 * time.Millisecond })
	randomWorkload(t, nodes, 300)
	late := startNodes(t, l, 1, nil)
	agree(t, append(nodes, late...))
}

// The same with a snapshot every few entries: a node that joins restores
// the newest and applies only the log after it, and ends with the same
// copy, down to the bytes of its own next snapshot.
func TestClusterSnapshot(t *testing.T) {
	l := newMemLog()
	short := func(c *Config) {
		c.Limits.CallTimeout = 300 * time.Millisecond
		c.SnapshotEvery = 7
	}
	nodes := startNodes(t, l, 3, short)
	randomWorkload(t, nodes, 300)
	l.mu.Lock()
	snaps, total := l.snaps, len(l.entries)
	l.mu.Unlock()
	if snaps < 5 {
		t.Fatalf("%d snapshots saved over %d entries, one every 7 wanted", snaps, total)
	}
	late := startNodes(t, l, 1, short)
	from, _ := late[0].srv.repl.c.(*memNode).from.Load().(string)
	if from == "" {
		t.Fatal("the late node read the log from its start, not after the snapshot")
	}
	all := append(nodes, late...)
	agree(t, all)
	// The entries counted can lag the state by the entry being applied.
	deadline := time.Now().Add(waitFor)
	for i := 1; i < len(all); {
		want, got := string(nodes[0].srv.snapshot()), string(all[i].srv.snapshot())
		switch {
		case got == want:
			i++
		case time.Now().After(deadline):
			t.Fatalf("node %s's snapshot differs:\n%s\n---\n%s", all[i].id(), got, want)
		default:
			time.Sleep(10 * time.Millisecond)
		}
	}
	// What the late node restored serves: a user on it calls one on
	// another node.
	a, b := login(t, late[0], "z1"), login(t, nodes[1], "z2")
	a.ok(protocol.MethodCall, protocol.CallParams{CallID: "zc", CalledUserID: "z2"}, nil)
	b.expectEvent(protocol.EventNotifyCallIn, nil)
}

// randomWorkload sends steps random requests from six users spread over
// nodes, then waits for ringing calls to time out and the copies to agree.
func randomWorkload(t *testing.T, nodes []*testNode, steps int) {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	users := []string{"u0", "u1", "u2", "u3", "u4", "u5"}
	clients := map[string]*wsClient{}
	for i, u := range users {
		clients[u] = login(t, nodes[i%3], u)
	}
	var meet protocol.MeetingID
	var mo protocol.MeetObjResult
	clients["u0"].ok(protocol.MethodCreateMeeting, protocol.CreateMeetingParams{MeetSubject: "m"}, &mo)
	meet = mo.MeetObj.ID
	for step := 0; step < steps; step++ {
		u := users[rng.Intn(len(users))]
		peer := users[rng.Intn(len(users))]
		c := clients[u]
		switch rng.Intn(12) {
		case 0:
			c.rpcAsync(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: rng.Intn(2)})
		case 1:
			c.rpcAsync(protocol.MethodCall, protocol.CallParams{CallID: fmt.Sprintf("c%d", step), CalledUserID: protocol.UserID(peer)})
		case 2:
			c.rpcAsync(protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: fmt.Sprintf("c%d", step-rng.Intn(5))})
		case 3:
			c.rpcAsync(protocol.MethodHungupCall, protocol.CallActionParams{CallID: fmt.Sprintf("c%d", step-rng.Intn(5))})
		case 4:
			c.rpcAsync(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: meet})
		case 5:
			c.rpcAsync(protocol.MethodExitMeeting, nil)
		case 6:
			c.rpcAsync(protocol.MethodStartService, protocol.StartServiceParams{QueID: 1 + rng.Intn(2), Priority: rng.Intn(3)})
		case 7:
			c.rpcAsync(protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: 1 + rng.Intn(2)})
		case 8:
			c.rpcAsync(protocol.MethodRejectAssignUser, assignParams(1+rng.Intn(2), peer))
		case 9:
			c.rpcAsync(protocol.MethodAcceptAssignUser, assignParams(1+rng.Intn(2), peer))
		case 10:
			c.rpcAsync(protocol.MethodSetNickName, protocol.SetNickNameParams{UserID: protocol.UserID(u), NickName: fmt.Sprintf("n%d", step)})
		case 11:
			// a login elsewhere: the user moves to another node
			clients[u] = login(t, nodes[rng.Intn(3)], u)
		}
	}
	time.Sleep(400 * time.Millisecond) // ringing calls time out
	agree(t, nodes)
}

// droppedByNode checks that c's node ended its session (lineOff 207, the
// connection closed) and, with a watcher, waits until the watcher's node
// lists who as offline.
func droppedByNode(t *testing.T, c, watcher *wsClient, who string) {
	t.Helper()
	var off protocol.LineOff
	c.expectEvent(protocol.EventLineOff, &off)
	if off.SdkEr != protocol.ConnectionLost {
		t.Fatalf("lineOff %+v, want %d", off, protocol.ConnectionLost)
	}
	c.waitClosed()
	if watcher == nil {
		return
	}
	deadline := time.Now().Add(waitFor)
	for statusOf(userStatus(t, watcher), who).UserStatus != protocol.UserOffline {
		if time.Now().After(deadline) {
			t.Fatalf("%s still online", who)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rpcAsync sends a request and does not wait for its answer.
func (c *wsClient) rpcAsync(method string, params any) {
	c.t.Helper()
	_ = c.conn.WriteMessage(websocket.TextMessage, c.nextRequest(method, params)) // the node may have closed it (a kick)
}

// awaitAnswer waits for the answer to the last request sent; events that
// come first are kept for expectEvent.
func (c *wsClient) awaitAnswer() {
	c.t.Helper()
	if e := c.answer(); e != nil {
		c.t.Fatalf("answer %d: %v", c.nextID, e)
	}
}

// answer waits for the answer to the last request sent and returns its
// error, if any.
func (c *wsClient) answer() *protocol.Error {
	c.t.Helper()
	want, _ := json.Marshal(c.nextID)
	for {
		m := c.next()
		if m.IsNotification() {
			c.events = append(c.events, m)
			continue
		}
		if string(m.ID) == string(want) {
			return m.Error
		}
	}
}

// A member with media entering a meeting whose media another node
// forwards is sent there: 803 with a MoveTo, and moveIn on that node takes
// the session over at a cut point in the log. The user stays online for
// its watchers, keeps watching, and enters on the new node; the old
// connection closes; the token moves nothing twice, and nothing but the
// token its node signed moves anything.
func TestClusterMeetingMoves(t *testing.T) {
	l := newMemLog()
	var urls sync.Map // node ID -> http base URL
	nodes := startNodes(t, l, 2, func(c *Config) {
		c.Media = nullMedia{}
		c.NodeURL = func(_ context.Context, id string) (string, error) {
			if u, ok := urls.Load(id); ok {
				return u.(string), nil
			}
			return "", errors.New("no such node")
		}
	})
	for _, n := range nodes {
		urls.Store(n.id(), n.http.URL)
	}
	alice, carol := login(t, nodes[0], "alice"), login(t, nodes[1], "carol")
	bob := login(t, nodes[1], "bob")
	carol.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	bob.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	var mo protocol.MeetObjResult
	alice.ok(protocol.MethodCreateMeeting, protocol.CreateMeetingParams{MeetSubject: "m"}, &mo)
	enter := protocol.EnterMeetingParams{MeetID: mo.MeetObj.ID}
	alice.ok(protocol.MethodEnterMeeting, enter, nil) // node 0 forwards its media

	_, e := bob.rpc(protocol.MethodEnterMeeting, enter)
	if e == nil || e.Code != protocol.ResourceAllocateError {
		t.Fatalf("entering a meeting hosted elsewhere: %v, want 803", e)
	}
	var md protocol.MoveData
	if err := json.Unmarshal(e.Data, &md); err != nil || md.MoveTo == nil {
		t.Fatalf("803 without a MoveTo: %+v (%v)", e, err)
	}
	if md.MoveTo.URL != nodes[0].url() {
		t.Fatalf("moveTo %q, want %q", md.MoveTo.URL, nodes[0].url())
	}
	in := protocol.MoveInParams{Token: md.MoveTo.Token, AppID: "acme", UserID: "bob"}

	// Refused: another user, another node, a forged or mangled token.
	dial(t, nodes[0]).fails(protocol.TokenAuthFailed, protocol.MethodMoveIn, protocol.MoveInParams{Token: in.Token, AppID: "acme", UserID: "carol"})
	dial(t, nodes[1]).fails(protocol.TokenAuthFailed, protocol.MethodMoveIn, in)
	forged := protocol.MoveInParams{Token: mintMove(AppConfig{ID: "acme", Secret: "guess"}, moveClaims{App: "acme", User: "bob",
		From: nodes[1].id(), Sess: 1, To: nodes[0].id(), Until: time.Now().Add(time.Minute).UnixMilli()}), AppID: "acme", UserID: "bob"}
	dial(t, nodes[0]).fails(protocol.TokenAuthFailed, protocol.MethodMoveIn, forged)
	dial(t, nodes[0]).fails(protocol.TokenAuthFailed, protocol.MethodMoveIn, protocol.MoveInParams{Token: in.Token + "x", AppID: "acme", UserID: "bob"})
	dial(t, nodes[0]).fails(protocol.ParamErr, protocol.MethodMoveIn, protocol.MoveInParams{AppID: "acme", UserID: "bob"})

	bob2 := dial(t, nodes[0])
	var lr protocol.LoginResult
	bob2.ok(protocol.MethodMoveIn, in, &lr)
	if lr.UserID != "bob" || lr.NickName != "nick-bob" {
		t.Fatalf("moveIn answered %+v", lr)
	}
	if ce := bob.waitClosed(); ce == nil || ce.Code != websocket.CloseNormalClosure || ce.Text != closeMoved {
		t.Fatalf("the old connection closed with %v, want 1000 %q", ce, closeMoved)
	}
	dial(t, nodes[0]).fails(protocol.TokenAuthFailed, protocol.MethodMoveIn, in) // used

	bob2.ok(protocol.MethodEnterMeeting, enter, nil)
	alice.expectEvent(protocol.EventUserEnterMeeting, nil)
	// Bob still watches presence, on the new node.
	var ns protocol.NotifyUserStatus
	bob2.expectEvent(protocol.EventNotifyUserStatus, &ns)
	if ns.UserStatus.UserID != "bob" || ns.UserStatus.UserStatus != protocol.UserInMeeting {
		t.Fatalf("bob's watch after the move: %+v", ns)
	}
	// Carol sees bob in the meeting, never offline.
	ns = protocol.NotifyUserStatus{}
	for ns.UserStatus.UserID != "bob" || ns.UserStatus.UserStatus != protocol.UserInMeeting {
		carol.expectEvent(protocol.EventNotifyUserStatus, &ns)
		if ns.UserStatus.UserID == "bob" && ns.UserStatus.UserStatus == protocol.UserOffline {
			t.Fatal("carol saw bob offline during his move")
		}
	}
	agree(t, nodes)
	if on, _ := nodes[0].srv.UserNode("acme", "bob"); on != nodes[0].id() {
		t.Fatalf("bob's session is on %q, want %q", on, nodes[0].id())
	}
	// Logging out on the new node logs him off everywhere.
	bob2.ok(protocol.MethodLogout, nil, nil)
	agree(t, nodes)
	if _, ok := nodes[1].srv.UserNode("acme", "bob"); ok {
		t.Fatal("bob online after his logout")
	}
}

// moveNodes starts k nodes with media that find each other for a move.
func moveNodes(t *testing.T, k int, tweak func(*Config)) []*testNode {
	t.Helper()
	var urls sync.Map
	nodes := startNodes(t, newMemLog(), k, func(c *Config) {
		c.Media = nullMedia{}
		c.NodeURL = func(_ context.Context, id string) (string, error) {
			if u, ok := urls.Load(id); ok {
				return u.(string), nil
			}
			return "", errors.New("no such node")
		}
		if tweak != nil {
			tweak(c)
		}
	})
	for _, n := range nodes {
		urls.Store(n.id(), n.http.URL)
	}
	return nodes
}

// enterMoving enters c's user into meeting id from a node that does not
// forward its media: it follows the 803 to node to, and returns the
// client on the new connection once the old one closed.
func enterMoving(t *testing.T, c *wsClient, user string, to *testNode, id protocol.MeetingID) *wsClient {
	t.Helper()
	_, e := c.rpc(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: id})
	var md protocol.MoveData
	if e == nil || json.Unmarshal(e.Data, &md) != nil || md.MoveTo == nil {
		t.Fatalf("entry from another node: %v, want 803 with a MoveTo", e)
	}
	n := dial(t, to)
	var lr protocol.LoginResult
	n.ok(protocol.MethodMoveIn, protocol.MoveInParams{Token: md.MoveTo.Token, AppID: "acme", UserID: user}, &lr)
	c.waitClosed()
	n.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: id}, nil)
	return n
}

// The timers a user's node owns go with its session: a call that rings
// while its caller moves times out on the new node, even once the old
// one is gone.
func TestClusterMoveHandsOverTimers(t *testing.T) {
	nodes := moveNodes(t, 2, func(c *Config) { c.Limits.CallTimeout = 600 * time.Millisecond })
	alice, carol := login(t, nodes[0], "alice"), login(t, nodes[0], "carol")
	bob := login(t, nodes[1], "bob")
	var mo protocol.MeetObjResult
	alice.ok(protocol.MethodCreateMeeting, protocol.CreateMeetingParams{MeetSubject: "m"}, &mo)
	alice.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: mo.MeetObj.ID}, nil)
	agree(t, nodes)
	bob.ok(protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "carol"}, nil)
	carol.expectEvent(protocol.EventNotifyCallIn, nil)
	bob2 := enterMoving(t, bob, "bob", nodes[0], mo.MeetObj.ID)
	nodes[1].stop()
	expectRingTimeout(t, bob2, carol)
	a := nodes[0].srv.apps["acme"]
	a.mu.Lock()
	n := len(a.calls)
	a.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d calls left after the ringing timed out", n)
	}
}
