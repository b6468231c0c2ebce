package signaling

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// A snapshot is the shared state of every app as a node's copy has it
// after applying the log up to some entry: a node that joins a cluster
// starts from the newest one and applies only the entries after it, and
// the log before it can be trimmed. It holds what every node's copy
// agrees on, nothing of one node's own (its sessions' connections,
// tokens and media, its watchers, its timers, speaking levels): a node
// that restores one holds no session yet, so it has no timer to arm.

type snapState struct {
	Entries uint64    `json:"entries"` // entries of the log it includes
	Apps    []snapApp `json:"apps"`
}

type snapApp struct {
	ID       string          `json:"id"`
	Seq      uint64          `json:"seq"`
	Stamps   uint64          `json:"stamps"`
	Users    []snapUser      `json:"users"`
	Meetings []snapMeeting   `json:"meetings"`
	Calls    []snapCall      `json:"calls"`
	Queues   []snapQueue     `json:"queues"`
	Agents   []snapAgent     `json:"agents"`
	QueueSeq uint64          `json:"queueSeq"`
	Shown    []snapQueueSeen `json:"queueShown"`
}

type snapUser struct {
	ID    protocol.UserID     `json:"id"`
	Nick  string              `json:"nick,omitempty"`
	DND   int                 `json:"dnd,omitempty"`
	Node  string              `json:"node,omitempty"`
	Sess  uint64              `json:"sess,omitempty"` // 0: offline
	Meet  protocol.MeetingID  `json:"meet,omitempty"`
	Shown protocol.UserStatus `json:"shown"`
}

type snapMeeting struct {
	Info    protocol.MeetInfo `json:"info"`
	Members []snapMember      `json:"members"`
}

type snapMember struct {
	Info   protocol.MemberInfo `json:"info"`
	Screen bool                `json:"screen,omitempty"`
	Media  bool                `json:"media,omitempty"`
}

type snapCall struct {
	ID          string            `json:"id"`
	Invite      bool              `json:"invite,omitempty"`
	StatusEvent string            `json:"statusEvent,omitempty"`
	Caller      protocol.UserID   `json:"caller"`
	Callee      protocol.UserID   `json:"callee"`
	Meet        protocol.MeetInfo `json:"meet"`
	Accepted    bool              `json:"accepted,omitempty"`
	Gen         uint64            `json:"gen"`
}

type snapQueue struct {
	ID      int            `json:"id"`
	Waiting []snapCustomer `json:"waiting"`
}

type snapQueueSeen struct {
	ID    int                `json:"id"`
	Shown protocol.QueStatus `json:"shown"`
}

type snapCustomer struct {
	User  protocol.UserID `json:"user"`
	Since int64           `json:"since"` // Unix milliseconds
	Ext   string          `json:"ext,omitempty"`
	Agent protocol.UserID `json:"agent,omitempty"` // assigned to, until it answers
	AsGen uint64          `json:"asGen,omitempty"`
	Holds []snapHold      `json:"holds,omitempty"`
	Shown int             `json:"shown"`
}

type snapHold struct {
	Agent protocol.UserID `json:"agent"`
	Gen   uint64          `json:"gen"`
}

type snapAgent struct {
	User    protocol.UserID `json:"user"`
	Serving map[int]int     `json:"serving"` // queID → priority
	Idle    uint64          `json:"idle"`
	Served  *snapServed     `json:"served,omitempty"`
}

type snapServed struct {
	Queue int             `json:"queue"`
	Cust  protocol.UserID `json:"cust"`
	Gen   uint64          `json:"gen"`
}

// snapshot encodes every app's shared state. It runs between two entries
// of the log, on the goroutine that applies them.
func (srv *Server) snapshot() []byte {
	st := snapState{Entries: srv.repl.entries.Load()}
	for _, id := range slices.Sorted(maps.Keys(srv.apps)) {
		a := srv.apps[id]
		a.mu.Lock()
		st.Apps = append(st.Apps, a.snapshotLocked())
		a.mu.Unlock()
	}
	b, err := json.Marshal(st)
	if err != nil {
		panic(err) // plain data
	}
	return b
}

