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
	// resumeAttemptTimeout bounds one attempt (dial, resume, replay), so
	// that a connection into a black hole does not use up the window.
	resumeAttemptTimeout = 3 * time.Second
	// CloseLost is the close code of a connection the client took for
	// lost: the node keeps the session for a resume.
	closeLost = 4001
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
	case websocket.CloseAbnormalClosure, websocket.CloseTryAgainLater, closeLost:
		return true
	}
	return false
}

// linkEnded runs on the reader of a connection that has just ended. A
// session that can be resumed is, on a new connection; anything else ends
// the session.
func (c *Client) linkEnded(l *wsLink, cause error) {
	close(l.stop)
	if !lostCause(cause) {
		_ = l.conn.Close()
	} else {
		// Tell the node, if it still hears us, that this connection is
		// taken for lost, so that it keeps the session.
		msg := websocket.FormatCloseMessage(closeLost, "")
		_ = l.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(100*time.Millisecond))
		_ = l.conn.Close()
	}
	c.mu.Lock()
	st := c.resume
	resumable := !c.closing && !c.lineOffSeen && !c.opts.NoResume && c.url != "" &&
		st.token != "" && st.grace > 0 && c.pending != nil && lostCause(cause)
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
		left := time.Until(deadline)
		if left <= 0 {
			c.connectionEnded(errors.New("the resume grace window passed"), protocol.ConnectionLost)
			return
		}
		ctx, cancel := context.WithTimeout(c.closed, min(left, resumeAttemptTimeout))
		l, err := c.tryResume(ctx)
		cancel()
		var perr *protocol.Error
		switch {
		case err == nil:
			if !c.resumed(l) {
				c.connectionEnded(cause, protocol.ConnectionLost)
			}
			return
		case errors.As(err, &perr):
			c.log.Info("crvnode client: the node refused to resume the session", "err", err)
			code := protocol.ConnectionLost
			if perr.Code == protocol.UserBeenKickout {
				code = protocol.UserBeenKickout
			}
			c.connectionEnded(err, code)
			return
		}
		c.log.Debug("crvnode client: resume attempt failed", "err", err)
		cause = err
	}
}

// jitter spreads d by ±25 %, so that the clients of a node that went away
// do not all come back in the same instant.
func jitter(d time.Duration) time.Duration {
	return d*3/4 + rand.N(d/2+1)
}

// tryResume dials the node and resumes the session on the new connection.
// The messages the node replays come before its answer; they are handled
// once the answer says the session is back, after netStateChanged
// "restored". A refusal is the node's *protocol.Error; anything else is a
// failure to reach the node, worth another attempt.
func (c *Client) tryResume(ctx context.Context) (*wsLink, error) {
	conn, _, err := c.opts.Dialer.DialContext(ctx, c.url, c.opts.Header)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	fail := func(err error) (*wsLink, error) {
		_ = conn.Close()
		if ctx.Err() != nil && !errors.As(err, new(*protocol.Error)) {
			return nil, ctx.Err()
		}
		return nil, err
	}
	conn.SetReadLimit(maxMessageSize)
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetReadDeadline(dl)
		_ = conn.SetWriteDeadline(dl)
	}
	c.mu.Lock()
	st := c.resume
	c.mu.Unlock()
	id := c.nextID.Add(1)
	data, err := encodeMessage(strconv.AppendInt(nil, id, 10), protocol.MethodResume,
		protocol.ResumeParams{Token: st.token, AppID: st.appID, UserID: st.userID, LastSeq: c.lastSeq})
	if err != nil {
		return fail(err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, data); err != nil {
		return fail(err)
	}
	var replay [][]byte
	for {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			return fail(err)
		}
		if typ != websocket.TextMessage {
			continue
		}
		var msg protocol.Message
		if json.Unmarshal(data, &msg) == nil && msg.IsResponse() && string(msg.ID) == strconv.FormatInt(id, 10) {
			var res protocol.ResumeResult
			if err := decodeResult(protocol.MethodResume, &msg, &res); err != nil {
				return fail(err)
			}
			c.mu.Lock()
			c.resume.token = res.ResumeToken
			c.resume.grace = time.Duration(res.ResumeGraceMs) * time.Millisecond
			c.mu.Unlock()
			_ = conn.SetReadDeadline(time.Time{})
			_ = conn.SetWriteDeadline(time.Time{})
			c.events.Push(Event{Method: protocol.EventNetStateChanged, Data: &protocol.NetState{State: protocol.NetRestored}})
			for _, m := range replay {
				c.handleMessage(m)
			}
			return newLink(conn), nil
		}
		replay = append(replay, data)
	}
}

// resumed makes l the session's connection: the requests the node has not
// answered go out again on it, in the order they were made, and the
// reader and pinger start. A media connection that failed meanwhile is
// restarted. It reports false if Close came first.
func (c *Client) resumed(l *wsLink) bool {
	c.writeMu.Lock()
	c.mu.Lock()
	if c.closing || c.pending == nil {
		c.mu.Unlock()
		c.writeMu.Unlock()
		closeLink(l, websocket.CloseNormalClosure)
		return false
	}
	c.link = l
	again := make([]*pendingCall, 0, len(c.pending))
	for _, p := range c.pending {
		again = append(again, p)
	}
	c.mu.Unlock()
	slices.SortFunc(again, func(a, b *pendingCall) int { return int(a.id - b.id) })
	for _, p := range again {
		if p.sentOn != l {
			p.sentOn = l
			if c.writeLocked(l, p.data) != nil {
				break // the reader sees the loss
			}
		}
	}
	c.writeMu.Unlock()
	c.startLink(l)
	c.log.Info("crvnode client: session resumed", "requestsSentAgain", len(again))
	c.mu.Lock()
	m := c.media
	c.mu.Unlock()
	if m != nil {
		m.ops.Push(m.restartFailed)
	}
	return true
}

// restartFailed restarts ICE on a media connection that failed while the
// connection to the node was down (on the media goroutine): the up one with
// an ICE-restart offer, the down one by asking the node for one.
func (m *media) restartFailed() {
	m.mu.Lock()
	up, down, closed := m.up, m.down, m.closed
	m.mu.Unlock()
	if closed {
		return
	}
	if up != nil && up.ConnectionState() == webrtc.PeerConnectionStateFailed {
		m.restartUp()
	}
	if down != nil && down.ConnectionState() == webrtc.PeerConnectionStateFailed {
		m.restartDown()
	}
}

func (m *media) restartUp() {
	ctx, cancel := context.WithTimeout(context.Background(), m.c.opts.RequestTimeout)
	defer cancel()
	if err := m.negotiateUpWith(ctx, &webrtc.OfferOptions{ICERestart: true}); err != nil {
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
// for the resume.
func (m *media) watchFailure(pc *webrtc.PeerConnection, restart func()) {
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed {
			m.ops.Push(func() {
				m.mu.Lock()
				current := !m.closed && (m.up == pc || m.down == pc)
				m.mu.Unlock()
				if current && pc.ConnectionState() == webrtc.PeerConnectionStateFailed {
					restart()
				}
			})
		}
	})
}
