package signaling

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/crvnode/crvnode/protocol"
)

// withGrace starts a node whose lost sessions wait grace for a resume.
func withGrace(grace time.Duration, tweak func(*Config)) func(*Config) {
	return func(c *Config) {
		c.Limits.ResumeGrace = grace
		if tweak != nil {
			tweak(c)
		}
	}
}

// resumable logs user in and returns its client and resume token.
func resumable(t *testing.T, n *testNode, user string) (*wsClient, string) {
	t.Helper()
	c := dial(t, n)
	var res protocol.LoginResult
	c.ok(protocol.MethodLogin, loginParams("acme", "acme-secret", user), &res)
	if res.ResumeToken == "" || res.ResumeGraceMs != n.srv.cfg.Limits.ResumeGrace.Milliseconds() {
		t.Fatalf("login result without a resume token: %+v", res)
	}
	return c, res.ResumeToken
}

// lose ends c's TCP connection with no close frame, as a network loss
// does, and waits until the node has noticed.
func (n *testNode) lose(c *wsClient) {
	n.t.Helper()
	_ = c.conn.UnderlyingConn().Close()
	<-c.closed
	n.waitDetached(1)
}

func (n *testNode) waitDetached(want int) {
	n.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		n.srv.mu.Lock()
		got := len(n.srv.detached)
		n.srv.mu.Unlock()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%d sessions wait for a resume, want %d", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// resume sends resume on a new connection and returns the messages
// replayed before its answer, and the answer.
func resume(t *testing.T, n *testNode, p protocol.ResumeParams) (*wsClient, []protocol.Message, *protocol.ResumeResult, *protocol.Error) {
	t.Helper()
	c := dial(t, n)
	c.send(`{"jsonrpc":"2.0","id":"r","method":"resume","params":` + string(mustJSON(t, p)) + `}`)
	var replayed []protocol.Message
	for {
		m := c.next()
		if string(m.ID) != `"r"` {
			replayed = append(replayed, m)
			continue
		}
		if m.Seq != 0 {
			t.Errorf("the answer to resume has seq %d", m.Seq)
		}
		if m.Error != nil {
			return c, replayed, nil, m.Error
		}
		var res protocol.ResumeResult
		if err := json.Unmarshal(m.Result, &res); err != nil {
			t.Fatal(err)
		}
		return c, replayed, &res, nil
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seqOf returns the seq of the last message c's reader has seen so far
// (responses and events), reading what is queued.
func lastSeq(t *testing.T, c *wsClient, kept ...protocol.Message) uint64 {
	t.Helper()
	var last uint64
	for _, m := range append(c.events, kept...) {
		last = max(last, m.Seq)
	}
	return last
}

func TestMessagesAreNumberedFromLogin(t *testing.T) {
	n := startNode(t, "", withGrace(5*time.Second, nil))
	c := dial(t, n)
	c.send(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	if m := c.next(); m.Seq != 0 || m.Error != nil {
		t.Fatalf("ping before login: %+v", m)
	}
	c.send(`{"jsonrpc":"2.0","id":2,"method":"login","params":` + string(mustJSON(t, loginParams("acme", "acme-secret", "alice"))) + `}`)
	if m := c.next(); m.Seq != 1 || m.Error != nil {
		t.Fatalf("login response: seq %d, error %v", m.Seq, m.Error)
	}
	for i, want := 0, uint64(2); i < 3; i, want = i+1, want+1 {
		c.send(`{"jsonrpc":"2.0","id":3,"method":"getMeetings"}`)
		if m := c.next(); m.Seq != want {
			t.Fatalf("response %d: seq %d, want %d", i, m.Seq, want)
		}
		c.send(`{"jsonrpc":"2.0","id":4,"method":"ping"}`)
		if m := c.next(); m.Seq != 0 {
			t.Fatalf("ping answered with seq %d", m.Seq)
		}
	}
	c.send(`{"jsonrpc":"2.0","id":5,"method":"logout"}`)
	if m := c.next(); m.Seq != 0 || m.Error != nil {
		t.Fatalf("logout response: %+v", m)
	}
}

// TestResumeKeepsTheSession: a lost connection leaves the call up and the
// presence as it was; the events of the gap arrive on resume, in order,
// and the session goes on.
func TestResumeKeepsTheSession(t *testing.T) {
	n := startNode(t, "", withGrace(10*time.Second, nil))
	a, tok := resumable(t, n, "alice")
	b := login(t, n, "bob")
	a.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	b.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	a.ok(protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "bob"}, nil)
	b.expectEvent(protocol.EventNotifyCallIn, nil)
	b.ok(protocol.MethodAcceptCall, protocol.AcceptCallParams{CallID: "c1"}, nil)
	drain(b)
	var accepted protocol.Message
	for accepted.Method != protocol.EventNotifyCallAccepted {
		accepted = a.next()
		a.events = append(a.events, accepted)
	}
	seen := lastSeq(t, a)
	drain(b)
	b.events = nil

	n.lose(a)
	// During the gap bob sees alice as before, and what he does reaches
	// alice's buffer.
	b.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1}, nil)
	for _, m := range b.events {
		if m.Method == protocol.EventNotifyUserStatus && strings.Contains(string(m.Params), `"alice"`) {
			t.Fatalf("bob saw alice's presence change during the gap: %s", m.Params)
		}
	}
	b.events = nil

	a2, replayed, res, e := resume(t, n, protocol.ResumeParams{Token: tok, AppID: "acme", UserID: "alice", LastSeq: seen})
	if e != nil {
		t.Fatal(e)
	}
	if len(replayed) != 1 || replayed[0].Method != protocol.EventNotifyUserStatus || replayed[0].Seq != seen+1 {
		t.Fatalf("replayed %+v after seq %d, want bob's notifyUserStatus as seq %d", replayed, seen, seen+1)
	}
	if res.Seq != seen+1 || res.ResumeToken == "" || res.ResumeToken == tok || res.ResumeGraceMs != 10000 {
		t.Fatalf("resume result %+v", res)
	}
	// The call is still up: alice hangs it up on the resumed session.
	var r protocol.CallIDResult
	a2.ok(protocol.MethodHungupCall, protocol.CallActionParams{CallID: "c1"}, &r)
	skipTo(b, protocol.EventNotifyCallHungup)
	if st := statusOf(userStatus(t, b), "alice"); st.UserStatus != protocol.UserIdle {
		t.Fatalf("alice after resume %+v", st)
	}
	// The old token resumes nothing more.
	if _, _, _, e := resume(t, n, protocol.ResumeParams{Token: tok, AppID: "acme", UserID: "alice"}); e == nil || e.Code != protocol.TokenAuthFailed {
		t.Fatalf("resume with a used token: %v, want code 21", e)
	}
	n.waitDetached(0)
}

// skipTo waits for event method, passing over others.
func skipTo(c *wsClient, method string) protocol.Message {
	c.t.Helper()
	for {
		var m protocol.Message
		if len(c.events) > 0 {
			m, c.events = c.events[0], c.events[1:]
		} else {
			m = c.next()
		}
		if m.Method == method {
			return m
		}
	}
}

func drain(c *wsClient) {
	for {
		select {
		case m := <-c.msgs:
			c.events = append(c.events, m)
		case <-time.After(50 * time.Millisecond):
			return
		}
	}
}

// TestResumeReplaysLostAnswers: an answer the client never saw comes
// again, with its id and seq, before the answer to resume.
func TestResumeReplaysLostAnswers(t *testing.T) {
	n := startNode(t, "", withGrace(10*time.Second, nil))
	a, tok := resumable(t, n, "alice")
	seen := lastSeq(t, a, protocol.Message{Seq: 1})
	var mt protocol.MeetInfo
	a.ok(protocol.MethodCreateMeeting, protocol.CreateMeetingParams{MeetSubject: "s"}, &mt) // its answer is "lost"
	n.lose(a)
	_, replayed, res, e := resume(t, n, protocol.ResumeParams{Token: tok, AppID: "acme", UserID: "alice", LastSeq: seen})
	if e != nil {
		t.Fatal(e)
	}
	if len(replayed) != 1 || string(replayed[0].ID) != "2" || replayed[0].Seq != seen+1 || !strings.Contains(string(replayed[0].Result), `"ID":`) {
		t.Fatalf("replayed %+v, want the createMeeting answer (id 2, seq %d)", replayed, seen+1)
	}
	if res.Seq != seen+1 {
		t.Fatalf("resume result seq %d", res.Seq)
	}
}

// TestGraceWindowEnds: a session nobody resumes ends as a logout does:
// the call ends for the peer, who sees the user go offline; a late resume
// hears 207.
func TestGraceWindowEnds(t *testing.T) {
	n := startNode(t, "", withGrace(300*time.Millisecond, nil))
	a, tok := resumable(t, n, "alice")
	b := login(t, n, "bob")
	b.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	a.ok(protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "bob"}, nil)
	b.expectEvent(protocol.EventNotifyCallIn, nil)
	drain(b)
	b.events = nil
	start := time.Now()
	n.lose(a)
	skipTo(b, protocol.EventNotifyCallHungup)
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("the call ended %v after the loss, before the grace window", waited)
	}
	n.waitDetached(0)
	if st := statusOf(userStatus(t, b), "alice"); st.UserStatus != protocol.UserOffline {
		t.Fatalf("alice after the grace window %+v", st)
	}
	if _, _, _, e := resume(t, n, protocol.ResumeParams{Token: tok, AppID: "acme", UserID: "alice"}); e == nil || e.Code != protocol.ConnectionLost {
		t.Fatalf("resume after the grace window: %v, want 207", e)
	}
}

