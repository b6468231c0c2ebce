package client

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/protocol"
)

// A service of several nodes forwards a meeting's media on one of them
// (docs/protocol/resume.md#moving-to-another-node). Entering a meeting
// whose media another node forwards, the node answers 803 with a MoveTo;
// the client then moves the session there by itself: it connects to that
// node, presents the token with moveIn, reads the old connection until
// the old node closes it (what it sent before the move comes first), and
// sends enterMeeting again on the new one. The program sees one
// enterMeeting call that succeeds, its events in order, each once, and no
// netStateChanged. Its media connections to the old node close; entering
// opens new ones. Transfers under way fail, as on a lost session.

const (
	// moveTimeout bounds reaching the new node and its answer to moveIn.
	moveTimeout = 10 * time.Second
	// moveOldWait bounds how long the old connection may take to close
	// after the new node took the session: the old node answers the
	// request it is handling first, which may wait up to 30 s for the
	// log. A dead old node is noticed sooner, by its silence.
	moveOldWait = 35 * time.Second
	// closeMovedText is the reason of the old node's close after the cut.
	closeMovedText = "moved to another node"
)

// moving is a move under way: the connection it leaves.
type moving struct {
	from  *wsLink
	ended chan struct{} // closed once from's reader has finished, under c.mu
	clean bool          // the old node closed it after the cut: it sent every answer it had
}

// movedClose tells the old node's close after the cut from a loss.
func movedClose(err error) bool {
	var ce *websocket.CloseError
	return errors.As(err, &ce) && ce.Code == websocket.CloseNormalClosure && ce.Text == closeMovedText
}

// moveOf returns the MoveTo an error carries, if any.
func moveOf(e *protocol.Error) *protocol.MoveTo {
	if e == nil || e.Code != protocol.ResourceAllocateError || len(e.Data) == 0 {
		return nil
	}
	var d protocol.MoveData
	if json.Unmarshal(e.Data, &d) != nil || d.MoveTo == nil || d.MoveTo.URL == "" || d.MoveTo.Token == "" {
		return nil
	}
	return d.MoveTo
}

// startMove begins moving the session for the pending entry p, answered
// with mt, on the reader of the current connection. It reports false when
// the session cannot move now: the answer then goes to the caller.
func (c *Client) startMove(p *pendingCall, mt *protocol.MoveTo) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.pending == nil || c.link == nil || c.moving != nil || c.opts.NoMove {
		return false
	}
	mv := &moving{from: c.link, ended: make(chan struct{})}
	c.moving = mv
	c.link = nil        // requests made meanwhile wait for the new node
	c.pending[p.id] = p // the entry is made again there
	c.ioWG.Add(1)
	go c.moveLoop(mv, mt, p)
	c.log.Info("crvnode client: moving the session to the meeting's node", "url", mt.URL)
	return true
}

