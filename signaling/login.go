package signaling

import (
	"context"
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
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if err := s.srv.store.upsertUser(ctx, a.cfg.ID, userID, nick, time.Now().Unix()); err != nil {
		s.log.Error("store user", "app", a.cfg.ID, "user", userID, "err", err)
		return nil, protocol.Errorf(protocol.ServerException, "could not record the login")
	}
	var ob outbox
	a.mu.Lock()
	u := a.userLocked(userID)
	u.nick = nick
	kicked := u.sess
	if kicked != nil {
		delete(a.watchers, kicked)
		a.logoffLocked(u, &ob)
		ob.add(kicked, protocol.EventLineOff, protocol.LineOff{SdkEr: protocol.UserBeenKickout})
	}
	tok := s.startNumbering(a.cfg.ID, userID)
	u.sess = s
	s.app, s.user = a, u
	if media := s.srv.cfg.Media; media != nil {
		var err error
		if u.media, err = media.NewPeer(a.cfg.ID, userID, mediaEvents{s: s, a: a, u: u}); err != nil {
			s.log.Error("media peer", "err", err)
		}
	}
	s.log = s.log.With("app", a.cfg.ID, "user", userID)
	a.touchLocked(u, &ob)
	a.mu.Unlock()
	ob.flush()
	if kicked != nil {
		kicked.finish(protocol.UserBeenKickout) // on its connection, or waiting for a resume
	}
	res := protocol.LoginResult{UserID: userID, NickName: nick, AppID: a.cfg.ID, ICEServers: s.iceServers(a, userID), ResumeToken: tok}
	if tok != "" {
		res.ResumeGraceMs = s.srv.cfg.Limits.ResumeGrace.Milliseconds()
	}
	return res, nil
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
	for _, c := range u.calls {
		a.endCallLocked(c, u, "", ob)
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
	a, u, e := s.lock()
	if e != nil {
		return nil, e
	}
	var ob outbox
	delete(a.watchers, s)
	a.logoffLocked(u, &ob)
	s.user = nil
	s.anonSince = time.Now() // the login time starts again
	a.mu.Unlock()
	ob.flush()
	s.stopNumbering()
	return nil, nil
}
