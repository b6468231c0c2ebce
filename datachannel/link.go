package datachannel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// DefaultLinkQueue bounds the bytes a Link holds for its peer node that
// its transport has not taken yet.
const DefaultLinkQueue = 32 << 20

// linkControlSlack is what control frames (END, CREDIT, RESULT, CANCEL)
// may queue past the bound, so that the end of a task still reaches the
// other node when data filled the queue.
const linkControlSlack = 1 << 20

// linkVersion starts every link message.
const linkVersion = 1

// MaxLinkMessage is the longest link message: the longest app ID, two
// user IDs and the longest frame.
const MaxLinkMessage = 1 + 2 + 1<<16 - 1 + 2*(1+MaxPeerLen) + MaxFrameLen

// Errors of a link's send queue: they fail the task whose frame it was,
// with 1000, as a client's data channel failing would.
var (
	ErrLinkFull   = errors.New("datachannel: the link to the other node is full")
	ErrLinkClosed = errors.New("datachannel: the link to the other node is closed")
)

// Link joins this node's relay to another node's, so that a user of one
// can send to a user of the other: one Link per connection between the
// two nodes (a WebSocket, say), whose transport carries link messages
// both ways: it hands each message it receives to Receive, and sends what
// Next returns, in order.
//
// A link message is one frame with its app, its source user (whose node
// sends it) and its destination user (on the node that receives it). On
// the receiving node the source user is a RelayChannel of the link, and
// the frame goes through that node's relay as if that user's client had
// sent it: the receiving node checks it, finds the destination among its
// own users (waking one whose channel is not open, RelayConfig.Wake) and
// holds the task to the same credit. Each relay keeps its own credit
// bound, so a transfer holds at most one window on each node and on the
// link. The frames a task's two nodes exchange never leave its app.
//
// When the link closes (Close: its connection dropped, the other node
// left), every task on it fails: RESULT 1000 to its sender on this node,
// CANCEL by node to its receiver here.
type Link struct {
	r   *Relay
	max int64

	// Guarded by Relay.mu.
	chans  map[linkPair]*RelayChannel
	closed bool

	qmu     sync.Mutex
	queue   [][]byte
	queued  int64
	peak    int64
	qclosed bool
	wake    chan struct{}
	done    chan struct{}

	bytesOut atomic.Uint64
	bytesIn  atomic.Uint64
}

// linkPair names the RelayChannel of one remote user, as seen by one user
// of this node.
type linkPair struct {
	app           string
	local, remote UserID
}

// LinkStats are a link's gauges and counters.
type LinkStats struct {
	Channels   int    // remote users with tasks under way
	Queued     int64  // bytes waiting for the transport
	PeakQueued int64  // the most that waited at once
	BytesOut   uint64 // link message bytes handed to the transport
	BytesIn    uint64 // link message bytes received
}

