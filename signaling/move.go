package signaling

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/protocol"
)

// A meeting's media is forwarded by one node's SFU (docs/design/scale-out.md
// §2.1). A member with media who enters a meeting from another node is
// answered 803 with a MoveTo: the address of the meeting's node and a
// single-use token. Its client connects there and sends moveIn, which is
// a change in the log: the cut point of the session. Before it, the old
// node delivers the session's events; after it, the new one does, and the
// old connection closes once it has sent what came before. The user stays
// online throughout (its watchers see no change), keeps its calls, queue
// places and DND, and leaves the meeting it was in, whose media was on the
// old node. docs/protocol/resume.md#moving-to-another-node.

const (
	changeMoveIn = "moveIn"
	closeMoved   = "moved to another node"
	// moveLookup bounds finding the address of the meeting's node.
	moveLookup = 2 * time.Second
)

// moveClaims is what a move token says: the session of node From it moves
// to node To, for app and user, until Until (ms since 1970). TokenExp is
// the expiry of the session's JWT (0 after a login by secret), whose
// warning the new node arms; Watch, whether it asked for notifyUserStatus.
type moveClaims struct {
	App      string          `json:"a"`
	User     protocol.UserID `json:"u"`
	From     string          `json:"f"`
	Sess     uint64          `json:"s"`
	To       string          `json:"t"`
	Until    int64           `json:"e"`
	TokenExp int64           `json:"j,omitempty"`
	Watch    bool            `json:"w,omitempty"` // it watches presence (node-local state)
}

// moveMAC signs a move token's payload with the app's secret, which every
// node of the service shares (SharedHash); the prefix keeps the signature
// from standing for anything else signed with that secret.
func moveMAC(secret, payload string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("crvnode move token\x00"))
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func mintMove(cfg AppConfig, c moveClaims) string {
	b, _ := json.Marshal(c)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(moveMAC(cfg.Secret, payload))
}

// checkMove verifies a move token for this node and returns its claims.
// That it was not used yet is checked when its change applies: the
// session it names must still be the user's.
func checkMove(cfg AppConfig, token string, p *protocol.MoveInParams, node string, now time.Time) (*moveClaims, *protocol.Error) {
	bad := protocol.Errorf(protocol.TokenAuthFailed, "not a valid move token")
	payload, sig, ok := strings.Cut(token, ".")
	if !ok {
		return nil, bad
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, moveMAC(cfg.Secret, payload)) {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	var c moveClaims
	if err != nil || json.Unmarshal(b, &c) != nil {
		return nil, bad
	}
	switch {
	case c.App != p.AppID || c.User != p.UserID:
		return nil, protocol.Errorf(protocol.TokenAuthFailed, "this move token belongs to another app or user")
	case c.To != node:
		return nil, protocol.Errorf(protocol.TokenAuthFailed, "this move token is for another node")
	case now.UnixMilli() > c.Until:
		return nil, protocol.Errorf(protocol.TokenAuthFailed, "this move token expired")
	}
	return &c, nil
}

// mediaNodeLocked is the node forwarding m's media: that of its members
// with media, "" while it has none.
func (a *app) mediaNodeLocked(m *meeting) string {
	for id, me := range m.members {
		if s := a.users[id].sess; me.media && s != nil {
			return s.node
		}
	}
	return ""
}

// moveFor answers the entry of s into meeting id with the 803 that moves
// s to the meeting's node, when that node is another one; nil when the
// entry is for this node (which then refuses it, if the meeting moved
// meanwhile).
func (s *session) moveFor(id protocol.MeetingID) *protocol.Error {
	find := s.srv.cfg.NodeURL
	if find == nil || s.srv.cfg.Media == nil || s.srv.repl == nil {
		return nil
	}
	a, u := s.app, s.user
	a.mu.Lock()
	m := a.meetings[id]
	host := ""
	if m != nil && m != u.meeting {
		host = a.mediaNodeLocked(m)
	}
	c := moveClaims{App: a.cfg.ID, User: u.id, From: s.node, Sess: s.serial, To: host,
		Until: time.Now().Add(protocol.MoveTokenTTLMs * time.Millisecond).UnixMilli()}
	if u.token != nil {
		c.TokenExp = u.token.exp.Unix()
	}
	_, c.Watch = a.watchers[s]
	a.mu.Unlock()
	if host == "" || host == s.node {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), moveLookup)
	base, err := find(ctx, host)
	cancel()
	if err != nil {
		s.log.Warn("move: the meeting's node cannot be found", "meeting", id, "node", host, "err", err)
		return protocol.Errorf(protocol.ResourceAllocateError,
			"meeting %d has its media on node %s of this service, which cannot be reached now", id, host)
	}
	data, _ := json.Marshal(protocol.MoveData{MoveTo: &protocol.MoveTo{URL: wsURL(base), Token: mintMove(a.cfg, c)}})
	s.srv.metrics.moves.WithLabelValues("sent").Inc()
	e := protocol.Errorf(protocol.ResourceAllocateError,
		"meeting %d has its media on another node of this service: the session moves there (moveIn)", id)
	e.Data = data
	return e
}

