package signaling

import (
	"context"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

const dbTimeout = 5 * time.Second

func (s *session) setDNDStatus(p *protocol.SetDNDStatusParams) (any, *protocol.Error) {
	if s.srv.repl != nil { // in a cluster, the log is the store
		return s.change(changeDND, p)
	}
	a, u, e := s.lock()
	if e != nil {
		return nil, e
	}
	a.mu.Unlock()
	// One DND write of the user at a time, to the database then to memory,
	// both done even if a newer login takes the user over in between (the
	// write counts as made before it): the two never disagree.
	u.dndMu.Lock()
	defer u.dndMu.Unlock()
	if e := s.stillOwner(); e != nil {
		return nil, e // a session logged off before the write writes nothing
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if err := s.srv.store.setDND(ctx, s.app.cfg.ID, s.user.id, p.DNDStatus); err != nil {
		s.log.Error("store dnd", "err", err)
		return nil, protocol.Errorf(protocol.ServerException, "could not store the DND status")
	}
	a.execAsync(nil, changeDND, u.id, p) // stored: made even if the user was taken over meanwhile
	return nil, nil
}

const changeDND = "dnd"

func init() {
	registerChange(changeDND, false, func(a *app, x *applied) (any, *protocol.Error) {
		u := x.u
		if x.sess != 0 && !u.heldBy(x.node, x.sess) { // a cluster's request, from a session still the user's
			return nil, protocol.Errorf(protocol.NotLogin, "this session was logged off")
		}
		u.dnd = param[protocol.SetDNDStatusParams](x).DNDStatus
		a.touchLocked(u, x.ob)
		a.settleQueuesLocked(x.ob) // an agent whose DND went off may be given a customer
		return nil, nil
	})
}

// stillOwner checks that the session still owns its user (no newer login
// took it over) before a handler writes to the store without the lock.
func (s *session) stillOwner() *protocol.Error {
	a, _, e := s.lock()
	if e == nil {
		a.mu.Unlock()
	}
	return e
}

func (s *session) getUserStatus(*protocol.Empty) (any, *protocol.Error) {
	a, _, e := s.lock()
	if e != nil {
		return nil, e
	}
	list := a.allStatusLocked()
	a.mu.Unlock()
	return protocol.GetUserStatusResult{UserStatus: list}, nil
}

func (s *session) startUserStatusNotify(*protocol.Empty) (any, *protocol.Error) {
	return s.watch(true)
}

func (s *session) stopUserStatusNotify(*protocol.Empty) (any, *protocol.Error) {
	return s.watch(false)
}

func (s *session) watch(on bool) (any, *protocol.Error) {
	a, _, e := s.lock()
	if e != nil {
		return nil, e
	}
	if on {
		a.watchers[s] = struct{}{}
	} else {
		delete(a.watchers, s)
	}
	a.mu.Unlock()
	return nil, nil
}

// load fills the app's users and meetings from the store.
func (a *app) load(ctx context.Context) error {
	users, err := a.srv.store.users(ctx, a.cfg.ID)
	if err != nil {
		return err
	}
	meetings, err := a.srv.store.meetings(ctx, a.cfg.ID)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, su := range users {
		u := a.userLocked(su.id)
		u.nick, u.dnd = su.nick, su.dnd
		u.shown = u.status()
	}
	for _, m := range meetings {
		a.meetings[m.ID] = newMeeting(m)
	}
	return nil
}