func (a *app) snapshotLocked() snapApp {
	sa := snapApp{ID: a.cfg.ID, Seq: a.seq, Stamps: a.stamps, QueueSeq: a.queues.seq}
	for _, id := range slices.Sorted(maps.Keys(a.users)) {
		u := a.users[id]
		su := snapUser{ID: id, Nick: u.nick, DND: u.dnd, Shown: u.shown}
		if u.sess != nil {
			su.Node, su.Sess = u.sess.node, u.sess.serial
		}
		if u.meeting != nil {
			su.Meet = u.meeting.info.ID
		}
		sa.Users = append(sa.Users, su)
	}
	for _, id := range slices.Sorted(maps.Keys(a.meetings)) {
		m := a.meetings[id]
		sm := snapMeeting{Info: m.info, Members: []snapMember{}}
		for _, uid := range slices.Sorted(maps.Keys(m.members)) {
			me := m.members[uid]
			sm.Members = append(sm.Members, snapMember{Info: me.info, Screen: me.screen, Media: me.media})
		}
		sa.Meetings = append(sa.Meetings, sm)
	}
	for _, id := range slices.Sorted(maps.Keys(a.calls)) {
		c := a.calls[id]
		sa.Calls = append(sa.Calls, snapCall{ID: id, Invite: c.invite, StatusEvent: c.statusEvent,
			Caller: c.caller.id, Callee: c.callee.id, Meet: c.meet, Accepted: c.accepted, Gen: c.gen})
	}
	qs := a.queues
	for _, q := range qs.list {
		sq := snapQueue{ID: q.info.QueID, Waiting: []snapCustomer{}}
		for _, c := range q.waiting {
			sc := snapCustomer{User: c.u.id, Since: c.since.UnixMilli(), Ext: c.ext, Shown: c.shown}
			if c.as != nil {
				sc.Agent, sc.AsGen = c.as.ag.u.id, c.as.gen
			}
			for u, h := range c.holds {
				sc.Holds = append(sc.Holds, snapHold{Agent: u.id, Gen: h.gen})
			}
			slices.SortFunc(sc.Holds, func(x, y snapHold) int { return cmp.Compare(x.Agent, y.Agent) })
			sq.Waiting = append(sq.Waiting, sc)
		}
		sa.Queues = append(sa.Queues, sq)
		sa.Shown = append(sa.Shown, snapQueueSeen{ID: q.info.QueID, Shown: q.shown})
	}
	for _, ag := range qs.sortedAgents() {
		sg := snapAgent{User: ag.u.id, Serving: map[int]int{}, Idle: ag.idle}
		for q, prio := range ag.serving {
			sg.Serving[q.info.QueID] = prio
		}
		if sv := ag.served; sv != nil {
			sg.Served = &snapServed{Queue: sv.q.info.QueID, Cust: sv.cust.id, Gen: sv.gen}
		}
		sa.Agents = append(sa.Agents, sg)
	}
	return sa
}

// restore replaces every app's shared state with a snapshot's, and
// returns the number of entries it includes. It runs before the node
// follows the log, while it holds no session.
func (srv *Server) restore(b []byte) (uint64, error) {
	var st snapState
	if err := json.Unmarshal(b, &st); err != nil {
		return 0, fmt.Errorf("signaling: snapshot: %w", err)
	}
	for _, sa := range st.Apps {
		a := srv.apps[sa.ID]
		if a == nil {
			// Nodes of one service share their configuration.
			return 0, fmt.Errorf("signaling: snapshot: app %q is not configured here", sa.ID)
		}
		a.mu.Lock()
		err := a.restoreLocked(&sa)
		a.mu.Unlock()
		if err != nil {
			return 0, fmt.Errorf("signaling: snapshot of app %q: %w", sa.ID, err)
		}
	}
	return st.Entries, nil
}