// moveLoop moves the session to the node mt names. If the new node does
// not take it, the entry fails with 803 and the session stays where it is.
func (c *Client) moveLoop(mv *moving, mt *protocol.MoveTo, entry *pendingCall) {
	defer c.ioWG.Done()
	ctx, cancel := context.WithTimeout(c.closed, moveTimeout)
	a, lr, err := c.tryMoveIn(ctx, mt)
	cancel()
	if err != nil {
		c.moveFailed(mv, entry, err)
		return
	}
	t := time.NewTimer(moveOldWait)
	select {
	case <-mv.ended:
	case <-t.C:
		_ = mv.from.conn.Close() // the old node is gone or slow: what it still had is lost
		<-mv.ended
	}
	t.Stop()

	l := a.link
	c.writeMu.Lock()
	c.mu.Lock()
	if c.closing || c.pending == nil {
		c.mu.Unlock()
		c.writeMu.Unlock()
		closeLink(l, websocket.CloseNormalClosure)
		c.connectionEnded(errors.New("closed during a move"), protocol.ConnectionLost)
		return
	}
	if !mv.clean {
		// The old connection was lost, or did not close in time: what
		// went out on it may or may not have been handled there, so it
		// fails rather than run twice; what never went out goes on.
		for id, p := range c.pending {
			if p.sentOn == mv.from && p != entry {
				delete(c.pending, id)
				p.ch <- &protocol.Message{JSONRPC: protocol.Version, Error: protocol.Errorf(protocol.ConnectionLost,
					"the connection %s went out on was lost while the session moved to another node", p.method)}
			}
		}
	}
	c.link, c.moving, c.url = l, nil, mt.URL
	c.iceServers = lr.ICEServers
	c.resume.token = lr.ResumeToken
	c.resume.grace = time.Duration(lr.ResumeGraceMs) * time.Millisecond
	c.lastSeq = 0 // numbered from 1 again; no reader runs now
	c.leaveMeetingLocked()
	old := c.media
	c.media = nil
	c.mu.Unlock()
	again := c.takeUp(a)
	c.writeMu.Unlock()
	c.startLink(l)
	if old != nil {
		c.bg.Add(1)
		go func() { defer c.bg.Done(); old.close() }() // waits for pion's goroutines
	}
	c.log.Info("crvnode client: session moved", "url", mt.URL, "requestsSentAgain", again)
}

// moveFailed keeps the session on its connection when the new node did
// not take it; the entry fails with 803. If that connection ended
// meanwhile, the session ends as a lost one that cannot be resumed.
func (c *Client) moveFailed(mv *moving, entry *pendingCall, err error) {
	c.log.Warn("crvnode client: the session could not move", "err", err)
	var perr *protocol.Error
	if !errors.As(err, &perr) {
		perr = protocol.Errorf(protocol.ResourceAllocateError, "the meeting's node could not be reached: %v", err)
	}
	c.mu.Lock()
	c.moving = nil
	alive := false
	select {
	case <-mv.ended:
	default:
		alive = c.pending != nil && !c.closing
	}
	if alive {
		c.link = mv.from
	}
	if p, ok := c.pending[entry.id]; ok && p == entry {
		delete(c.pending, entry.id)
		entry.ch <- &protocol.Message{JSONRPC: protocol.Version, Error: &protocol.Error{Code: protocol.ResourceAllocateError, Message: perr.Message}}
	}
	var waiting []*pendingCall
	for _, p := range c.pending {
		waiting = append(waiting, p)
	}
	c.mu.Unlock()
	if !alive {
		c.connectionEnded(err, protocol.ConnectionLost)
		return
	}
	for _, p := range waiting {
		c.send(p) // made during the attempt: out on the old connection now
	}
}

// tryMoveIn connects to the new node and presents the move token. What
// the node sends before its answer is kept, to be handled after the old
// connection's last message.
func (c *Client) tryMoveIn(ctx context.Context, mt *protocol.MoveTo) (*attempt, *protocol.LoginResult, error) {
	conn, _, err := c.opts.Dialer.DialContext(ctx, mt.URL, c.opts.Header)
	if err != nil {
		return nil, nil, err
	}
	defer c.closeWhenDone(ctx, conn)()
	fail := func(err error) (*attempt, *protocol.LoginResult, error) {
		_ = conn.Close()
		return nil, nil, err
	}
	conn.SetReadLimit(maxMessageSize)
	_ = conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	c.mu.Lock()
	st := c.resume
	user := c.userID
	c.mu.Unlock()
	var lr protocol.LoginResult
	early, answer, err := c.ask(conn, protocol.MethodMoveIn, protocol.MoveInParams{Token: mt.Token, AppID: st.appID, UserID: user}, &lr)
	if err != nil {
		return fail(err)
	}
	_ = conn.SetWriteDeadline(time.Time{})
	// The answer is numbered: it comes after the early messages.
	return &attempt{link: newLink(conn), replay: append(early, answer)}, &lr, nil
}
