package client

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/protocol"
)

// A session outlives a lost connection (docs/protocol/resume.md): the node
// keeps it for a grace window, numbers what it sends, and the client picks
// it up on a new connection with resume. What the program sees:
//
//   - netStateChanged {"state":"lost"} when the connection is lost, and
//     {"state":"restored"} once the session is resumed, then the events
//     the node sent meanwhile, in order, each once;
//   - requests made before or during the loss are answered once: those
//     the node had not answered are sent again, with the same ids, on the
//     new connection; RequestTimeout still bounds each;
//   - when the session cannot be resumed (the grace window passed, the
//     node restarted, a login elsewhere kicked it), pending requests fail
//     with 207 and lineOff comes with 10 for a kick, else 207.

// resumeState is what resuming the session needs, from the login result
// and each resume's.
type resumeState struct {
	token  string
	appID  string
	userID protocol.UserID
	grace  time.Duration
}

const (
	resumeFirstDelay = 250 * time.Millisecond
	resumeMaxDelay   = 2 * time.Second
	// resumeAttemptTimeout bounds an attempt's dial and WebSocket
	// handshake, so that a dial into a black hole does not use up the
	// window (the resume's answer is waited for until the window ends).
	resumeAttemptTimeout = 3 * time.Second
)

// lostCause reports whether a connection that ended with err was lost,
// rather than closed by the node for cause (logout, login elsewhere,
// abuse, shutdown: the node sends a close frame with a code saying so).
func lostCause(err error) bool {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return true // a network error, a read timeout
	}
	switch ce.Code {
	case websocket.CloseAbnormalClosure, websocket.CloseTryAgainLater, protocol.CloseLost:
		return true
	}
	return false
}

// linkEnded runs on the reader of a connection that has just ended. A
// session that can be resumed is, on a new connection; anything else ends
// the session.
func (c *Client) linkEnded(l *wsLink, cause error) {
	close(l.stop)
	c.mu.Lock()
	if mv := c.moving; mv != nil && mv.from == l {
		// The connection a move leaves: the old node closes it after the
		// cut, and moveLoop goes on from there. Under c.mu, so that a move
		// that fails meanwhile either sees this or takes the link back
		// first (and this connection then ends as any other).
		mv.clean = movedClose(cause)
		close(mv.ended)
		c.mu.Unlock()
		_ = l.conn.Close()
		return
	}
	c.mu.Unlock()
	lost := lostCause(cause)
	if lost {
		// Tell the node, if it still hears us, that this connection is
		// taken for lost, so that it keeps the session.
		msg := websocket.FormatCloseMessage(protocol.CloseLost, "")
		_ = l.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(100*time.Millisecond))
	}
	_ = l.conn.Close()
	c.mu.Lock()
	st := c.resume
	resumable := lost && !c.closing && !c.lineOffSeen && !c.opts.NoResume && c.url != "" &&
		st.token != "" && st.grace > 0 && c.pending != nil
	if resumable {
		c.link = nil
	}
	c.mu.Unlock()
	if !resumable {
		c.connectionEnded(cause, protocol.ConnectionLost)
		return
	}
	c.log.Info("crvnode client: connection lost; resuming the session", "err", cause)
	c.events.Push(Event{Method: protocol.EventNetStateChanged, Data: &protocol.NetState{State: protocol.NetLost}})
	c.ioWG.Add(1) // before this reader's Done: Close's Wait cannot slip between
	go c.resumeLoop(time.Now().Add(st.grace), cause)
}

// resumeLoop tries to resume the session until it does, the node refuses,
// the grace window passes or Close is called.
func (c *Client) resumeLoop(deadline time.Time, cause error) {
	defer c.ioWG.Done()
	delay := resumeFirstDelay
	for {
		t := time.NewTimer(jitter(delay))
		select {
		case <-c.closed.Done():
			t.Stop()
			c.connectionEnded(cause, protocol.ConnectionLost)
			return
		case <-t.C:
		}
		delay = min(2*delay, resumeMaxDelay)
		if time.Until(deadline) <= 0 {
			c.connectionEnded(errors.New("the resume grace window passed"), protocol.ConnectionLost)
			return
		}
		ctx, cancel := context.WithDeadline(c.closed, deadline)
		a, err := c.tryResume(ctx)
		cancel()
		var perr *protocol.Error
		switch {
		case err == nil:
			if !c.resumed(a) {
				c.connectionEnded(cause, protocol.ConnectionLost)
			}
			return
		case errors.As(err, &perr):
			c.log.Info("crvnode client: the node refused to resume the session", "err", err)
			code := protocol.ConnectionLost
			if perr.Code == protocol.UserBeenKickout {
				code = protocol.UserBeenKickout
			}
			if perr.Code == protocol.ConnectionLost && c.loggedOutMeanwhile() {
				err = errors.New("logged out") // no lineOff after a logout
			}
			c.connectionEnded(err, code)
			return
		}
		c.log.Debug("crvnode client: resume attempt failed", "err", err)
		cause = err
	}
}

