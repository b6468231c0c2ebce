package sfu

import (
	"sync"

	"github.com/crvnode/crvnode/protocol"
)

// pubKey names a publication in a room: whose, and which source.
type pubKey struct {
	peer   string
	source protocol.Source
}

// want is one subscription a peer should have.
type want struct {
	pub       *Publication
	maxHeight int
}

// Room is one meeting's media. Its mutex guards its peer set; each peer's
// open sources and watched videos are guarded by the peer's own mutex
// (taken after the room's). Any change recomputes what every member
// should receive and posts it to each member's actor.
type Room struct {
	sfu   *SFU
	key   string
	mu    sync.Mutex
	peers map[string]*Participant
	dead  bool // emptied and forgotten: joiners must fetch a new room
}

func newRoom(s *SFU, key string) *Room {
	return &Room{sfu: s, key: key, peers: map[string]*Participant{}}
}

// Join puts the peer in the room named key (a meeting), leaving any other.
func (p *Participant) Join(key string) {
	p.Leave()
	for {
		r := p.sfu.room(key)
		r.mu.Lock()
		if r.dead {
			r.mu.Unlock()
			continue
		}
		if old := r.peers[p.id]; old != nil && old != p {
			r.mu.Unlock()
			old.Leave() // a newer session of the same user replaces the old one
			continue
		}
		p.mu.Lock()
		closed := p.closed
		if !closed {
			p.room = r
			p.open = map[protocol.Source]bool{}
			p.watch = map[pubKey]int{}
		}
		p.mu.Unlock()
		if !closed {
			r.peers[p.id] = p
			r.updateLocked()
		}
		r.mu.Unlock()
		return
	}
}

// Leave takes the peer out of its room: nobody receives its media any
// more, its down connection closes.
func (p *Participant) Leave() {
	p.mu.Lock()
	r := p.room
	p.mu.Unlock()
	if r == nil {
		return
	}
	r.mu.Lock()
	p.mu.Lock()
	p.room, p.open, p.watch = nil, nil, nil
	p.mu.Unlock()
	if r.peers[p.id] == p {
		delete(r.peers, p.id)
	}
	r.updateLocked()
	empty := len(r.peers) == 0
	if empty {
		r.dead = true
	}
	r.mu.Unlock()
	if empty {
		p.sfu.dropRoom(r)
	}
	p.post(func() {
		p.closeDown()
		clear(p.noCodec)
	})
}

// SetSending says whether the node forwards the peer's source (its mic,
// camera or screen is open). Signaling owns that state; the SFU obeys it.
func (p *Participant) SetSending(source protocol.Source, on bool) {
	p.change(func() {
		if p.open != nil {
			p.open[source] = on
		}
	})
}

// Watch starts (on) or stops the peer receiving publisher's video source.
// maxHeight is the height it is shown at (0: unbounded); with simulcast it
// caps the layer sent.
func (p *Participant) Watch(publisher string, source protocol.Source, maxHeight int, on bool) {
	p.change(func() {
		if p.watch == nil {
			return
		}
		if on {
			p.watch[pubKey{publisher, source}] = maxHeight
		} else {
			delete(p.watch, pubKey{publisher, source})
		}
	})
}

// change applies f to the peer's room state under the locks and updates
// the room's subscriptions.
func (p *Participant) change(f func()) {
	p.mu.Lock()
	r := p.room
	p.mu.Unlock()
	if r == nil {
		return
	}
	r.mu.Lock()
	p.mu.Lock()
	if p.room == r {
		f()
	}
	p.mu.Unlock()
	r.updateLocked()
	r.mu.Unlock()
}

// publicationsChanged is called when one of p's publications starts or ends.
func (p *Participant) publicationsChanged() {
	p.change(func() {})
}

// updateLocked computes what every member should receive and posts it:
// every other member's audio whose mic is open, and the videos it watches
// whose camera or screen is open. Nothing is sent that nobody watches.
func (r *Room) updateLocked() {
	type offer struct {
		key pubKey
		pub *Publication
	}
	var open []offer
	for _, q := range r.peers {
		q.mu.Lock()
		for src, pub := range q.pubs {
			if q.open[src] {
				open = append(open, offer{pubKey{q.id, src}, pub})
			}
		}
		q.mu.Unlock()
	}
	for _, sub := range r.peers {
		wants := map[pubKey]want{}
		sub.mu.Lock()
		for _, o := range open {
			if o.key.peer == sub.id {
				continue
			}
			if o.pub.audio() {
				wants[o.key] = want{pub: o.pub}
			} else if h, ok := sub.watch[o.key]; ok {
				wants[o.key] = want{pub: o.pub, maxHeight: h}
			}
		}
		sub.mu.Unlock()
		sub.post(func() { sub.syncDown(wants) })
	}
}
