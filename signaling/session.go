package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/protocol"
)

const (
	writeWait  = 10 * time.Second
	pongWait   = 60 * time.Second
	pingPeriod = 25 * time.Second
)

// session is one WebSocket connection. Its reader goroutine owns app and
// user (set at login) and handles requests one at a time; its writer
// goroutine owns the socket's write side. Other goroutines reach a session
// only through send, which never blocks.
type session struct {
	srv     *Server
	conn    *websocket.Conn
	log     *slog.Logger
	baseURL string

	out       sendQueue
	closing   chan struct{}
	closeOnce sync.Once
	closeCode int
	closeText string

	// Owned by the reader goroutine.
	app       *app
	user      *user
	limiter   bucket
	anonSince time.Time // when the connection opened or last logged out
}

func newSession(srv *Server, conn *websocket.Conn, baseURL string) *session {
	l := srv.cfg.Limits
	return &session{
		srv:       srv,
		conn:      conn,
		log:       srv.log.With("remote", conn.RemoteAddr().String()),
		baseURL:   baseURL,
		out:       sendQueue{max: l.SendQueue, wake: make(chan struct{}, 1)},
		closing:   make(chan struct{}),
		limiter:   newBucket(l.Rate, l.Burst),
		anonSince: time.Now(),
	}
}

// send queues a message for the writer. A client that lets its queue fill
// up is too slow to be served and is disconnected rather than slowing
// anyone else.
func (s *session) send(b []byte) {
	select {
	case <-s.closing:
		return
	default:
	}
	if !s.out.push(b) {
		s.srv.metrics.slowClients.Inc()
		s.close(websocket.CloseTryAgainLater, "client too slow")
	}
}

// close asks the writer to flush what is queued, send a close frame and
// close the socket, which ends the reader too.
func (s *session) close(code int, text string) {
	s.closeOnce.Do(func() {
		s.closeCode, s.closeText = code, text
		close(s.closing)
	})
}

func (s *session) writeLoop() {
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	defer s.conn.Close()
	for {
		select {
		case <-s.out.wake:
			if s.flush() != nil {
				return
			}
		case <-ping.C:
			if s.write(websocket.PingMessage, nil) != nil {
				return
			}
		case <-s.closing:
			if s.flush() == nil {
				_ = s.write(websocket.CloseMessage, websocket.FormatCloseMessage(s.closeCode, s.closeText))
			}
			return
		}
	}
}

// flush writes every queued message.
func (s *session) flush() error {
	for _, b := range s.out.drain() {
		if err := s.write(websocket.TextMessage, b); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) write(kind int, b []byte) error {
	_ = s.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return s.conn.WriteMessage(kind, b)
}

// readLoop handles requests until the socket closes, then cleans up the
// session's user, calls and meeting.
func (s *session) readLoop() {
	defer s.cleanup()
	s.conn.SetReadLimit(s.srv.cfg.Limits.MaxMessageBytes)
	_ = s.conn.SetReadDeadline(s.readDeadline())
	s.conn.SetPongHandler(func(string) error { return s.conn.SetReadDeadline(s.readDeadline()) })
	for {
		kind, data, err := s.conn.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				s.srv.metrics.oversized.Inc()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && s.loginOverdue() {
				s.srv.metrics.refused.WithLabelValues("login_timeout").Inc()
				s.close(websocket.ClosePolicyViolation, "login timeout")
			}
			return
		}
		if kind != websocket.TextMessage {
			data = []byte(`"binary"`) // refused as not a request object, after the rate limit
		}
		s.handle(data)
		_ = s.conn.SetReadDeadline(s.readDeadline()) // after handling: a login or logout moves it
	}
}

// readDeadline is when the reader gives up: 60 s of silence, or the end
// of the login time for a connection that is not logged in.
func (s *session) readDeadline() time.Time {
	d := time.Now().Add(pongWait)
	if lt := s.srv.cfg.Limits.LoginTimeout; s.user == nil && lt > 0 {
		if end := s.anonSince.Add(lt); end.Before(d) {
			return end
		}
	}
	return d
}

// loginOverdue reports whether the connection has been open (or logged
// out) for the login time without logging in.
func (s *session) loginOverdue() bool {
	lt := s.srv.cfg.Limits.LoginTimeout
	return s.user == nil && lt > 0 && !time.Now().Before(s.anonSince.Add(lt))
}