// loggedOutMeanwhile handles a logout the node may have taken just before
// the connection was lost: its answer is not replayed (it has no seq), so
// the session is gone when the client comes back. A pending logout is
// then answered as done, and no lineOff follows.
func (c *Client) loggedOutMeanwhile() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, p := range c.pending {
		if p.method == protocol.MethodLogout {
			delete(c.pending, id)
			p.ch <- &protocol.Message{JSONRPC: protocol.Version, Result: json.RawMessage("{}")}
			c.lineOffSeen = true
			return true
		}
	}
	return false
}

// jitter spreads d by ±25 %, so that the clients of a node that went away
// do not all come back in the same instant.
func jitter(d time.Duration) time.Duration {
	return d*3/4 + rand.N(d/2+1)
}

// attempt is a connection on which the node resumed the session, with the
// messages it replayed, not yet handled.
type attempt struct {
	link   *wsLink
	replay [][]byte
}

// tryResume dials the node and resumes the session on the new connection.
// The dial and the WebSocket handshake get resumeAttemptTimeout; once the
// resume request is out, the answer may take until the grace window ends
// (ctx), since the node retires the token the moment it takes the resume:
// a second attempt with it would be refused. A refusal is the node's
// *protocol.Error; anything else is a failure to reach the node, worth
// another attempt.
func (c *Client) tryResume(ctx context.Context) (*attempt, error) {
	dctx, cancel := context.WithTimeout(ctx, resumeAttemptTimeout)
	conn, _, err := c.opts.Dialer.DialContext(dctx, c.url, c.opts.Header)
	cancel()
	if err != nil {
		return nil, err
	}
	defer c.closeWhenDone(ctx, conn)()
	fail := func(err error) (*attempt, error) {
		_ = conn.Close()
		if ctx.Err() != nil && !errors.As(err, new(*protocol.Error)) {
			return nil, ctx.Err()
		}
		return nil, err
	}
	conn.SetReadLimit(maxMessageSize)
	_ = conn.SetWriteDeadline(time.Now().Add(resumeAttemptTimeout))
	c.mu.Lock()
	st := c.resume
	c.mu.Unlock()
	var res protocol.ResumeResult
	replay, _, err := c.ask(conn, protocol.MethodResume,
		protocol.ResumeParams{Token: st.token, AppID: st.appID, UserID: st.userID, LastSeq: c.lastSeq}, &res)
	if err != nil {
		return fail(err)
	}
	c.mu.Lock()
	c.resume.token = res.ResumeToken
	c.resume.grace = time.Duration(res.ResumeGraceMs) * time.Millisecond
	c.mu.Unlock()
	_ = conn.SetWriteDeadline(time.Time{})
	return &attempt{link: newLink(conn), replay: replay}, nil
}

// closeWhenDone closes conn, a connection not yet the session's, when ctx
// ends before the returned stop is called. If Close ended it, a close
// frame goes first: a node that took the session (a resume, a move) then
// ends it as a logout does; one that did not lets its grace window do it.
func (c *Client) closeWhenDone(ctx context.Context, conn *websocket.Conn) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		if c.closed.Err() != nil {
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(100*time.Millisecond))
		}
		_ = conn.Close()
	})
}

// ask sends one request on a connection of its own, before it is the
// session's, and reads until its answer: it returns what came before the
// answer, the answer itself, and its error or decoded result.
func (c *Client) ask(conn *websocket.Conn, method string, params, result any) (before [][]byte, answer []byte, err error) {
	id := c.nextID.Add(1)
	data, err := encodeMessage(strconv.AppendInt(nil, id, 10), method, params)
	if err != nil {
		return nil, nil, err
	}
	if err := conn.WriteMessage(websocket.TextMessage, data); err != nil {
		return nil, nil, err
	}
	want := strconv.FormatInt(id, 10)
	for {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			return nil, nil, err
		}
		if typ != websocket.TextMessage {
			continue
		}
		var msg protocol.Message
		if json.Unmarshal(data, &msg) == nil && msg.IsResponse() && string(msg.ID) == want {
			return before, data, decodeResult(method, &msg, result)
		}
		before = append(before, data)
	}
}

