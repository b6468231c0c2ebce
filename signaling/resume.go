package signaling

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/protocol"
)

// A session outlives a lost connection for the grace window, numbering
// what it sends and keeping it in a replay buffer, so that its client can
// pick it up on a new connection with resume (docs/protocol/resume.md).

// resumeWait bounds how long a resume waits for the session's old
// connection to finish the request it was handling.
const resumeWait = 15 * time.Second

// replay is a session's last numbered messages, oldest first.
type replay struct {
	msgs     []numbered
	bytes    int
	maxMsgs  int
	maxBytes int
}

type numbered struct {
	seq uint64
	b   []byte
}

// add keeps message seq. While the session has a connection the oldest
// messages make room; without one there is no room to make, and add
// reports false when the buffer is full.
func (r *replay) add(seq uint64, b []byte, connected bool) bool {
	full := func() bool {
		return len(r.msgs) > 0 && (len(r.msgs) >= r.maxMsgs || r.bytes+len(b) > r.maxBytes)
	}
	for connected && full() {
		r.bytes -= len(r.msgs[0].b)
		r.msgs[0] = numbered{}
		r.msgs = r.msgs[1:]
	}
	if full() {
		return false
	}
	r.msgs = append(r.msgs, numbered{seq, b})
	r.bytes += len(b)
	return true
}

// after returns the messages numbered above seq; ok is false if some of
// them have fallen out of the buffer.
func (r *replay) after(seq uint64) (msgs [][]byte, ok bool) {
	if len(r.msgs) > 0 && r.msgs[0].seq > seq+1 {
		return nil, false
	}
	for _, m := range r.msgs {
		if m.seq > seq {
			msgs = append(msgs, m.b)
		}
	}
	return msgs, true
}

func (r *replay) reset() {
	r.msgs, r.bytes = nil, 0
}

// tokens are the resume tokens a node issued. A token is "<boot>.<random>":
// boot names this Server, so that a token from before a restart is told
// from one that never existed.
type tokens struct {
	boot string

	mu        sync.Mutex
	entries   map[string]*tokenEntry
	lastSweep time.Time
}

type tokenEntry struct {
	s       *session // nil once the session ended
	appID   string
	userID  protocol.UserID
	retired bool          // rotated by a resume: using it again is a reuse
	ended   protocol.Code // why the session ended, once it has
	until   time.Time     // when an ended or retired entry is forgotten
}

func newTokens() *tokens {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &tokens{boot: hex.EncodeToString(b), entries: map[string]*tokenEntry{}}
}

func (t *tokens) issue(s *session, appID string, userID protocol.UserID) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := t.boot + "." + base64.RawURLEncoding.EncodeToString(b)
	t.mu.Lock()
	t.entries[tok] = &tokenEntry{s: s, appID: appID, userID: userID}
	t.sweepLocked(time.Now())
	t.mu.Unlock()
	return tok
}

// sweepLocked forgets the entries past their time, at most once a second.
func (t *tokens) sweepLocked(now time.Time) {
	if now.Sub(t.lastSweep) < time.Second {
		return
	}
	t.lastSweep = now
	for k, e := range t.entries {
		if !e.until.IsZero() && now.After(e.until) {
			delete(t.entries, k)
		}
	}
}

// lookup finds the live session a resume names, or says clearly why there
// is none.
func (t *tokens) lookup(p *protocol.ResumeParams) (*session, string, *protocol.Error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[p.Token]
	switch {
	case e == nil && !strings.HasPrefix(p.Token, t.boot+"."):
		return nil, "restarted", protocol.Errorf(protocol.ConnectionLost, "no session to resume: the node restarted since it issued this token")
	case e == nil:
		return nil, "unknown", protocol.Errorf(protocol.ConnectionLost, "no session to resume: it ended")
	case e.appID != p.AppID || e.userID != p.UserID:
		return nil, "mismatch", protocol.Errorf(protocol.TokenAuthFailed, "this resume token belongs to another app or user")
	case e.retired:
		return nil, "reused", protocol.Errorf(protocol.TokenAuthFailed, "this resume token was already used")
	case e.ended == protocol.UserBeenKickout:
		return nil, "kicked", protocol.Errorf(protocol.UserBeenKickout, "the session ended: the user logged in elsewhere")
	case e.ended != 0 || e.s == nil:
		return nil, "expired", protocol.Errorf(protocol.ConnectionLost, "no session to resume: it ended")
	}
	return e.s, "", nil
}