// TestLoginDuringGraceKicks: a new login of the user ends the waiting
// session; its token then answers 10.
func TestLoginDuringGraceKicks(t *testing.T) {
	n := startNode(t, "", withGrace(10*time.Second, nil))
	a, tok := resumable(t, n, "alice")
	n.lose(a)
	login(t, n, "alice")
	n.waitDetached(0)
	if _, _, _, e := resume(t, n, protocol.ResumeParams{Token: tok, AppID: "acme", UserID: "alice"}); e == nil || e.Code != protocol.UserBeenKickout {
		t.Fatalf("resume of a kicked session: %v, want 10", e)
	}
}

func TestResumeRefusals(t *testing.T) {
	n := startNode(t, "", withGrace(10*time.Second, nil))
	a, tok := resumable(t, n, "alice")
	seen := lastSeq(t, a, protocol.Message{Seq: 1})
	n.lose(a)
	other := startNode(t, "", withGrace(10*time.Second, nil))
	_, otherTok := resumable(t, other, "alice")
	for _, tc := range []struct {
		name string
		p    protocol.ResumeParams
		code protocol.Code
		msg  string
	}{
		{"empty token", protocol.ResumeParams{AppID: "acme", UserID: "alice"}, protocol.ParamErr, ""},
		{"long token", protocol.ResumeParams{Token: strings.Repeat("x", 200), AppID: "acme", UserID: "alice"}, protocol.ParamErr, ""},
		{"another app", protocol.ResumeParams{Token: tok, AppID: "globex", UserID: "alice"}, protocol.TokenAuthFailed, ""},
		{"another user", protocol.ResumeParams{Token: tok, AppID: "acme", UserID: "bob"}, protocol.TokenAuthFailed, ""},
		{"seq beyond what was sent", protocol.ResumeParams{Token: tok, AppID: "acme", UserID: "alice", LastSeq: seen + 5}, protocol.ParamErr, ""},
		{"unknown token", protocol.ResumeParams{Token: n.srv.tokens.boot + ".nope", AppID: "acme", UserID: "alice"}, protocol.ConnectionLost, "it ended"},
		{"another node's token", protocol.ResumeParams{Token: otherTok, AppID: "acme", UserID: "alice"}, protocol.ConnectionLost, "restarted"},
	} {
		if _, _, _, e := resume(t, n, tc.p); e == nil || e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s: %v, want code %d %q", tc.name, e, tc.code, tc.msg)
		}
	}
	// None of those changed anything: the session still resumes.
	if _, _, _, e := resume(t, n, protocol.ResumeParams{Token: tok, AppID: "acme", UserID: "alice", LastSeq: seen}); e != nil {
		t.Fatalf("resume after refused attempts: %v", e)
	}
	// A logged-in connection cannot resume.
	c := login(t, n, "carol")
	c.fails(protocol.AlreadyLogin, protocol.MethodResume, protocol.ResumeParams{Token: tok, AppID: "acme", UserID: "alice"})
	c.fails(protocol.RPCInvalidParams, protocol.MethodResume, map[string]any{"token": 1})
}