// resumed makes a's connection the session's: the app hears
// netStateChanged "restored", then the replayed messages are handled,
// then the requests the node has not answered go out again on it in the
// order they were made, and the reader and pinger start. All that under
// writeMu, so that nothing else is written on the connection meanwhile
// and what the replay sets off (an ICE candidate after a replayed answer)
// goes out on it after. A media connection that failed meanwhile is
// restarted. It reports false if Close came first.
func (c *Client) resumed(a *attempt) bool {
	l := a.link
	c.writeMu.Lock()
	c.mu.Lock()
	if c.closing || c.pending == nil {
		c.mu.Unlock()
		c.writeMu.Unlock()
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		_ = l.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(100*time.Millisecond))
		_ = l.conn.Close()
		return false
	}
	c.link = l
	c.mu.Unlock()
	c.events.Push(Event{Method: protocol.EventNetStateChanged, Data: &protocol.NetState{State: protocol.NetRestored}})
	again := c.takeUp(a)
	c.writeMu.Unlock()
	c.startLink(l)
	c.log.Info("crvnode client: session resumed", "replayed", len(a.replay), "requestsSentAgain", again)
	c.mu.Lock()
	m := c.media
	c.mu.Unlock()
	if m != nil {
		m.ops.Push(m.restartFailed)
	}
	return true
}

// takeUp carries the session on over a's connection, with writeMu held:
// it handles the messages that came on it before (a resume's replay, what
// a new node sent after a move), then sends again, in the order they were
// made, the requests not answered yet that did not go out on it. It
// returns how many it sent.
func (c *Client) takeUp(a *attempt) int {
	l := a.link
	for _, m := range a.replay {
		c.handleMessage(m)
	}
	c.mu.Lock()
	again := make([]*pendingCall, 0, len(c.pending))
	for _, p := range c.pending {
		if p.sentOn != l {
			again = append(again, p)
		}
	}
	c.mu.Unlock()
	slices.SortFunc(again, func(a, b *pendingCall) int { return int(a.id - b.id) })
	for _, p := range again {
		p.sentOn = l
		if c.writeLocked(l, p.data) != nil {
			break // the reader sees the loss
		}
	}
	return len(again)
}

// restartFailed restarts ICE on a media connection that failed while the
// connection to the node was down (on the media goroutine): the up one with
// an ICE-restart offer, the down one by asking the node for one.
func (m *media) restartFailed() {
	m.mu.Lock()
	up, down := m.up, m.down
	m.mu.Unlock()
	if up != nil {
		m.restartIfFailed(up, func() { m.restartUp(up) })
	}
	if down != nil {
		m.restartIfFailed(down, m.restartDown)
	}
}

// restartIfFailed runs restart (on the media goroutine) if pc is still one
// of the client's connections, has failed, and no restart of it is under
// way: a failure seen during the loss and the check after the resume ask
// for the same restart.
func (m *media) restartIfFailed(pc *webrtc.PeerConnection, restart func()) {
	failed := pc.ConnectionState() == webrtc.PeerConnectionStateFailed
	m.mu.Lock()
	ok := failed && !m.closed && (m.up == pc || m.down == pc) && !m.restarting[pc]
	if ok {
		m.restarting[pc] = true
	}
	m.mu.Unlock()
	if ok {
		restart()
	}
}

func (m *media) restartUp(pc *webrtc.PeerConnection) {
	ctx, cancel := context.WithTimeout(context.Background(), m.c.opts.RequestTimeout)
	defer cancel()
	if err := m.negotiateUpWith(ctx, &webrtc.OfferOptions{ICERestart: true}, pc); err != nil {
		m.c.log.Warn("crvnode client: ICE restart of the up connection", "err", err)
		return
	}
	m.c.log.Info("crvnode client: media connection restarted", "connection", "up")
}

func (m *media) restartDown() {
	ctx, cancel := context.WithTimeout(context.Background(), m.c.opts.RequestTimeout)
	defer cancel()
	if err := m.c.Do(ctx, protocol.MethodRestartDown, protocol.Empty{}, nil); err != nil {
		m.c.log.Warn("crvnode client: ICE restart of the down connection", "err", err)
		return
	}
	m.c.log.Info("crvnode client: media connection restarted", "connection", "down")
}

// watchFailure restarts a media connection that fails while the session
// lives: the node's side stays, so an ICE restart brings it back without
// leaving the meeting. Requests it makes while the session resumes wait
// for the resume. A connection that connects again may be restarted again
// if it fails later.
func (m *media) watchFailure(pc *webrtc.PeerConnection, restart func()) {
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateFailed:
			m.ops.Push(func() { m.restartIfFailed(pc, restart) })
		case webrtc.PeerConnectionStateConnected, webrtc.PeerConnectionStateClosed:
			m.mu.Lock()
			delete(m.restarting, pc)
			m.mu.Unlock()
		}
	})
}
