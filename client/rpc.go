package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/protocol"
)

// pendingCall is a request waiting for its response.
type pendingCall struct {
	id     int64
	method string
	data   []byte                 // the request, sent again on a resumed session
	ch     chan *protocol.Message // buffered: the reader never blocks on it
	sentOn *wsLink                // the connection it went out on; under writeMu
}

// resultHooks update the session state from a successful response. They run
// on the read goroutine before the caller gets the response and before any
// later event is looked at, so state follows the node's order: members that
// a userEnterMeeting adds right after the enterMeeting response are never
// overwritten by that response. Keyed by method, they apply to Do as well.
var resultHooks map[string]func(*Client, json.RawMessage)

func init() { // in init: the hooks call Do, which reads this map
	resultHooks = map[string]func(*Client, json.RawMessage){
		protocol.MethodLogin:        (*Client).onLogin,
		protocol.MethodLoginByToken: (*Client).onLogin,
		protocol.MethodLogout:       (*Client).onLogout,
		protocol.MethodEnterMeeting: (*Client).onEnterMeeting,
		protocol.MethodExitMeeting:  (*Client).onExitMeeting,
	}
}

// Do sends a request and decodes its result into result (a pointer, or nil
// to ignore it). It serves methods this package has no wrapper for yet
// (media, transfers). params is encoded as JSON; nil sends no params.
//
// A refused request returns the node's *protocol.Error. If ctx ends first,
// Do returns ctx.Err() and the late response is dropped; if ctx has no
// deadline, Options.RequestTimeout applies and its expiry is code 202.
func (c *Client) Do(ctx context.Context, method string, params, result any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	id := c.nextID.Add(1)
	data, err := encodeMessage(strconv.AppendInt(nil, id, 10), method, params)
	if err != nil {
		return err
	}
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		rctx, cancel = context.WithTimeout(ctx, c.opts.RequestTimeout)
	}
	defer cancel()

	p, err := c.register(id, method, data)
	if err != nil {
		return err
	}
	// A request that cannot go out now waits in pending: it is sent when
	// the session resumes, or fails with 207 when it cannot.
	c.send(p)
	select {
	case msg := <-p.ch:
		return decodeResult(method, msg, result)
	case <-rctx.Done():
		c.forget(id, true)
		if err := ctx.Err(); err != nil {
			return err
		}
		return fmt.Errorf("%w (%w)", protocol.Errorf(protocol.NoServerRsp,
			"no response to %s within %v", method, c.opts.RequestTimeout), rctx.Err())
	}
}

// Notify sends a JSON-RPC notification: a request that wants no response,
// so the node's success or failure is never known.
func (c *Client) Notify(method string, params any) error {
	data, err := encodeMessage(nil, method, params)
	if err != nil {
		return err
	}
	c.mu.Lock()
	ended, closing, l := c.pending == nil, c.closing, c.link
	c.mu.Unlock()
	if ended {
		return lostError(closing, errors.New("connection ended"))
	}
	if l == nil {
		// A notification carries nothing that must survive a loss (ICE
		// candidates, which a restart renews): it is dropped, not queued.
		return protocol.Errorf(protocol.ConnectionLost, "connection lost; resuming the session")
	}
	return c.write(l, data)
}

func encodeMessage(id json.RawMessage, method string, params any) ([]byte, error) {
	msg := protocol.Message{JSONRPC: protocol.Version, ID: id, Method: method}
	if params != nil {
		p, err := json.Marshal(params)
		if err != nil {
			return nil, protocol.Errorf(protocol.ParamErr, "encode %s params: %v", method, err)
		}
		msg.Params = p
	}
	return json.Marshal(&msg)
}

func decodeResult(method string, msg *protocol.Message, result any) error {
	if msg.Error != nil {
		return msg.Error
	}
	if result == nil || len(msg.Result) == 0 {
		return nil
	}
	if err := json.Unmarshal(msg.Result, result); err != nil {
		return protocol.Errorf(protocol.ErrData, "decode %s result: %v", method, err)
	}
	return nil
}

// register records a request before it is sent, so that a response can
// never arrive before its caller waits for it.
func (c *Client) register(id int64, method string, data []byte) (*pendingCall, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		return nil, lostError(c.closing, errors.New("connection ended"))
	}
	p := &pendingCall{id: id, method: method, data: data, ch: make(chan *protocol.Message, 1)}
	c.pending[id] = p
	return p, nil
}

// forget removes a request nobody waits for any more. An abandoned request
// whose response changes session state stays registered if it went out,
// so that a late success (the node did enter the meeting) still updates
// the state; one that never went out (made while the session resumes) is
// dropped, so that a resume does not send what the caller was told failed.
func (c *Client) forget(id int64, abandoned bool) {
	c.writeMu.Lock() // sentOn is under it
	defer c.writeMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pending[id]; ok && (!abandoned || resultHooks[p.method] == nil || p.sentOn == nil) {
		delete(c.pending, id)
	}
}

// send writes a pending request on the current connection unless it went
// out on it already (a resume sent it again meanwhile). Without a
// connection, or when the write fails, it stays pending: the resume sends
// it, or the session's end fails it.
func (c *Client) send(p *pendingCall) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.mu.Lock()
	l := c.link
	c.mu.Unlock()
	if l == nil || p.sentOn == l {
		return
	}
	p.sentOn = l
	_ = c.writeLocked(l, p.data)
}

// write sends one text message; gorilla allows one writer at a time.
func (c *Client) write(l *wsLink, data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.writeLocked(l, data)
}

func (c *Client) writeLocked(l *wsLink, data []byte) error {
	_ = l.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := l.conn.WriteMessage(websocket.TextMessage, data); err != nil {
		// A failed write leaves the socket unusable; closing it makes the
		// reader end the connection and report it.
		_ = l.conn.Close()
		c.mu.Lock()
		closing := c.closing
		c.mu.Unlock()
		return lostError(closing, err)
	}
	return nil
}

// handleMessage routes one message from the node. Malformed messages are
// dropped: the node is trusted to speak the protocol, and one bad message
// must not end the session.
func (c *Client) handleMessage(data []byte) {
	var msg protocol.Message
	if err := json.Unmarshal(data, &msg); err != nil {
		c.log.Warn("crvnode client: dropped malformed message", "err", err)
		return
	}
	if msg.Seq != 0 {
		if msg.Seq <= c.lastSeq {
			// Sent again by a resume that asked from an older seq: had.
			c.log.Debug("crvnode client: dropped message received before", "seq", msg.Seq)
			return
		}
		c.lastSeq = msg.Seq
	}
	switch {
	case msg.IsResponse():
		c.handleResponse(&msg)
	case msg.IsNotification():
		c.handleEvent(&msg)
	default:
		c.log.Warn("crvnode client: dropped message that is no response or event", "method", msg.Method)
	}
}

func (c *Client) handleResponse(msg *protocol.Message) {
	id, err := strconv.ParseInt(string(bytes.TrimSpace(msg.ID)), 10, 64)
	if err != nil {
		c.log.Warn("crvnode client: dropped response with foreign id", "id", string(msg.ID), "error", msg.Error)
		return
	}
	c.mu.Lock()
	p := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if p == nil {
		c.log.Debug("crvnode client: dropped late or unknown response", "id", id)
		return
	}
	if p.method == protocol.MethodEnterMeeting {
		if mt := moveOf(msg.Error); mt != nil && c.startMove(p, mt) {
			return // entered on the meeting's node, once the session is there
		}
	}
	if msg.Error == nil {
		if hook := resultHooks[p.method]; hook != nil {
			hook(c, msg.Result)
		}
	}
	p.ch <- msg
}