// wsURL is the WebSocket endpoint under a node's http(s) base URL.
func wsURL(base string) string {
	base = strings.TrimSuffix(base, "/")
	switch {
	case strings.HasPrefix(base, "https://"):
		base = "wss://" + strings.TrimPrefix(base, "https://")
	case strings.HasPrefix(base, "http://"):
		base = "ws://" + strings.TrimPrefix(base, "http://")
	}
	return base + "/ws"
}

// moveInChange is the cut point: session Sess of node From becomes the
// change's session.
type moveInChange struct {
	From string `json:"from"`
	Sess uint64 `json:"sess"`
	// What the session had on its node that the log does not hold, as
	// of the 803: whether it watched presence, and its JWT's expiry.
	Watch    bool  `json:"watch,omitempty"`
	TokenExp int64 `json:"tokenExp,omitempty"`
}

type moveInResult struct {
	token string
	nick  string
}

// moveIn takes over, on this connection, the session another node sent
// here with a MoveTo. It answers as a login does: a new resume token, the
// numbering starting again at 1.
func (s *session) moveIn(p *protocol.MoveInParams) (any, *protocol.Error) {
	if s.user != nil {
		return nil, protocol.Errorf(protocol.AlreadyLogin, "already logged in as %q", s.user.id)
	}
	if p.Token == "" || len(p.Token) > protocol.MaxMoveTokenLen {
		return nil, protocol.Errorf(protocol.ParamErr, "token must be 1-%d characters", protocol.MaxMoveTokenLen)
	}
	a := s.srv.apps[p.AppID]
	if a == nil {
		return nil, protocol.Errorf(protocol.TokenAppIDNotExist, "unknown appID %q", p.AppID)
	}
	if s.srv.repl == nil {
		return nil, protocol.Errorf(protocol.TokenAuthFailed, "this node is on its own: no session moves to it")
	}
	m := s.srv.metrics.moves
	c, e := checkMove(a.cfg, p.Token, p, s.node, time.Now())
	if e != nil {
		m.WithLabelValues("refused").Inc()
		return nil, e
	}
	res, e := a.exec(s, changeMoveIn, c.User, &moveInChange{From: c.From, Sess: c.Sess, Watch: c.Watch, TokenExp: c.TokenExp})
	if e != nil {
		m.WithLabelValues("refused").Inc()
		return nil, e
	}
	r := res.(moveInResult)
	m.WithLabelValues("taken").Inc()
	s.log = s.log.With("app", a.cfg.ID, "user", c.User)
	lr := protocol.LoginResult{UserID: c.User, NickName: r.nick, AppID: a.cfg.ID, ICEServers: s.iceServers(a, c.User), ResumeToken: r.token}
	if r.token != "" {
		lr.ResumeGraceMs = s.srv.cfg.Limits.ResumeGrace.Milliseconds()
	}
	return lr, nil
}

