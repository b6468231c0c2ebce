package signaling

import (
	"context"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// tokenWatch is the JWT a session logged in with, or last updated to: when
// it expires, and the timer that warns the session before.
type tokenWatch struct {
	exp   time.Time
	timer *time.Timer
}

// watchTokenLocked arms the warning of s's token, which expires at exp,
// replacing an earlier one; a zero exp (a login by secret) arms nothing.
func (a *app) watchTokenLocked(s *session, u *user, exp time.Time) {
	a.stopTokenLocked(u)
	if exp.IsZero() {
		return
	}
	w := &tokenWatch{exp: exp}
	u.token = w
	w.timer = time.AfterFunc(time.Until(exp.Add(-a.srv.cfg.Limits.TokenWarning)), func() { a.tokenWarning(s, u, w) })
}

// stopTokenLocked disarms u's token warning (its session ends, or the
// token is replaced).
func (a *app) stopTokenLocked(u *user) {
	if u.token != nil {
		u.token.timer.Stop()
		u.token = nil
	}
}

// tokenWarning tells s that its token expires soon, if s is still the
// user's session and w still its token.
func (a *app) tokenWarning(s *session, u *user, w *tokenWatch) {
	var ob outbox
	a.mu.Lock()
	if u.sess == s && u.token == w {
		ob.add(s, protocol.EventNotifyTokenWillExpire, protocol.TokenWillExpire{ExpireAt: w.exp.Unix()})
	}
	a.mu.Unlock()
	ob.flush()
}

// watchToken arms the warning for a login that just succeeded.
func (s *session) watchToken(exp time.Time) {
	if exp.IsZero() {
		return
	}
	a, u, e := s.lock()
	if e != nil {
		return // logged off meanwhile
	}
	a.watchTokenLocked(s, u, exp)
	a.mu.Unlock()
}

// updateToken takes a fresh JWT for the logged-in user: checked as a
// token login is (the app's secret, this user, not expired), it becomes
// the session's token and its expiry the one warned of.
func (s *session) updateToken(p *protocol.UpdateTokenParams) (any, *protocol.Error) {
	if s.user == nil {
		return nil, protocol.Errorf(protocol.NotLogin, "not logged in")
	}
	a := s.app
	if a.cfg.NoTokens {
		return nil, errNoTokens(a.cfg)
	}
	if id, ok := tokenAppID(p.Token); ok && id != "" && id != a.cfg.ID {
		return nil, protocol.Errorf(protocol.TokenAuthInfoErr, "the token names another app")
	}
	claims, e := checkToken(a.cfg, p.Token, s.user.id)
	if e != nil {
		return nil, e
	}
	return s.locked(func(a *app, u *user, _ *outbox) (any, *protocol.Error) {
		a.watchTokenLocked(s, u, claims.ExpiresAt.Time)
		return nil, nil
	})
}

// setNickName renames the logged-in user: the name is stored, shown in
// its meeting's member list, and notifyNickNameChanged goes to the user
// and to the members of its meeting.
func (s *session) setNickName(p *protocol.SetNickNameParams) (any, *protocol.Error) {
	if s.user == nil {
		return nil, protocol.Errorf(protocol.NotLogin, "not logged in")
	}
	if p.UserID != s.user.id {
		return nil, protocol.Errorf(protocol.APINoPermission, "users rename only themselves")
	}
	if !validName(p.NickName, maxNickNameLen) {
		return nil, protocol.Errorf(protocol.ParamErr, "nickName must be 1-%d printable bytes", maxNickNameLen)
	}
	if s.srv.repl == nil { // in a cluster, the log is the store
		ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
		defer cancel()
		if err := s.srv.store.setNick(ctx, s.app.cfg.ID, s.user.id, p.NickName); err != nil {
			s.log.Error("store nickname", "err", err)
			return nil, protocol.Errorf(protocol.ServerException, "could not record the nickname")
		}
	}
	return s.change(changeNick, p)
}

const changeNick = "nick"

func init() {
	sessionChange(changeNick, func(a *app, u *user, p *protocol.SetNickNameParams, x *applied) (any, *protocol.Error) {
		old := u.nick
		if old == p.NickName {
			return nil, nil
		}
		u.nick = p.NickName
		ev := protocol.NickNameChanged{UserID: u.id, OldName: old, NewName: p.NickName}
		if m := u.meeting; m != nil {
			if me := m.members[u.id]; me != nil {
				me.info.NickName = p.NickName
			}
			for id := range m.members {
				x.ob.addUser(a.users[id], protocol.EventNotifyNickNameChanged, ev)
			}
		} else {
			x.ob.addUser(u, protocol.EventNotifyNickNameChanged, ev)
		}
		return nil, nil
	})
}
