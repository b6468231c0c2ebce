package client

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/protocol"
)

// numbered sends m with seq, as the node numbers a logged-in session's
// messages.
func numbered(nc *nodeConn, seq uint64, m *protocol.Message) {
	nc.t.Helper()
	m.Seq = seq
	nc.send(m)
}

func numberedEvent(t *testing.T, nc *nodeConn, seq uint64, method string, params any) {
	t.Helper()
	m, err := protocol.NewNotification(method, params)
	if err != nil {
		t.Fatal(err)
	}
	numbered(nc, seq, m)
}

func numberedReply(t *testing.T, nc *nodeConn, seq uint64, id json.RawMessage, result any) {
	t.Helper()
	m, err := protocol.NewResult(id, result)
	if err != nil {
		t.Fatal(err)
	}
	numbered(nc, seq, m)
}

// loginResumable logs c in as alice of app acme with a resume token and
// grace window; the login response is seq 1.
func loginResumable(t *testing.T, c *Client, nc *nodeConn, grace time.Duration) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Login(testCtx(t), protocol.LoginParams{AppID: "acme", UserID: "alice"})
		errc <- err
	}()
	r := nc.recvMethod(protocol.MethodLogin)
	numberedReply(t, nc, 1, r.msg.ID, protocol.LoginResult{UserID: "alice", AppID: "acme",
		ResumeToken: "tok1", ResumeGraceMs: grace.Milliseconds()})
	if err := <-errc; err != nil {
		t.Fatalf("Login: %v", err)
	}
}

// resumableClient is a client logged in with a resume token and grace
// window, with the scripted node and the Handler's log.
func resumableClient(t *testing.T, grace time.Duration) (*Client, *nodeConn, *fakeNode, *eventLog) {
	t.Helper()
	log := newEventLog()
	node := newFakeNode(t)
	c, nc := node.dial(Options{Handler: log.handler})
	loginResumable(t, c, nc, grace)
	return c, nc, node, log
}

// nextConn waits for the client's next connection to the node.
func (n *fakeNode) nextConn() *nodeConn {
	n.t.Helper()
	select {
	case nc := <-n.conns:
		return nc
	case <-time.After(testTimeout):
		n.t.Fatal("the client did not connect again")
		return nil
	}
}

func expectEvent(t *testing.T, log *eventLog, method string) Event {
	t.Helper()
	ev := log.next(t)
	if ev.Method != method {
		t.Fatalf("event %s %+v, want %s", ev.Method, ev.Data, method)
	}
	return ev
}

func expectNetState(t *testing.T, log *eventLog, state string) {
	t.Helper()
	ev := expectEvent(t, log, protocol.EventNetStateChanged)
	if d, ok := ev.Data.(*protocol.NetState); !ok || d.State != state {
		t.Fatalf("netStateChanged %+v, want %s", ev.Data, state)
	}
}

// TestResumeAfterDrop checks the client's side of a resume: it reconnects
// with the token, the user and the last seq it got; it hands the app the
// replayed messages it had not seen, once, after netStateChanged restored;
// a request answered in the replay is not sent again, one the node never
// answered is, with the same id, and a request made during the loss goes
// out after the resume.
func TestResumeAfterDrop(t *testing.T) {
	c, nc, node, log := resumableClient(t, 10*time.Second)
	numberedEvent(t, nc, 2, "first", nil)
	expectEvent(t, log, "first")

	answered, unanswered, during := make(chan error, 1), make(chan error, 1), make(chan error, 1)
	var resA, resB, resC map[string]int
	go func() { answered <- c.Do(testCtx(t), "a", nil, &resA) }()
	ra := nc.recvMethod("a")
	go func() { unanswered <- c.Do(testCtx(t), "b", nil, &resB) }()
	rb := nc.recvMethod("b")
	nc.drop()
	expectNetState(t, log, protocol.NetLost)
	go func() { during <- c.Do(testCtx(t), "c", nil, &resC) }()

	nc2 := node.nextConn()
	r := nc2.recvMethod(protocol.MethodResume)
	var p protocol.ResumeParams
	if err := json.Unmarshal(r.msg.Params, &p); err != nil {
		t.Fatal(err)
	}
	if p != (protocol.ResumeParams{Token: "tok1", AppID: "acme", UserID: "alice", LastSeq: 2}) {
		t.Fatalf("resume params %+v", p)
	}
	numberedEvent(t, nc2, 2, "first", nil) // had: dropped
	numberedEvent(t, nc2, 3, "meanwhile", nil)
	numberedReply(t, nc2, 4, ra.msg.ID, map[string]int{"n": 1})
	nc2.reply(r.msg.ID, protocol.ResumeResult{ResumeToken: "tok2", ResumeGraceMs: 10000, Seq: 4})

	expectNetState(t, log, protocol.NetRestored)
	expectEvent(t, log, "meanwhile")
	if err := <-answered; err != nil || resA["n"] != 1 {
		t.Fatalf("request answered in the replay: %v %v", err, resA)
	}
	again := nc2.recvMethod("b")
	if string(again.msg.ID) != string(rb.msg.ID) {
		t.Errorf("request sent again with id %s, want %s", again.msg.ID, rb.msg.ID)
	}
	rc := nc2.recvMethod("c")
	numberedReply(t, nc2, 5, again.msg.ID, map[string]int{"n": 2})
	numberedReply(t, nc2, 6, rc.msg.ID, map[string]int{"n": 3})
	if err := <-unanswered; err != nil || resB["n"] != 2 {
		t.Fatalf("request sent again: %v %v", err, resB)
	}
	if err := <-during; err != nil || resC["n"] != 3 {
		t.Fatalf("request made during the loss: %v %v", err, resC)
	}

	// A second loss resumes with the new token and seq.
	nc2.drop()
	expectNetState(t, log, protocol.NetLost)
	nc3 := node.nextConn()
	r = nc3.recvMethod(protocol.MethodResume)
	if err := json.Unmarshal(r.msg.Params, &p); err != nil {
		t.Fatal(err)
	}
	if p.Token != "tok2" || p.LastSeq != 6 {
		t.Fatalf("second resume %+v, want tok2 from seq 6", p)
	}
	nc3.reply(r.msg.ID, protocol.ResumeResult{ResumeToken: "tok3", ResumeGraceMs: 10000, Seq: 6})
	expectNetState(t, log, protocol.NetRestored)
	select {
	case ev := <-log.ch:
		t.Fatalf("unexpected event %s %+v", ev.Method, ev.Data)
	default:
	}
}