// NewLink returns an open link whose send queue holds at most maxQueue
// bytes (DefaultLinkQueue if 0); past it, the frame's task fails.
func (r *Relay) NewLink(maxQueue int64) *Link {
	if maxQueue <= 0 {
		maxQueue = DefaultLinkQueue
	}
	l := &Link{r: r, max: maxQueue, chans: make(map[linkPair]*RelayChannel),
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	r.mu.Lock()
	r.links[l] = struct{}{}
	r.mu.Unlock()
	return l
}

// channelLocked is the RelayChannel standing for remote user of app on
// this link, towards local; nil once the link is closed.
func (l *Link) channelLocked(app string, local, remote UserID) *RelayChannel {
	if l.closed {
		return nil
	}
	key := linkPair{app, local, remote}
	if p := l.chans[key]; p != nil {
		return p
	}
	p := newRelayChannel(l.r, app, remote, func(frame []byte) error { return l.send(app, local, remote, frame) })
	p.link, p.local, p.ready = l, local, true
	l.chans[key] = p
	return p
}

// proxiesLocked lists the link's channels.
func (l *Link) proxiesLocked() []*RelayChannel {
	ps := make([]*RelayChannel, 0, len(l.chans))
	for _, p := range l.chans {
		ps = append(ps, p)
	}
	return ps
}

// dropIdleLocked forgets a remote user's channel with no task left: the
// next frame between the two users makes a new one. Frames already
// queued on it are still sent.
func (p *RelayChannel) dropIdleLocked() {
	l := p.link
	if l == nil || len(p.in) > 0 || len(p.out) > 0 {
		return
	}
	key := linkPair{p.app, p.local, p.user}
	if l.chans[key] == p {
		delete(l.chans, key)
	}
}

// send queues one frame from local to remote for the other node.
func (l *Link) send(app string, local, remote UserID, frame []byte) error {
	if app == "" || len(app) > 1<<16-1 || !validPeer(local) || !validPeer(remote) {
		return fmt.Errorf("datachannel: app %q, users %q, %q: no link message", app, local, remote)
	}
	msg := appendLinkMessage(make([]byte, 0, 5+len(app)+len(local)+len(remote)+len(frame)), app, local, remote, frame)
	limit := l.max
	if len(frame) > 0 {
		switch Type(frame[0]) {
		case TypeCmd, TypeOffer, TypeChunk:
		default:
			limit += linkControlSlack
		}
	}
	l.qmu.Lock()
	defer l.qmu.Unlock()
	switch {
	case l.qclosed:
		return ErrLinkClosed
	case l.queued+int64(len(msg)) > limit:
		return ErrLinkFull
	}
	l.queue = append(l.queue, msg)
	l.queued += int64(len(msg))
	l.peak = max(l.peak, l.queued)
	signal(l.wake)
	return nil
}

// Next waits for the next message to send to the other node and returns
// it; false once the link is closed. One goroutine calls it, the
// transport's writer.
func (l *Link) Next() ([]byte, bool) {
	for {
		l.qmu.Lock()
		if l.qclosed {
			l.qmu.Unlock()
			return nil, false
		}
		if len(l.queue) > 0 {
			msg := l.queue[0]
			l.queue[0] = nil
			l.queue = l.queue[1:]
			l.queued -= int64(len(msg))
			l.qmu.Unlock()
			l.bytesOut.Add(uint64(len(msg)))
			return msg, true
		}
		l.qmu.Unlock()
		select {
		case <-l.wake:
		case <-l.done:
		}
	}
}

// Receive takes one message the other node sent. An error means the
// message was no link message (the other node does not speak this
// version): the transport should close the link. A frame that does not
// decode is the relay's to judge, as from a client: it fails the task it
// names.
func (l *Link) Receive(msg []byte) error {
	app, src, dst, frame, err := parseLinkMessage(msg)
	if err != nil {
		return err
	}
	l.bytesIn.Add(uint64(len(msg)))
	f, ferr := Decode(frame)
	if ferr == nil && (f.Type == TypeCmd || f.Type == TypeOffer) {
		// The sender's node put the sender in Peer; this relay looks for
		// the target there first, and puts the sender back.
		f.Peer = dst
		frame, ferr = f.Encode()
	}
	r := l.r
	var b batch
	r.mu.Lock()
	if p := l.channelLocked(app, dst, src); p != nil {
		r.handleLocked(p, frame, &f, ferr, nil, &b)
		p.dropIdleLocked()
	}
	r.mu.Unlock()
	b.flush()
	return nil
}

// Close closes the link and fails every task on it. It is idempotent.
func (l *Link) Close() {
	r := l.r
	var b batch
	var ps []*RelayChannel
	r.mu.Lock()
	if !l.closed {
		l.closed = true
		delete(r.links, l)
		ps = l.proxiesLocked()
		for _, p := range ps {
			r.closeLocked(p, &b)
		}
		clear(l.chans)
	}
	r.mu.Unlock()
	for _, p := range ps {
		p.qmu.Lock()
		p.queue = nil
		p.qmu.Unlock()
	}
	l.qmu.Lock()
	if !l.qclosed {
		l.qclosed = true
		l.queue, l.queued = nil, 0
		close(l.done)
	}
	l.qmu.Unlock()
	b.flush()
}

// Done is closed when the link is.
func (l *Link) Done() <-chan struct{} { return l.done }

// Stats returns a snapshot of the link's gauges and counters.
func (l *Link) Stats() LinkStats {
	l.r.mu.Lock()
	n := len(l.chans)
	l.r.mu.Unlock()
	l.qmu.Lock()
	defer l.qmu.Unlock()
	return LinkStats{Channels: n, Queued: l.queued, PeakQueued: l.peak, BytesOut: l.bytesOut.Load(), BytesIn: l.bytesIn.Load()}
}

// appendLinkMessage appends version u8, app (u16 length), source and
// destination user (u8 length each), then the frame.
func appendLinkMessage(b []byte, app string, src, dst UserID, frame []byte) []byte {
	b = append(b, linkVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(len(app)))
	b = append(b, app...)
	b = append(b, byte(len(src)))
	b = append(b, src...)
	b = append(b, byte(len(dst)))
	b = append(b, dst...)
	return append(b, frame...)
}

func parseLinkMessage(msg []byte) (app string, src, dst UserID, frame []byte, err error) {
	r := reader{b: msg}
	if v := r.u8(); r.err == nil && v != linkVersion {
		return "", "", "", nil, fmt.Errorf("datachannel: link message version %d, want %d", v, linkVersion)
	}
	app = string(r.bytes(int(r.u16())))
	src = UserID(r.bytes(int(r.u8())))
	dst = UserID(r.bytes(int(r.u8())))
	if r.err != nil || app == "" || !validPeer(src) || !validPeer(dst) {
		return "", "", "", nil, fmt.Errorf("datachannel: malformed link message")
	}
	return app, src, dst, r.rest(), nil
}