func init() {
	registerChange(changeMoveIn, false, func(a *app, x *applied) (any, *protocol.Error) {
		p, u := param[moveInChange](x), x.u
		if !u.heldBy(p.From, p.Sess) {
			return nil, protocol.Errorf(protocol.TokenAuthFailed, "this move token was used already, or its session ended")
		}
		old, s := u.sess, x.s
		delete(a.watchers, old)
		a.leaveMeetingLocked(u, x.ob) // its media was on the old node
		a.stopTokenLocked(u)
		a.handOverTimersLocked(u, localSession(old), s != nil)
		if u.media != nil {
			u.media.Close()
			u.media = nil
		}
		if localSession(old) {
			old.mu.Lock()
			old.moved = true // from here on, what the cut refuses is not answered
			old.mu.Unlock()
			x.then(old.movedOut)
		}
		if s == nil {
			u.sess = a.srv.stub(x.node, x.sess)
			if x.local {
				// Its request gave up waiting: nobody took the session.
				lp := &logoffParams{Node: x.node, Sess: x.sess}
				x.then(func() { a.execAsync(nil, changeLogoff, u.id, lp) })
			}
			return nil, nil
		}
		tok := s.startNumbering(a.cfg.ID, u.id)
		u.sess = s
		s.app, s.user = a, u
		if p.Watch {
			a.watchers[s] = struct{}{}
		}
		if p.TokenExp != 0 {
			a.watchTokenLocked(s, u, time.Unix(p.TokenExp, 0))
		}
		if media := a.srv.cfg.Media; media != nil {
			var err error
			if u.media, err = media.NewPeer(a.cfg.ID, u.id, mediaEvents{s: s, a: a, u: u}); err != nil {
				s.log.Error("media peer", "err", err)
			}
		}
		return moveInResult{token: tok, nick: u.nick}, nil
	})
}

// handOverTimersLocked moves the timers that the node of u's session
// owns (the ringing of calls u makes, u's assignment and service as an
// agent, the holds of u as a customer) from the node it leaves (from) to
// the node it moves to (to). A timer armed again counts its whole time
// from the move: the change it makes is decided in the log, so the copies
// agree whichever node fires it.
func (a *app) handOverTimersLocked(u *user, from, to bool) {
	if from == to {
		return
	}
	for _, c := range u.calls {
		if c.caller != u || c.accepted {
			continue
		}
		stop(c.timer)
		c.timer = nil
		if to {
			a.armRingLocked(c)
		}
	}
	if ag := a.queues.agents[u]; ag != nil {
		if as := ag.as; as != nil {
			stop(as.timer)
			as.timer = nil
			if to {
				a.armAssignLocked(as)
			}
		}
		if sv := ag.served; sv != nil {
			stop(sv.timer)
			sv.timer = nil
			if to {
				a.armServedLocked(ag, sv)
			}
		}
	}
	if c := a.queues.customers[u]; c != nil {
		for agent, h := range c.holds {
			stop(h.timer)
			h.timer = nil
			if to {
				a.armHoldLocked(c, agent, h)
			}
		}
	}
}

// movedOut ends the session on this node once its user's session moved
// to another: after the request it is handling, if any, its connection
// sends what is queued and closes. Requests read after the cut are not
// handled: the client sends them again on the new node.
func (s *session) movedOut() {
	s.mu.Lock()
	l, busy := s.link, s.busy
	s.mu.Unlock()
	switch {
	case l == nil:
		s.finish(protocol.ConnectionLost) // it waits for a resume: no connection to end
	case !busy:
		l.close(websocket.CloseNormalClosure, closeMoved, true)
	}
}

// handling marks the reader as handling a request (on) or done with it;
// it reports whether the session moved away, and then closes its
// connection after the request.
func (s *session) handling(l *link, on bool) (moved bool) {
	s.mu.Lock()
	s.busy = on && !s.moved
	moved = s.moved
	s.mu.Unlock()
	if moved {
		l.close(websocket.CloseNormalClosure, closeMoved, true)
	}
	return moved
}

// movedAway reports whether the session's user moved to another node.
func (s *session) movedAway() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.moved
}
