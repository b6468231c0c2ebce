package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/crvnode/crvnode/protocol"
)

const (
	writeWait  = 10 * time.Second
	pongWait   = 60 * time.Second
	pingPeriod = 25 * time.Second
)

// link is one WebSocket connection. Its writer goroutine owns the socket's
// write side; its reader goroutine reads requests and hands them to the
// session the connection carries. Other goroutines reach a link only
// through push, which never blocks.
type link struct {
	conn      *websocket.Conn
	out       sendQueue
	closing   chan struct{}
	closeOnce sync.Once
	closeCode int
	closeText string
	forCause  bool          // set with closing: the node ended the connection, no resume
	handedOn  atomic.Bool   // a resume on another connection ends this one
	done      chan struct{} // closed when the reader has finished with the connection
	slow      prometheus.Counter
}

func newLink(conn *websocket.Conn, queue int, slow prometheus.Counter) *link {
	return &link{
		conn:    conn,
		slow:    slow,
		out:     sendQueue{max: queue, wake: make(chan struct{}, 1)},
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// push queues a message for the writer. A client that lets its queue fill
// up is too slow to be served: its connection is closed rather than
// slowing anyone else (its session may still be resumed).
func (l *link) push(b []byte) {
	select {
	case <-l.closing:
		return
	default:
	}
	if !l.out.push(b) {
		l.slow.Inc()
		l.close(websocket.CloseTryAgainLater, "client too slow", false)
	}
}

// close asks the writer to flush what is queued, send a close frame and
// close the socket, which ends the reader too. forCause says the node ends
// the session with the connection (abuse, shutdown, a login elsewhere).
func (l *link) close(code int, text string, forCause bool) {
	l.closeOnce.Do(func() {
		l.closeCode, l.closeText, l.forCause = code, text, forCause
		close(l.closing)
	})
}

// endedForCause reports whether the node closed the link for cause. Read
// only after the reader finished (the close happened before).
func (l *link) endedForCause() bool {
	select {
	case <-l.closing:
		return l.forCause
	default:
		return false
	}
}

func (l *link) writeLoop() {
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	defer l.conn.Close()
	for {
		select {
		case <-l.out.wake:
			if l.flush() != nil {
				return
			}
		case <-ping.C:
			if l.write(websocket.PingMessage, nil) != nil {
				return
			}
		case <-l.closing:
			if l.flush() == nil {
				_ = l.write(websocket.CloseMessage, websocket.FormatCloseMessage(l.closeCode, l.closeText))
			}
			return
		}
	}
}

// flush writes every queued message.
func (l *link) flush() error {
	for _, b := range l.out.drain() {
		if err := l.write(websocket.TextMessage, b); err != nil {
			return err
		}
	}
	return nil
}

func (l *link) write(kind int, b []byte) error {
	_ = l.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return l.conn.WriteMessage(kind, b)
}

// session is one login and what it takes part in. It lives on one
// connection at a time: from the connection it logged in on, it may move
// to another by a resume (resume.go), and between the two it waits, for
// the grace window, on none. The reader goroutine of its current
// connection owns app, user, limiter and anonSince and handles requests
// one at a time; other goroutines reach a session only through send,
// which never blocks.
type session struct {
	srv     *Server
	log     *slog.Logger
	baseURL string
	// node and serial name the session in the cluster's log; a stub
	// stands for a session of another node (replica.go).
	node   string
	serial uint64
	stub   bool

	mu       sync.Mutex
	link     *link  // the connection; nil while the session waits for a resume
	numbered bool   // logged in: messages carry seq and are kept for a resume
	seq      uint64 // of the last message sent
	replay   replay
	token    string      // the current resume token, "" when none
	grace    *time.Timer // running while the session waits for a resume
	graceGen int         // tells a stale grace timer from the current one
	ended    bool        // over: sends nothing, resumes nothing
	handoff  *session    // a resume on this connection took that session over
	handing  bool        // a resume is moving the session to a new connection
	resumed  uint64      // seq up to which that resume replayed
	overflow bool        // the replay buffer overflowed: the session is ending
	moved    bool        // its user's session moved to another node (move.go)
	busy     bool        // the reader is handling a request

	// Owned by the reader goroutine of the session's connection.
	app       *app
	user      *user
	limiter   bucket
	anonSince time.Time // when the connection opened or last logged out
	abusive   bool      // closed for rate abuse: what is still read is dropped
}

func newSession(srv *Server, l *link, remote, baseURL string) *session {
	lim := srv.cfg.Limits
	return &session{
		srv:       srv,
		node:      srv.nodeID(),
		serial:    srv.serials.Add(1),
		link:      l,
		log:       srv.log.With("remote", remote),
		baseURL:   baseURL,
		replay:    replay{maxMsgs: lim.ReplayMessages, maxBytes: lim.ReplayBytes},
		limiter:   newBucket(lim.Rate, lim.Burst),
		anonSince: time.Now(),
	}
}

// send sends the session a message (an event or a response). Once logged
// in, every message is numbered and kept in the replay buffer; while the
// session waits for a resume it goes only there, and a buffer that would
// overflow ends the session.
func (s *session) send(b []byte) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	if s.numbered {
		s.seq++
		b = withSeq(b, s.seq)
		if !s.replay.add(s.seq, b, s.link != nil) {
			first := !s.overflow
			s.overflow = true
			s.mu.Unlock()
			if first { // once: messages keep coming until finish has ended it
				s.srv.metrics.resumes.WithLabelValues("overflow").Inc()
				go s.finish(protocol.ConnectionLost)
			}
			return
		}
	}
	if s.link != nil {
		s.link.push(b)
	}
	s.mu.Unlock()
}

// sendRaw sends a message outside the numbered stream (the answers to
// ping and resume) on the current connection, if any.
func (s *session) sendRaw(b []byte) {
	s.mu.Lock()
	if s.link != nil && !s.ended {
		s.link.push(b)
	}
	s.mu.Unlock()
}

// withSeq puts "seq" first in an encoded message object.
func withSeq(b []byte, seq uint64) []byte {
	out := make([]byte, 0, len(b)+24)
	out = append(out, `{"seq":`...)
	out = strconv.AppendUint(out, seq, 10)
	out = append(out, ',')
	return append(out, b[1:]...)
}

// closeLink closes the session's connection, if it has one, for cause:
// the session ends with it.
func (s *session) closeLink(code int, text string) {
	s.mu.Lock()
	l := s.link
	s.mu.Unlock()
	if l != nil {
		l.close(code, text, true)
	}
}

// readLoop reads the connection's requests and has its session handle
// them one at a time until the socket closes; then the session waits for
// a resume, or ends (connEnded). A resume moves the connection to the
// session it resumed.
func (l *link) readLoop(s *session) {
	var err error
	defer func() {
		s.connEnded(l, err)
		close(l.done)
	}()
	l.conn.SetReadLimit(s.srv.cfg.Limits.MaxMessageBytes)
	_ = l.conn.SetReadDeadline(s.readDeadline())
	l.conn.SetPongHandler(func(string) error { return l.conn.SetReadDeadline(s.readDeadline()) })
	for {
		var kind int
		var data []byte
		kind, data, err = l.conn.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				s.srv.metrics.oversized.Inc()
				l.close(websocket.CloseMessageTooBig, "", true)
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && s.loginOverdue() {
				s.srv.metrics.refused.WithLabelValues("login_timeout").Inc()
				l.close(websocket.ClosePolicyViolation, "login timeout", true)
			}
			return
		}
		if kind != websocket.TextMessage {
			data = []byte(`"binary"`) // refused as not a request object, after the rate limit
		}
		if s.handling(l, true) {
			continue // moved away: the client sends it again on the new node
		}
		s.handle(data)
		s.handling(l, false)
		if next := s.takeHandoff(); next != nil {
			next.attach(l)
			s = next
			l.conn.SetPongHandler(func(string) error { return l.conn.SetReadDeadline(s.readDeadline()) })
		}
		_ = l.conn.SetReadDeadline(s.readDeadline()) // after handling: a login or logout moves it
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
	if s.abusive {
		return // the connection is closing; messages read meanwhile are dropped
	}
	ok, abuse := s.limiter.allow(time.Now())
	if abuse {
		s.abusive = true
		s.srv.metrics.abuseCloses.Inc()
		s.closeLink(websocket.ClosePolicyViolation, "request rate abuse")
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
	if m.Method == protocol.MethodResume && len(m.ID) == 0 {
		// A resume retires the token it presents and answers with the
		// next one: as a notification, which gets no answer, it would
		// move the session onto a connection that cannot resume it again.
		s.srv.metrics.request(label, protocol.RPCInvalidRequest)
		return
	}
	res, e := s.dispatch(m.Method, m.Params)
	s.srv.metrics.request(label, protocol.CodeOf(errOrNil(e)))
	if e != nil && e.Code == protocol.NotLogin && s.movedAway() {
		return // refused for the move: the client sends it again on the new node
	}
	if s.srv.methods[m.Method].unnumbered {
		if b := encodeReply(m.ID, res, e); b != nil {
			s.sendRaw(b)
		}
		return
	}
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
	if b := encodeReply(id, res, e); b != nil {
		s.send(b)
	}
}

// encodeReply encodes the answer to a request, or nil for a notification
// that gets none.
func encodeReply(id json.RawMessage, res any, e *protocol.Error) []byte {
	var m *protocol.Message
	switch {
	case e != nil:
		if len(id) == 0 && e.Code != protocol.RPCParseError && e.Code != protocol.RPCInvalidRequest {
			return nil
		}
		m = protocol.NewError(id, e)
	case len(id) == 0:
		return nil
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
	return b
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