// TestResumeRefused checks that a node that refuses the resume ends the
// session: pending requests fail with 207 and lineOff says 10 for a kick,
// 207 for anything else.
func TestResumeRefused(t *testing.T) {
	for _, tc := range []struct {
		answer, lineOff protocol.Code
	}{
		{protocol.UserBeenKickout, protocol.UserBeenKickout},
		{protocol.ConnectionLost, protocol.ConnectionLost},
		{protocol.TokenAuthFailed, protocol.ConnectionLost},
	} {
		t.Run(tc.answer.String(), func(t *testing.T) {
			c, nc, node, log := resumableClient(t, 10*time.Second)
			pending := make(chan error, 1)
			go func() { pending <- c.Do(testCtx(t), "x", nil, nil) }()
			nc.recvMethod("x")
			nc.drop()
			expectNetState(t, log, protocol.NetLost)
			nc2 := node.nextConn()
			r := nc2.recvMethod(protocol.MethodResume)
			nc2.replyError(r.msg.ID, tc.answer, "refused")
			if err := <-pending; protocol.CodeOf(err) != protocol.ConnectionLost {
				t.Errorf("pending request = %v, want 207", err)
			}
			evs := drainEvents(t, c, log)
			if len(evs) != 1 || countLineOff(evs, tc.lineOff) != 1 {
				t.Errorf("events %+v, want one lineOff %d", evs, tc.lineOff)
			}
		})
	}
}

// TestResumeGraceEnds checks that a client that cannot reach the node
// within the grace window gives up with lineOff 207.
func TestResumeGraceEnds(t *testing.T) {
	c, nc, node, log := resumableClient(t, 600*time.Millisecond)
	node.srv.Close() // nothing listens any more: each attempt fails
	nc.drop()
	expectNetState(t, log, protocol.NetLost)
	start := time.Now()
	evs := drainEvents(t, c, log)
	if len(evs) != 1 || countLineOff(evs, protocol.ConnectionLost) != 1 {
		t.Errorf("events %+v, want one lineOff 207", evs)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("gave up after %v, the grace window is 600ms", d)
	}
}

// TestNoResumeWhenClosedForCause checks that a connection the node closed
// with a close frame, or a client with NoResume, does not resume.
func TestNoResumeWhenClosedForCause(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		end  func(nc *nodeConn)
	}{
		{"close frame", Options{}, func(nc *nodeConn) {
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "logged in elsewhere")
			_ = nc.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		}},
		{"NoResume", Options{NoResume: true}, (*nodeConn).drop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := newEventLog()
			node := newFakeNode(t)
			tc.opts.Handler = log.handler
			c, nc := node.dial(tc.opts)
			loginResumable(t, c, nc, 10*time.Second)
			tc.end(nc)
			evs := drainEvents(t, c, log)
			if len(evs) != 1 || countLineOff(evs, protocol.ConnectionLost) != 1 {
				t.Errorf("events %+v, want only lineOff 207", evs)
			}
			select {
			case <-node.conns:
				t.Error("the client connected again")
			default:
			}
		})
	}
}