// rotate retires old and issues the session's next token.
func (t *tokens) rotate(old string, grace time.Duration) string {
	t.mu.Lock()
	e := t.entries[old]
	t.mu.Unlock()
	if e == nil {
		return ""
	}
	tok := t.issue(e.s, e.appID, e.userID)
	t.mu.Lock()
	e.retired, e.until = true, time.Now().Add(grace)
	t.mu.Unlock()
	return tok
}

// end marks the session's tokens as ended with code, remembered for the
// grace window so that a late resume hears why; code 0 forgets them.
func (t *tokens) end(s *session, code protocol.Code, grace time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, e := range t.entries {
		if e.s != s {
			continue
		}
		if code == 0 {
			delete(t.entries, k)
			continue
		}
		e.s, e.ended = nil, code
		if e.until.IsZero() || e.retired {
			e.until = time.Now().Add(grace)
		}
	}
}

// startNumbering begins the numbered messages of a login and issues its
// resume token ("" when the node keeps no session past its connection).
// Called with the app locked, before the user is the session's.
func (s *session) startNumbering(appID string, userID protocol.UserID) string {
	tok := ""
	if s.srv.cfg.Limits.ResumeGrace > 0 {
		tok = s.srv.tokens.issue(s, appID, userID)
	}
	s.mu.Lock()
	s.numbered, s.seq, s.token = true, 0, tok
	s.replay.reset()
	s.mu.Unlock()
	return tok
}

// stopNumbering ends the numbered messages at logout; the session's
// tokens resume nothing more.
func (s *session) stopNumbering() {
	s.mu.Lock()
	s.numbered, s.token = false, ""
	s.replay.reset()
	s.mu.Unlock()
	s.srv.tokens.end(s, 0, 0)
}

// connEnded runs on the reader when connection l is over. A logged-in
// session whose connection was lost (not closed by either side on
// purpose) waits for a resume; any other ends.
func (s *session) connEnded(l *link, err error) {
	grace := s.srv.cfg.Limits.ResumeGrace
	s.mu.Lock()
	if s.link != l || s.ended {
		s.mu.Unlock()
		return
	}
	s.link = nil
	// A connection that a resume ends hands the session on however its
	// client answered the close (an echoed close frame, or none).
	lost := lostConnection(err) || l.handedOn.Load()
	keep := s.numbered && s.token != "" && grace > 0 && !l.endedForCause() && lost && !s.srv.isClosed()
	if keep {
		s.graceGen++
		gen := s.graceGen
		s.grace = time.AfterFunc(grace, func() { s.graceEnded(gen) })
		// Under s.mu, so that a finish (a kick by a new login, at this very
		// moment) cannot come between: it would find nothing to remove,
		// and the ended session would stay listed as waiting for ever.
		s.srv.waiting(s, true)
	}
	s.mu.Unlock()
	l.close(websocket.CloseNormalClosure, "", false) // the writer ends too
	if !keep {
		s.finish(protocol.ConnectionLost)
	}
}

// lostConnection tells a connection that was lost (a network error, a
// read timeout, an end without a close frame, a close with protocol.CloseLost)
// from one the client closed on purpose.
func lostConnection(err error) bool {
	ce, ok := err.(*websocket.CloseError)
	return !ok || ce.Code == websocket.CloseAbnormalClosure || ce.Code == protocol.CloseLost
}

func (s *session) graceEnded(gen int) {
	s.mu.Lock()
	stale := s.graceGen != gen || s.link != nil || s.handing
	s.mu.Unlock()
	if !stale {
		s.srv.metrics.resumes.WithLabelValues("expired").Inc()
		s.finish(protocol.ConnectionLost)
	}
}

// finish ends the session for good: its tokens resume nothing, its
// connection (if any) closes, and its user, unless a newer login took it
// over, goes offline as after logout. code is what a late resume hears.
func (s *session) finish(code protocol.Code) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	if s.grace != nil {
		s.grace.Stop()
		s.grace = nil
	}
	l := s.link
	s.link = nil
	s.token = ""
	s.replay.reset()
	s.mu.Unlock()
	s.srv.tokens.end(s, code, s.srv.cfg.Limits.ResumeGrace)
	s.srv.waiting(s, false)
	if l != nil {
		text := ""
		if code == protocol.UserBeenKickout {
			text = "logged in elsewhere"
		}
		l.close(websocket.CloseNormalClosure, text, true)
	}
	if a := s.app; a != nil {
		a.mu.Lock()
		delete(a.watchers, s)
		u := s.user
		mine := u != nil && u.sess == s
		a.mu.Unlock()
		if mine {
			a.execAsync(nil, changeLogoff, u.id, &logoffParams{Node: s.node, Sess: s.serial})
		}
	}
}

