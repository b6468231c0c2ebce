package loadgen

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/protocol"
)

// idleSession is a logged-in WebSocket that does nothing else: one
// goroutine reads what the node sends (answering its pings, which gorilla
// does while reading) until the connection closes. Ten thousand of them
// fit in one process because that goroutine and a small read buffer are
// all a session holds; package client, built for sessions that do
// things, runs three goroutines per connection.
type idleSession struct {
	conn *websocket.Conn
	done chan struct{}
}

// idleDialer keeps idle sessions small: 1 KiB read buffers, write buffers
// only while writing.
func idleDialer() *websocket.Dialer {
	return &websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 1024, WriteBufferPool: &sync.Pool{},
		HandshakeTimeout: 10 * time.Second}
}

// dialIdle connects and logs in; it returns the session and how long the
// login request took.
func dialIdle(ctx context.Context, d *websocket.Dialer, url string, p protocol.LoginParams) (*idleSession, time.Duration, error) {
	conn, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, 0, err
	}
	req, err := protocol.NewRequest(1, protocol.MethodLogin, p)
	if err != nil {
		conn.Close()
		return nil, 0, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetWriteDeadline(dl)
		_ = conn.SetReadDeadline(dl)
	}
	t0 := time.Now()
	if err := conn.WriteJSON(req); err != nil {
		conn.Close()
		return nil, 0, err
	}
	for {
		var msg protocol.Message
		if err := conn.ReadJSON(&msg); err != nil {
			conn.Close()
			return nil, 0, err
		}
		if !msg.IsResponse() || string(msg.ID) != string(req.ID) {
			continue // an event before the response
		}
		took := time.Since(t0)
		if msg.Error != nil {
			conn.Close()
			return nil, 0, fmt.Errorf("login %s: %w", p.UserID, msg.Error)
		}
		_ = conn.SetReadDeadline(time.Time{})
		_ = conn.SetWriteDeadline(time.Time{})
		s := &idleSession{conn: conn, done: make(chan struct{})}
		go s.read()
		return s, took, nil
	}
}

func (s *idleSession) read() {
	defer close(s.done)
	for {
		if _, _, err := s.conn.NextReader(); err != nil {
			return
		}
	}
}

// RaiseFileLimit lifts this process's open-file limit to its hard limit
// (children, the node among them, inherit it) and returns the new limit.
// Calling setrlimit explicitly also stops Go from restoring the original
// limit in child processes.
func RaiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	return l.Cur, nil
}

// idleParams are the login params of idle user i.
func idleParams(run string, i int) protocol.LoginParams {
	id := fmt.Sprintf("idle-%s-%06d", run, i)
	return protocol.LoginParams{AppID: BenchApp, AppSecret: MD5Hex(BenchApp), UserID: id, NickName: id}
}