func (a *app) restoreLocked(sa *snapApp) error {
	fresh := newApp(a.cfg, a.srv)
	a.users, a.meetings, a.calls, a.queues = fresh.users, fresh.meetings, fresh.calls, fresh.queues
	a.seq, a.stamps = sa.Seq, sa.Stamps
	for _, sm := range sa.Meetings {
		m := newMeeting(sm.Info)
		for _, me := range sm.Members {
			m.members[me.Info.UserID] = &member{info: me.Info, screen: me.Screen, media: me.Media}
		}
		a.meetings[sm.Info.ID] = m
	}
	for _, su := range sa.Users {
		u := a.userLocked(su.ID)
		u.nick, u.dnd, u.shown = su.Nick, su.DND, su.Shown
		if su.Sess != 0 {
			u.sess = a.srv.stub(su.Node, su.Sess)
		}
		if su.Meet != 0 {
			if u.meeting = a.meetings[su.Meet]; u.meeting == nil {
				return fmt.Errorf("user %q in meeting %d, which is not there", su.ID, su.Meet)
			}
		}
	}
	for _, sc := range sa.Calls {
		caller, callee := a.users[sc.Caller], a.users[sc.Callee]
		if caller == nil || callee == nil {
			return fmt.Errorf("call %q between unknown users", sc.ID)
		}
		c := &call{id: sc.ID, invite: sc.Invite, statusEvent: sc.StatusEvent, caller: caller, callee: callee,
			meet: sc.Meet, accepted: sc.Accepted, gen: sc.Gen}
		a.calls[c.id] = c
		caller.calls[c.id], callee.calls[c.id] = c, c
	}
	qs := a.queues
	qs.seq = sa.QueueSeq
	lookup := func(id protocol.UserID) (*user, error) {
		if u := a.users[id]; u != nil {
			return u, nil
		}
		return nil, fmt.Errorf("queue user %q unknown", id)
	}
	for _, sg := range sa.Agents {
		u, err := lookup(sg.User)
		if err != nil {
			return err
		}
		ag := &agent{u: u, serving: map[*queue]int{}, idle: sg.Idle}
		for id, prio := range sg.Serving {
			q := qs.byID[id]
			if q == nil {
				return fmt.Errorf("queue %d is not configured here", id)
			}
			ag.serving[q] = prio
		}
		if sv := sg.Served; sv != nil {
			cust, err := lookup(sv.Cust)
			if err != nil {
				return err
			}
			ag.served = &served{q: qs.byID[sv.Queue], cust: cust, gen: sv.Gen}
		}
		qs.agents[u] = ag
	}
	for _, sq := range sa.Queues {
		q := qs.byID[sq.ID]
		if q == nil {
			return fmt.Errorf("queue %d is not configured here", sq.ID)
		}
		for _, sc := range sq.Waiting {
			u, err := lookup(sc.User)
			if err != nil {
				return err
			}
			c := &customer{u: u, q: q, since: time.UnixMilli(sc.Since), ext: sc.Ext, holds: map[*user]*hold{}, shown: sc.Shown}
			for _, h := range sc.Holds {
				hu, err := lookup(h.Agent)
				if err != nil {
					return err
				}
				c.holds[hu] = &hold{gen: h.Gen}
			}
			if sc.Agent != "" {
				ag := qs.agents[a.users[sc.Agent]]
				if ag == nil {
					return fmt.Errorf("customer %q assigned to %q, who is no agent", sc.User, sc.Agent)
				}
				as := &assignment{c: c, ag: ag, gen: sc.AsGen}
				c.as, ag.as = as, as
			}
			q.waiting = append(q.waiting, c)
			qs.customers[u] = c
		}
	}
	for _, s := range sa.Shown {
		if q := qs.byID[s.ID]; q != nil {
			q.shown = s.Shown
		}
	}
	return nil
}