// takeHandoff returns the session a resume on this connection took over.
func (s *session) takeHandoff() *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.handoff
	s.handoff = nil
	return next
}

// attach puts the resumed session on connection l, after the replay and
// the answer to resume: what the session sent in between follows them.
func (s *session) attach(l *link) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		l.close(websocket.CloseNormalClosure, "", true)
		return
	}
	msgs, _ := s.replay.after(s.resumed)
	for _, b := range msgs {
		l.push(b)
	}
	s.link, s.handing = l, false
	s.mu.Unlock()
}

func (s *session) resume(p *protocol.ResumeParams) (any, *protocol.Error) {
	if s.user != nil {
		return nil, protocol.Errorf(protocol.AlreadyLogin, "already logged in as %q", s.user.id)
	}
	if p.Token == "" || len(p.Token) > protocol.MaxResumeTokenLen {
		return nil, protocol.Errorf(protocol.ParamErr, "token must be 1-%d characters", protocol.MaxResumeTokenLen)
	}
	m := s.srv.metrics.resumes
	old, outcome, e := s.srv.tokens.lookup(p)
	if e != nil {
		m.WithLabelValues(outcome).Inc()
		return nil, e
	}
	// The node may not have noticed that the old connection is gone: end
	// it, and let it answer the request it is handling (into the buffer).
	old.mu.Lock()
	ol := old.link
	old.mu.Unlock()
	if ol != nil {
		// A close frame if the old network still carries one; the socket
		// closed under it if not.
		ol.handedOn.Store(true)
		ol.close(websocket.CloseNormalClosure, "resumed on another connection", false)
		select {
		case <-ol.done:
		case <-time.After(time.Second):
			_ = ol.conn.Close()
		}
		select {
		case <-ol.done:
		case <-time.After(resumeWait):
			m.WithLabelValues("busy").Inc()
			return nil, protocol.Errorf(protocol.ConnectionLost, "the session's old connection did not finish in time")
		}
	}
	grace := s.srv.cfg.Limits.ResumeGrace
	old.mu.Lock()
	switch {
	case old.ended:
		old.mu.Unlock()
		m.WithLabelValues("expired").Inc()
		return nil, protocol.Errorf(protocol.ConnectionLost, "no session to resume: it ended")
	case old.token != p.Token || old.link != nil || old.handing:
		old.mu.Unlock() // another resume came first
		m.WithLabelValues("reused").Inc()
		return nil, protocol.Errorf(protocol.TokenAuthFailed, "this resume token was already used")
	case p.LastSeq > old.seq:
		old.mu.Unlock()
		m.WithLabelValues("bad_seq").Inc()
		return nil, protocol.Errorf(protocol.ParamErr, "lastSeq %d is beyond the last message sent (%d)", p.LastSeq, old.seq)
	}
	msgs, ok := old.replay.after(p.LastSeq)
	if !ok {
		old.mu.Unlock()
		m.WithLabelValues("too_old").Inc()
		old.finish(protocol.ConnectionLost)
		return nil, protocol.Errorf(protocol.ConnectionLost, "the messages after lastSeq %d are no longer kept: the session ended", p.LastSeq)
	}
	if old.grace != nil {
		old.grace.Stop()
		old.grace = nil
	}
	old.graceGen++
	l := s.link
	for _, b := range msgs {
		l.push(b)
	}
	old.token = s.srv.tokens.rotate(p.Token, grace)
	old.resumed, old.handing = old.seq, true
	res := protocol.ResumeResult{ResumeToken: old.token, ResumeGraceMs: grace.Milliseconds(), Seq: old.seq}
	old.mu.Unlock()
	s.mu.Lock()
	s.handoff = old
	s.mu.Unlock()
	s.srv.waiting(old, false)
	m.WithLabelValues("resumed").Inc()
	return res, nil
}

func ping(*session, *protocol.Empty) (any, *protocol.Error) { return nil, nil }

func (s *session) restartDown(*protocol.Empty) (any, *protocol.Error) {
	mp, e := s.mediaPeer()
	if e != nil {
		return nil, e
	}
	mp.RestartDown()
	return nil, nil
}