// handle checks one message against the rate limit, decodes it as a
// JSON-RPC request, and dispatches it. Every message counts against the
// limit, well-formed or not, so that no kind of flood escapes it.
func (s *session) handle(data []byte) {
	ok, abuse := s.limiter.allow(time.Now())
	if abuse {
		s.srv.metrics.abuseCloses.Inc()
		s.close(websocket.ClosePolicyViolation, "request rate abuse")
		return
	}
	var m protocol.Message
	if err := json.Unmarshal(data, &m); err != nil {
		code := protocol.RPCParseError
		if t := bytes.TrimSpace(data); json.Valid(t) {
			code = protocol.RPCInvalidRequest // valid JSON, but not one request object (batches included)
		}
		s.reply(nil, nil, protocol.Errorf(code, "a message must be one JSON-RPC request object"))
		return
	}
	if len(m.ID) > 0 && !protocol.ValidID(m.ID) {
		s.reply(nil, nil, protocol.Errorf(protocol.RPCInvalidRequest, "id must be a string or a number"))
		return
	}
	label := m.Method
	if _, known := s.srv.methods[label]; !known {
		label = "unknown"
	}
	if !ok {
		s.srv.metrics.request(label, protocol.ServerException)
		s.reply(m.ID, nil, protocol.Errorf(protocol.ServerException, "rate limit exceeded: slow down"))
		return
	}
	if m.JSONRPC != protocol.Version || m.Method == "" || m.Result != nil || m.Error != nil {
		s.reply(m.ID, nil, protocol.Errorf(protocol.RPCInvalidRequest, `a request needs "jsonrpc":"2.0" and a method`))
		return
	}
	res, e := s.dispatch(m.Method, m.Params)
	s.srv.metrics.request(label, protocol.CodeOf(errOrNil(e)))
	s.reply(m.ID, res, e)
}

func errOrNil(e *protocol.Error) error {
	if e == nil {
		return nil
	}
	return e
}

// dispatch runs a method's handler; a panic becomes INNER_ERR for this
// request only.
func (s *session) dispatch(method string, params json.RawMessage) (res any, e *protocol.Error) {
	h, ok := s.srv.methods[method]
	if !ok {
		return nil, protocol.Errorf(protocol.RPCMethodNotFound, "unknown method %q", method)
	}
	if !h.anonymous && s.user == nil {
		return nil, protocol.Errorf(protocol.NotLogin, "log in first")
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("handler panic", "method", method, "panic", r, "stack", string(debug.Stack()))
			res, e = nil, protocol.Errorf(protocol.InnerErr, "internal error")
		}
	}()
	return h.fn(s, params)
}

// reply answers a request; requests without an id (notifications) get no
// answer, as JSON-RPC specifies, unless the id could not be read at all.
func (s *session) reply(id json.RawMessage, res any, e *protocol.Error) {
	var m *protocol.Message
	switch {
	case e != nil:
		if len(id) == 0 && e.Code != protocol.RPCParseError && e.Code != protocol.RPCInvalidRequest {
			return
		}
		m = protocol.NewError(id, e)
	case len(id) == 0:
		return
	default:
		if res == nil {
			res = protocol.Empty{}
		}
		var err error
		if m, err = protocol.NewResult(id, res); err != nil {
			m = protocol.NewError(id, protocol.Errorf(protocol.InnerErr, "encode result"))
		}
	}
	b, _ := json.Marshal(m)
	s.send(b)
}

// bucket is a token bucket: rate tokens per second up to burst. Requests
// past it are refused; a client that keeps pushing while refused is
// abusive and is disconnected.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
	refused             int
}

func newBucket(rate float64, burst int) bucket {
	return bucket{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

func (b *bucket) allow(now time.Time) (ok, abuse bool) {
	if !b.last.IsZero() {
		b.tokens += now.Sub(b.last).Seconds() * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		if b.refused > 0 {
			b.refused--
		}
		return true, false
	}
	b.refused++
	return false, b.refused > int(b.burst)
}

// sendQueue is a session's outgoing messages: a slice that grows only
// while messages wait, so an idle session costs no buffer, bounded so that
// a client that stops reading cannot grow the node.
type sendQueue struct {
	mu   sync.Mutex
	msgs [][]byte
	max  int
	wake chan struct{} // capacity 1: "there is something to write"
}

func (q *sendQueue) push(b []byte) bool {
	q.mu.Lock()
	if len(q.msgs) >= q.max {
		q.mu.Unlock()
		return false
	}
	q.msgs = append(q.msgs, b)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

func (q *sendQueue) drain() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	msgs := q.msgs
	q.msgs = nil
	return msgs
}