// TestReplayOverflowEnds: a waiting session whose buffer fills ends at
// once, rather than resuming with a hole.
func TestReplayOverflowEnds(t *testing.T) {
	n := startNode(t, "", withGrace(10*time.Second, func(c *Config) { c.Limits.ReplayMessages = 4 }))
	a, tok := resumable(t, n, "alice")
	a.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	b := login(t, n, "bob")
	b.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	n.lose(a)
	n.waitDetached(1)
	// A burst of events (a meeting's fan-out) past the buffer at once:
	// the session ends once, not once per message.
	n.srv.mu.Lock()
	for s := range n.srv.detached {
		for range 50 {
			s.send([]byte(`{"jsonrpc":"2.0","method":"notifyMeetingCustomMsg","params":{}}`))
		}
	}
	n.srv.mu.Unlock()
	n.waitDetached(0)
	if got := testutil.ToFloat64(n.srv.metrics.resumes.WithLabelValues("overflow")); got != 1 {
		t.Errorf("resumes{outcome=overflow} %v, want 1 for one session", got)
	}
	for i := range 6 {
		b.ok(protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: (i + 1) % 2}, nil)
	}
	for {
		var st protocol.NotifyUserStatus
		b.expectEvent(protocol.EventNotifyUserStatus, &st)
		if st.UserStatus.UserID == "alice" && st.UserStatus.UserStatus == protocol.UserOffline {
			break
		}
	}
	if _, _, _, e := resume(t, n, protocol.ResumeParams{Token: tok, AppID: "acme", UserID: "alice"}); e == nil || e.Code != protocol.ConnectionLost {
		t.Fatalf("resume after overflow: %v, want 207", e)
	}
}

