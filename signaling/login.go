package signaling

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

func (s *session) login(p *protocol.LoginParams) (any, *protocol.Error) {
	if s.user != nil {
		return nil, protocol.Errorf(protocol.AlreadyLogin, "already logged in as %q", s.user.id)
	}
	p.Normalize()
	a := s.srv.apps[p.AppID]
	if a == nil {
		return nil, protocol.Errorf(protocol.TokenAppIDNotExist, "unknown appID %q", p.AppID)
	}
	userID, exp, e := authenticate(a.cfg, p)
	if e != nil {
		return nil, e
	}
	res, e := s.enter(a, userID, p.NickName)
	if e == nil {
		s.watchToken(exp)
	}
	return res, e
}

func (s *session) loginByToken(p *protocol.LoginByTokenParams) (any, *protocol.Error) {
	if s.user != nil {
		return nil, protocol.Errorf(protocol.AlreadyLogin, "already logged in as %q", s.user.id)
	}
	appID, ok := tokenAppID(p.Token)
	if !ok {
		return nil, protocol.Errorf(protocol.TokenAuthInfoErr, "token is not a JWT")
	}
	a := s.srv.apps[appID]
	if a == nil {
		return nil, protocol.Errorf(protocol.TokenAppIDNotExist, "token names no known appID")
	}
	if a.cfg.NoTokens {
		return nil, errNoTokens(a.cfg)
	}
	claims, e := checkToken(a.cfg, p.Token, p.UserID)
	if e != nil {
		return nil, e
	}
	res, e := s.enter(a, claims.Subject, p.NickName)
	if e == nil {
		s.watchToken(claims.ExpiresAt.Time)
	}
	return res, e
}

// enter logs the session in as userID of app a. An older session of the
// same user is logged off (lineOff USER_BEEN_KICKOUT): its calls end and it
// leaves its meeting.
func (s *session) enter(a *app, userID protocol.UserID, nick string) (any, *protocol.Error) {
	if !validName(userID, maxUserIDLen) {
		return nil, protocol.Errorf(protocol.ParamErr, "userID must be 1-%d printable bytes", maxUserIDLen)
	}
	if !validName(nick, maxNickNameLen) {
		return nil, protocol.Errorf(protocol.ParamErr, "nickName must be 1-%d printable bytes", maxNickNameLen)
	}
	if s.srv.repl == nil { // in a cluster, the log is the store
		ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
		defer cancel()
		if err := s.srv.store.upsertUser(ctx, a.cfg.ID, userID, nick, time.Now().Unix()); err != nil {
			s.log.Error("store user", "app", a.cfg.ID, "user", userID, "err", err)
			return nil, protocol.Errorf(protocol.ServerException, "could not record the login")
		}
	}
	res, e := a.exec(s, changeLogin, userID, &loginChange{Nick: nick})
	if e != nil {
		return nil, e
	}
	tok := res.(string)
	s.log = s.log.With("app", a.cfg.ID, "user", userID)
	lr := protocol.LoginResult{UserID: userID, NickName: nick, AppID: a.cfg.ID, ICEServers: s.iceServers(a, userID), ResumeToken: tok}
	if tok != "" {
		lr.ResumeGraceMs = s.srv.cfg.Limits.ResumeGrace.Milliseconds()
	}
	return lr, nil
}

const changeLogin, changeLogout, changeLogoff = "login", "logout", "logoff"

type loginChange struct {
	Nick string `json:"nick"`
}

// logoffParams names the session that is over: it logs its user off if
// it is still the user's.
type logoffParams struct {
	Node string `json:"node"`
	Sess uint64 `json:"sess"`
}

func init() {
	// login: an older session of the user is kicked (it hears lineOff 10
	// on its own node), and the user is online in the new one. It answers
	// the session's resume token.
	registerChange(changeLogin, false, func(a *app, x *applied) (any, *protocol.Error) {
		u := x.u
		u.nick = param[loginChange](x).Nick
		if kicked := u.sess; kicked != nil {
			delete(a.watchers, kicked)
			a.logoffLocked(u, x.ob)
			x.ob.add(kicked, protocol.EventLineOff, protocol.LineOff{SdkEr: protocol.UserBeenKickout})
			x.then(func() { kicked.finish(protocol.UserBeenKickout) }) // on its connection, or waiting for a resume
		}
		s := x.s
		if s == nil {
			u.sess = a.srv.stub(x.node, x.sess)
			a.touchLocked(u, x.ob)
			if x.local {
				// Its request gave up waiting: the login did not happen
				// for the session, so it must not stay online.
				p := &logoffParams{Node: x.node, Sess: x.sess}
				x.then(func() { a.execAsync(nil, changeLogoff, u.id, p) })
			}
			return "", nil
		}
		tok := s.startNumbering(a.cfg.ID, u.id)
		u.sess = s
		s.app, s.user = a, u
		if media := a.srv.cfg.Media; media != nil {
			var err error
			if u.media, err = media.NewPeer(a.cfg.ID, u.id, mediaEvents{s: s, a: a, u: u}); err != nil {
				s.log.Error("media peer", "err", err)
			}
		}
		a.touchLocked(u, x.ob)
		return tok, nil
	})
	registerChange(changeLogout, true, func(a *app, x *applied) (any, *protocol.Error) {
		if s := x.s; s != nil {
			delete(a.watchers, s)
			s.user = nil
		}
		a.logoffLocked(x.u, x.ob)
		return nil, nil
	})
	// logoff: a session ended without a logout (its connection, its grace
	// window or its node is gone).
	registerChange(changeLogoff, false, func(a *app, x *applied) (any, *protocol.Error) {
		p := param[logoffParams](x)
		if x.u.heldBy(p.Node, p.Sess) {
			if s := x.u.sess; localSession(s) {
				delete(a.watchers, s)
			}
			a.logoffLocked(x.u, x.ob)
		}
		return nil, nil
	})
}

// iceServers mints the ICE servers (TURN credentials) for a user.
func (s *session) iceServers(a *app, userID protocol.UserID) []protocol.ICEServer {
	if f := s.srv.cfg.ICEServers; f != nil {
		if ice := f(a.cfg, userID); ice != nil {
			return ice
		}
	}
	return []protocol.ICEServer{}
}

func (s *session) refreshICEServers(*protocol.Empty) (any, *protocol.Error) {
	return protocol.ICEServersResult{ICEServers: s.iceServers(s.app, s.user.id)}, nil
}

// logoffLocked ends everything u takes part in and marks it offline: its
// calls and invites end (the other side is told), it leaves its meeting.
func (a *app) logoffLocked(u *user, ob *outbox) {
	a.leaveQueuesLocked(u, ob)
	for _, id := range slices.Sorted(maps.Keys(u.calls)) { // one order on every node: ending a call may free an agent
		a.endCallLocked(u.calls[id], u, "", ob)
	}
	a.leaveMeetingLocked(u, ob)
	a.stopTokenLocked(u)
	if u.media != nil {
		u.media.Close()
		u.media = nil
	}
	u.sess = nil
	a.touchLocked(u, ob)
}

func (s *session) logout(*protocol.Empty) (any, *protocol.Error) {
	if _, e := s.change(changeLogout, &protocol.Empty{}); e != nil {
		return nil, e
	}
	s.anonSince = time.Now() // the login time starts again
	s.stopNumbering()
	return nil, nil
}
