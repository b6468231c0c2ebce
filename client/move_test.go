package client

import (
	"encoding/json"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/protocol"
)

// moveError is the 803 with which a node sends the session to node to.
func moveError(t *testing.T, to *fakeNode, token string) *protocol.Error {
	t.Helper()
	data, err := json.Marshal(protocol.MoveData{MoveTo: &protocol.MoveTo{URL: to.url(), Token: token}})
	if err != nil {
		t.Fatal(err)
	}
	return &protocol.Error{Code: protocol.ResourceAllocateError, Message: "elsewhere", Data: data}
}

// TestMoveFollowed checks the client's side of a move: the entry answered
// 803 with a MoveTo is not the program's answer; the client presents the
// token on the new node, handles what the old node sent before it closed
// the old connection, then what the new one sent, and sends the entry and
// the requests made meanwhile again there; the numbering starts again.
func TestMoveFollowed(t *testing.T) {
	c, nc, _, log := resumableClient(t, 0)
	other := newFakeNode(t)
	type entered struct {
		res *protocol.EnterMeetingResult
		err error
	}
	entry := make(chan entered, 1)
	go func() {
		res, err := c.EnterMeeting(testCtx(t), 7, "", "")
		entry <- entered{res, err}
	}()
	r := nc.recvMethod(protocol.MethodEnterMeeting)
	nc.send(withSeq(protocol.NewError(r.msg.ID, moveError(t, other, "mv1")), 2))

	nc2 := other.nextConn()
	in := nc2.recvMethod(protocol.MethodMoveIn)
	var p protocol.MoveInParams
	if err := json.Unmarshal(in.msg.Params, &p); err != nil {
		t.Fatal(err)
	}
	if p != (protocol.MoveInParams{Token: "mv1", AppID: "acme", UserID: "alice"}) {
		t.Fatalf("moveIn params %+v", p)
	}
	during := make(chan error, 1)
	go func() { during <- c.Do(testCtx(t), "during", nil, nil) }()
	numberedEvent(t, nc2, 1, "afterCut", nil)
	numberedReply(t, nc2, 2, in.msg.ID, protocol.LoginResult{UserID: "alice", AppID: "acme", ResumeToken: "tok9", ResumeGraceMs: 5000})
	numberedEvent(t, nc, 3, "beforeCut", nil) // the old node's last
	if err := nc.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "moved to another node")); err != nil {
		t.Fatal(err)
	}

	again := nc2.recvMethod(protocol.MethodEnterMeeting)
	if string(again.msg.ID) != string(r.msg.ID) {
		t.Errorf("entry sent again with id %s, want %s", again.msg.ID, r.msg.ID)
	}
	d := nc2.recvMethod("during")
	numberedReply(t, nc2, 3, again.msg.ID, protocol.EnterMeetingResult{MeetObj: protocol.MeetInfo{ID: 7}})
	numberedReply(t, nc2, 4, d.msg.ID, map[string]any{})
	if e := <-entry; e.err != nil || e.res.MeetObj.ID != 7 {
		t.Fatalf("EnterMeeting after the move: %+v, %v", e.res, e.err)
	}
	if err := <-during; err != nil {
		t.Fatalf("request made during the move: %v", err)
	}
	expectEvent(t, log, "beforeCut")
	expectEvent(t, log, "afterCut")
	if c.MeetingID() != 7 {
		t.Errorf("in meeting %d after the move, want 7", c.MeetingID())
	}
	c.mu.Lock()
	tok, url := c.resume.token, c.url
	c.mu.Unlock()
	if tok != "tok9" || url != other.url() {
		t.Errorf("after the move: token %q, url %q; want tok9, %s", tok, url, other.url())
	}
	select {
	case ev := <-log.ch:
		t.Errorf("unexpected event %s %+v", ev.Method, ev.Data)
	default:
	}
}

// TestMoveRefused checks that a move the new node refuses leaves the
// session where it was: the entry fails with 803 and the client goes on
// on its connection, where the requests made meanwhile go out.
func TestMoveRefused(t *testing.T) {
	m := startMove(t)
	c, nc, nc2, in, entry := m.c, m.nc, m.nc2, m.in, m.entry
	during := make(chan error, 1)
	go func() { during <- c.Do(testCtx(t), "during", nil, nil) }()
	nc2.replyError(in.msg.ID, protocol.TokenAuthFailed, "used")
	if err := <-entry; protocol.CodeOf(err) != protocol.ResourceAllocateError {
		t.Fatalf("EnterMeeting after a refused move: %v, want 803", err)
	}
	d := nc.recvMethod("during")
	numberedReply(t, nc, 3, d.msg.ID, map[string]any{})
	if err := <-during; err != nil {
		t.Fatalf("request made during the attempt: %v", err)
	}
	if c.MeetingID() != 0 {
		t.Errorf("in meeting %d after a refused move", c.MeetingID())
	}
}

func withSeq(m *protocol.Message, seq uint64) *protocol.Message {
	m.Seq = seq
	return m
}

// TestMoveRefusedWhileOldEnds checks that a refused move and the old
// connection's end arriving together end the session, whichever comes
// first: never a client left on a dead connection.
func TestMoveRefusedWhileOldEnds(t *testing.T) {
	for i := range 150 {
		m := startMove(t)
		c, nc, nc2, in, entry := m.c, m.nc, m.nc2, m.in, m.entry
		go nc2.replyError(in.msg.ID, protocol.TokenAuthFailed, "used")
		_ = nc.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "moved to another node"))
		if err := <-entry; err == nil {
			t.Fatalf("round %d: the entry succeeded", i)
		}
		waitDone(t, c)
		_ = c.Close()
		m.other.shutdown()
	}
}

// aMove is a move under way: the entry answered with a MoveTo to other,
// whose connection nc2 got moveIn in.
type aMove struct {
	c       *Client
	nc, nc2 *nodeConn
	other   *fakeNode
	in      received
	entry   chan error
}

func startMove(t *testing.T) *aMove {
	t.Helper()
	m := &aMove{entry: make(chan error, 1)}
	m.c, m.nc, _, _ = resumableClient(t, 0)
	m.other = newFakeNode(t)
	go func() {
		_, err := m.c.EnterMeeting(testCtx(t), 7, "", "")
		m.entry <- err
	}()
	r := m.nc.recvMethod(protocol.MethodEnterMeeting)
	m.nc.send(withSeq(protocol.NewError(r.msg.ID, moveError(t, m.other, "mv1")), 2))
	m.nc2 = m.other.nextConn()
	m.in = m.nc2.recvMethod(protocol.MethodMoveIn)
	return m
}