// TestCloseFrameEndsSession: a client that closes its connection on
// purpose is logged off at once, grace window or not.
func TestCloseFrameEndsSession(t *testing.T) {
	n := startNode(t, "", withGrace(10*time.Second, nil))
	a, _ := resumable(t, n, "alice")
	b := login(t, n, "bob")
	b.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	_ = a.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""))
	var st protocol.NotifyUserStatus
	b.expectEvent(protocol.EventNotifyUserStatus, &st)
	if st.UserStatus.UserID != "alice" || st.UserStatus.UserStatus != protocol.UserOffline {
		t.Fatalf("after alice closed: %+v", st)
	}
}

// TestCloseLostKeepsSession: a close frame with CloseLost is a loss.
func TestCloseLostKeepsSession(t *testing.T) {
	n := startNode(t, "", withGrace(10*time.Second, nil))
	a, tok := resumable(t, n, "alice")
	_ = a.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(protocol.CloseLost, "no answer"))
	n.waitDetached(1)
	if _, _, _, e := resume(t, n, protocol.ResumeParams{Token: tok, AppID: "acme", UserID: "alice", LastSeq: 1}); e != nil {
		t.Fatalf("resume after a close with %d: %v", protocol.CloseLost, e)
	}
}

// TestResumeWhileOldConnectionLooksAlive: the node has not noticed the
// loss (a silent network); the resume ends the old connection and takes
// the session over.
func TestResumeWhileOldConnectionLooksAlive(t *testing.T) {
	n := startNode(t, "", withGrace(10*time.Second, nil))
	a, tok := resumable(t, n, "alice")
	seen := lastSeq(t, a, protocol.Message{Seq: 1})
	a2, _, res, e := resume(t, n, protocol.ResumeParams{Token: tok, AppID: "acme", UserID: "alice", LastSeq: seen})
	if e != nil {
		t.Fatal(e)
	}
	if ce := a.waitClosed(); ce == nil || ce.Text != "resumed on another connection" {
		t.Errorf("old connection closed with %v", ce)
	}
	var m []protocol.MeetInfo
	a2.ok(protocol.MethodGetMeetings, nil, &struct{ Meetings *[]protocol.MeetInfo }{&m})
	// The resumed session is lost again and resumes again with the new token.
	n.lose(a2)
	if _, _, _, e := resume(t, n, protocol.ResumeParams{Token: res.ResumeToken, AppID: "acme", UserID: "alice", LastSeq: res.Seq + 1}); e != nil {
		t.Fatalf("second resume: %v", e)
	}
}

// TestShutdownEndsWaitingSessions: a node that shuts down does not keep
// sessions for a resume.
func TestShutdownEndsWaitingSessions(t *testing.T) {
	n := startNode(t, "", withGrace(10*time.Second, nil))
	a, _ := resumable(t, n, "alice")
	n.lose(a)
	n.stop()
	n.waitDetached(0)
}
