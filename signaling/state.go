package signaling

import (
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// app is one tenant's live state. Its mutex guards every field below it and
// the fields of the users, meetings, members and calls it holds; helpers that
// need it held end in Locked. Nothing under the lock writes to the network:
// events are collected in an outbox and flushed after unlocking.
type app struct {
	cfg AppConfig
	srv *Server

	mu       sync.Mutex
	users    map[protocol.UserID]*user
	meetings map[protocol.MeetingID]*meeting
	calls    map[string]*call
	watchers map[*session]struct{} // sessions that asked for notifyUserStatus
	queues   *queues               // customer service (queue.go)
	seq      uint64                // changes applied (replica.go)
	stamps   uint64                // the last stamp (replica.go)
	origin   bool                  // the change being applied was made on this node
}

// user is everything the node knows of one user of an app, online or not.
type user struct {
	id      protocol.UserID
	nick    string
	dnd     int
	sess    *session // nil when offline
	meeting *meeting
	media   MediaPeer        // the session's media, nil without an SFU
	calls   map[string]*call // calls and invites this user rings or takes part in
	shown   protocol.UserStatus
	token   *tokenWatch // the JWT of the session, nil after a login by secret

	// dndMu serialises the user's DND writes (database, then memory), so
	// that the two agree whichever session of the user writes.
	dndMu sync.Mutex
}

type meeting struct {
	info    protocol.MeetInfo
	members map[protocol.UserID]*member
}

// member is one user in a meeting: what others see of it, and its media
// state beyond MemberInfo.
type member struct {
	info   protocol.MemberInfo
	screen bool // sharing its screen
	media  bool // entered from a node with an SFU
	energy int  // speaking level last reported, 0-10
}

func newMeeting(info protocol.MeetInfo) *meeting {
	return &meeting{info: info, members: map[protocol.UserID]*member{}}
}

// call is a one-to-one call or an invite (callMoreParty) from caller to
// callee. It rings until accepted, refused, hung up or timed out.
type call struct {
	id          string
	invite      bool
	statusEvent string // for invites: which status event the inviter reads
	caller      *user
	callee      *user
	meet        protocol.MeetInfo
	accepted    bool
	gen         uint64      // the app's change that rang it (app.seq)
	timer       *time.Timer // on the caller's node only
}

func newApp(cfg AppConfig, srv *Server) *app {
	return &app{
		cfg:      cfg,
		srv:      srv,
		users:    map[protocol.UserID]*user{},
		meetings: map[protocol.MeetingID]*meeting{},
		calls:    map[string]*call{},
		watchers: map[*session]struct{}{},
		queues:   newQueues(cfg.Queue),
	}
}

func (a *app) userLocked(id protocol.UserID) *user {
	u := a.users[id]
	if u == nil {
		u = &user{id: id, calls: map[string]*call{}}
		u.shown = protocol.UserStatus{UserID: id}
		a.users[id] = u
	}
	return u
}

// status is the user's presence as getUserStatus and notifyUserStatus show it.
func (u *user) status() protocol.UserStatus {
	st := protocol.UserStatus{UserID: u.id, DNDType: u.dnd, UserStatus: protocol.UserOffline}
	switch {
	case u.sess == nil:
	case u.meeting != nil:
		st.UserStatus = protocol.UserInMeeting
	case u.busy():
		st.UserStatus = protocol.UserBusy
	default:
		st.UserStatus = protocol.UserIdle
	}
	return st
}

// busy reports whether u rings or talks: it is the callee of any call or
// invite, or the caller of a one-to-one call. Inviting a third party does
// not make the inviter busy; inviting is what people in a call do.
func (u *user) busy() bool {
	for _, c := range u.calls {
		if c.callee == u || !c.invite {
			return true
		}
	}
	return false
}

// touchLocked publishes u's presence to the watchers if it changed.
func (a *app) touchLocked(u *user, ob *outbox) {
	st := u.status()
	if st == u.shown {
		return
	}
	u.shown = st
	ob.addAll(a.watchers, protocol.EventNotifyUserStatus, protocol.NotifyUserStatus{UserStatus: st})
}

func (a *app) allStatusLocked() []protocol.UserStatus {
	out := make([]protocol.UserStatus, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, u.status())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return out
}

// outbox collects events while the app lock is held; flush sends them
// after it is released, so no network write ever happens under a lock.
type outbox struct {
	notes []note
}

type note struct {
	s   *session
	msg []byte
}

func encodeEvent(method string, params any) []byte {
	m, err := protocol.NewNotification(method, params)
	if err != nil {
		panic(err) // our own event types always encode
	}
	b, _ := json.Marshal(m)
	return b
}

func (o *outbox) add(s *session, method string, params any) {
	if s == nil {
		return
	}
	o.notes = append(o.notes, note{s, encodeEvent(method, params)})
}

// addUser queues an event for u's session, if u is online.
func (o *outbox) addUser(u *user, method string, params any) {
	if u != nil {
		o.add(u.sess, method, params)
	}
}

func (o *outbox) addAll(to map[*session]struct{}, method string, params any) {
	if len(to) == 0 {
		return
	}
	b := encodeEvent(method, params)
	for s := range to {
		o.notes = append(o.notes, note{s, b})
	}
}

func (o *outbox) flush() {
	for _, n := range o.notes {
		n.s.send(n.msg)
	}
	o.notes = nil
}