// TestCloseWhileResuming checks that Close stops a resume: no lineOff, the
// client stops, pending requests fail with 207.
func TestCloseWhileResuming(t *testing.T) {
	c, nc, node, log := resumableClient(t, 10*time.Second)
	node.srv.Close()
	nc.drop()
	expectNetState(t, log, protocol.NetLost)
	pending := make(chan error, 1)
	go func() { pending <- c.Do(testCtx(t), "x", nil, nil) }()
	time.Sleep(50 * time.Millisecond) // let it register: it must wait, not fail
	select {
	case err := <-pending:
		t.Fatalf("request during the loss ended before Close: %v", err)
	default:
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-pending; protocol.CodeOf(err) != protocol.ConnectionLost {
		t.Errorf("pending request = %v, want 207", err)
	}
	if evs := drainEvents(t, c, log); len(evs) != 0 {
		t.Errorf("events after Close: %+v", evs)
	}
}

// resumeAnswered waits for the client's resume on the node's next
// connection and answers it after delay, with replayed messages first.
func resumeAnswered(t *testing.T, node *fakeNode, delay time.Duration, replay ...func(nc *nodeConn)) *nodeConn {
	t.Helper()
	nc := node.nextConn()
	r := nc.recvMethod(protocol.MethodResume)
	time.Sleep(delay)
	for _, f := range replay {
		f(nc)
	}
	nc.reply(r.msg.ID, protocol.ResumeResult{ResumeToken: "tok2", ResumeGraceMs: 10000})
	return nc
}

// TestResumeSlowAnswer: the node took the resume (and retired the token)
// but answers after longer than a dial may take: the client waits for the
// answer rather than trying again with the retired token.
func TestResumeSlowAnswer(t *testing.T) {
	_, nc, node, log := resumableClient(t, 10*time.Second)
	nc.drop()
	expectNetState(t, log, protocol.NetLost)
	resumeAnswered(t, node, resumeAttemptTimeout+500*time.Millisecond)
	expectNetState(t, log, protocol.NetRestored)
	select {
	case <-node.conns:
		t.Error("the client tried again while the node was answering")
	default:
	}
}

// TestResumeAbandonedRequest: a request made during the loss whose caller
// gave up is not sent once the session is back.
func TestResumeAbandonedRequest(t *testing.T) {
	c, nc, node, log := resumableClient(t, 10*time.Second)
	nc.drop()
	expectNetState(t, log, protocol.NetLost)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.EnterMeeting(ctx, 7, "", ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("EnterMeeting during the loss = %v, want its deadline", err)
	}
	nc2 := resumeAnswered(t, node, 0)
	expectNetState(t, log, protocol.NetRestored)
	errc := make(chan error, 1)
	go func() { errc <- c.Do(testCtx(t), "sync", nil, nil) }()
	r := nc2.recv()
	if r.msg.Method != "sync" {
		t.Fatalf("after the resume the node got %s, want only the new request", r.raw)
	}
	nc2.reply(r.msg.ID, nil)
	if err := <-errc; err != nil || c.MeetingID() != 0 {
		t.Fatalf("sync %v, meeting %d", err, c.MeetingID())
	}
}

// TestResumeNotifyAfterReplayedAnswer: what a replayed answer sets off
// (ICE candidates after an upOffer's answer) goes out on the resumed
// connection, not into the void.
func TestResumeNotifyAfterReplayedAnswer(t *testing.T) {
	c, nc, node, log := resumableClient(t, 10*time.Second)
	notified := make(chan error, 1)
	go func() {
		if err := c.Do(testCtx(t), "offer", nil, nil); err != nil {
			notified <- err
			return
		}
		notified <- c.Notify("candidate", nil)
	}()
	r := nc.recvMethod("offer")
	nc.drop()
	expectNetState(t, log, protocol.NetLost)
	nc2 := resumeAnswered(t, node, 0, func(nc *nodeConn) {
		numberedReply(t, nc, 2, r.msg.ID, nil)
		for i := range 50 { // more replay after the answer
			numberedEvent(t, nc, uint64(3+i), "later", nil)
		}
	})
	if err := <-notified; err != nil {
		t.Fatalf("notification after the replayed answer: %v", err)
	}
	nc2.recvMethod("candidate")
}

// TestResumeAfterLogout: a logout the node took just before the loss
// leaves no session to resume (207); the client takes that as the logout's
// success, with no lineOff.
func TestResumeAfterLogout(t *testing.T) {
	c, nc, node, log := resumableClient(t, 10*time.Second)
	done := make(chan error, 1)
	go func() { done <- c.Logout(testCtx(t)) }()
	nc.recvMethod(protocol.MethodLogout)
	nc.drop() // the answer is lost with the connection
	expectNetState(t, log, protocol.NetLost)
	nc2 := node.nextConn()
	r := nc2.recvMethod(protocol.MethodResume)
	nc2.replyError(r.msg.ID, protocol.ConnectionLost, "no session")
	if err := <-done; err != nil {
		t.Fatalf("Logout = %v, want success", err)
	}
	if evs := drainEvents(t, c, log); len(evs) != 0 {
		t.Errorf("events after the logout: %+v", evs)
	}
}
