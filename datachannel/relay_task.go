package datachannel

import (
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// relayTask is what the relay knows of one task. Guarded by Relay.mu.
type relayTask struct {
	id       TaskID
	kind     Kind
	src, dst *RelayChannel
	total    uint64
	sent     uint64 // CHUNK bytes forwarded to the receiver
	taken    uint64 // bytes the receiver has credited back
	limit    uint64 // what its credit allows in all
	cmdBytes uint64 // a command's payload, held until its RESULT
	ended    bool   // END forwarded
	done     bool
	last     time.Time // the task's last frame, either way: Sweep fails tasks idle too long
}

// inFlight is what the node may hold of t: forwarded, not yet credited.
func (t *relayTask) inFlight() int64 { return int64(t.sent-t.taken) + int64(t.cmdBytes) }

// fromSenderLocked handles CMD, OFFER, CHUNK, END and CANCEL from p.
func (r *Relay) fromSenderLocked(p *RelayChannel, f *Frame, frame []byte, route *Link, b *batch) {
	if f.Type == TypeCmd || f.Type == TypeOffer {
		r.startLocked(p, f, route, b)
		return
	}
	t := p.out[f.TaskID]
	if t == nil {
		r.stats.FramesStale++
		return
	}
	t.last = r.now()
	switch f.Type {
	case TypeChunk:
		n := uint64(len(f.Data))
		if t.kind == KindCmd || t.ended || f.Offset != t.sent || f.Offset+n > t.total || f.Offset+n > t.limit {
			r.log.Debug("datachannel: chunk out of order or credit", "user", p.user, "task", t.id,
				"offset", f.Offset, "sent", t.sent, "limit", t.limit)
			r.failLocked(t, protocol.SendFail, b)
			return
		}
		t.sent += n
		r.addBufferedLocked(int64(n))
		r.stats.BytesRelayed += n
		b.send(t.dst, frame, t)
	case TypeEnd:
		if t.kind == KindCmd || t.ended || t.sent != t.total {
			r.log.Debug("datachannel: end before all bytes", "user", p.user, "task", t.id)
			r.failLocked(t, protocol.SendFail, b)
			return
		}
		t.ended = true
		b.send(t.dst, frame, t)
	case TypeCancel:
		r.removeLocked(t)
		if r.unwaitLocked(t) {
			return // the receiver never heard of it
		}
		if f.By != CancelBySender && (p.link == nil || f.By != CancelByNode) { // another node's relay may cancel
			f.By = CancelBySender
			frame = mustEncode(f)
		}
		b.send(t.dst, frame, nil)
	}
}

// startLocked forwards a new CMD or OFFER to its target, with the sender
// as Peer, or answers it with a RESULT. route is the link to the target's
// node, when the target is there.
func (r *Relay) startLocked(p *RelayChannel, f *Frame, route *Link, b *batch) {
	dst, code := r.admitLocked(p, f, route, b)
	var fwd []byte
	if code == protocol.NoErr {
		f.Peer = p.user // the receiver learns who sends
		var err error
		if fwd, err = f.Encode(); err != nil { // the node attached a user ID the wire cannot carry
			r.log.Error("datachannel: forwarding", "user", p.user, "err", err)
			code = protocol.SendFail
		}
	}
	if code != protocol.NoErr {
		if dst != nil {
			dst.dropIdleLocked()
		}
		r.stats.TasksRefused++
		b.send(p, mustEncode(&Frame{Type: TypeResult, TaskID: f.TaskID, Code: code}), nil)
		return
	}
	t := &relayTask{id: f.TaskID, kind: f.Kind, src: p, dst: dst, total: f.Total, last: r.now()}
	if f.Type == TypeCmd {
		t.kind, t.total, t.cmdBytes = KindCmd, uint64(len(f.Data)), uint64(len(f.Data))
	}
	p.out[t.id], dst.in[t.id] = t, t
	r.stats.ActiveTasks++
	if !dst.standIn() { // a task waiting for its receiver's channel starts when it comes
		r.stats.TasksStarted++
		r.stats.BytesRelayed += t.cmdBytes
	}
	r.addBufferedLocked(int64(t.cmdBytes))
	b.send(dst, fwd, t)
}

// admitLocked checks a new task: a fresh task ID on both sides, the
// sender's task limit, the node's size limits, and a target attached in
// the sender's own app, on another node (route), or woken to attach.
func (r *Relay) admitLocked(p *RelayChannel, f *Frame, route *Link, b *batch) (*RelayChannel, protocol.Code) {
	size, limit, tooLarge := uint64(len(f.Data)), r.cfg.MaxCmd, protocol.SendCmdLarge
	if f.Type == TypeOffer {
		size, limit, tooLarge = f.Total, r.cfg.MaxBuffer, protocol.SendBufferLarge
		if f.Kind == KindFile {
			limit, tooLarge = r.cfg.MaxFile, protocol.FileSizeUnsupport
		}
	}
	switch {
	case p.out[f.TaskID] != nil:
		return nil, protocol.TransIDInvalid
	case len(p.out) >= r.cfg.MaxTasksPerPeer:
		return nil, protocol.SendFail
	case size > uint64(limit):
		return nil, tooLarge
	}
	dst := r.peers[peerKey{p.app, f.Peer}]
	if dst == nil || dst.closed {
		switch {
		case route != nil:
			if dst = route.channelLocked(p.app, p.user, f.Peer); dst == nil {
				return nil, protocol.SendFail // the link to the target's node is gone
			}
		default:
			if dst = r.waitLocked(p.app, f.Peer, b); dst == nil {
				return nil, protocol.SendDataTargetInvalid
			}
		}
	}
	if dst.in[f.TaskID] != nil {
		return nil, protocol.TransIDInvalid
	}
	return dst, protocol.NoErr
}

// fromReceiverLocked handles CREDIT and RESULT from p.
func (r *Relay) fromReceiverLocked(p *RelayChannel, f *Frame, frame []byte, b *batch) {
	t := p.in[f.TaskID]
	if t == nil {
		r.stats.FramesStale++
		return
	}
	t.last = r.now()
	if f.Type == TypeResult {
		if f.Code == protocol.NoErr && t.kind != KindCmd && (!t.ended || t.taken != t.total) {
			r.log.Debug("datachannel: success before the end", "user", p.user, "task", t.id)
			r.failLocked(t, protocol.SendFail, b)
			return
		}
		r.removeLocked(t)
		b.send(t.src, frame, nil)
		return
	}
	if t.kind == KindCmd || f.Taken < t.taken || f.Taken > t.sent {
		r.log.Debug("datachannel: credit out of order", "user", p.user, "task", t.id,
			"taken", f.Taken, "sent", t.sent)
		r.failLocked(t, protocol.SendFail, b)
		return
	}
	r.addBufferedLocked(-int64(f.Taken - t.taken))
	t.taken = f.Taken
	if f.Window > r.cfg.MaxWindow {
		f.Window = r.cfg.MaxWindow
		frame = mustEncode(f)
	}
	t.limit = max(t.limit, t.taken+uint64(f.Window))
	b.send(t.src, frame, nil)
}

// malformedLocked fails the task a bad frame names, if its header parses
// and names one of p's tasks in the frame's direction; else drops it.
func (r *Relay) malformedLocked(p *RelayChannel, frame []byte, b *batch) {
	r.stats.FramesMalformed++
	typ, id, ok := peekHeader(frame)
	if !ok {
		return
	}
	t := p.in[id]
	if typ.fromSender() {
		t = p.out[id]
	}
	if t != nil {
		r.log.Debug("datachannel: malformed frame", "user", p.user, "task", id, "type", typ)
		r.failLocked(t, protocol.SendFail, b)
	}
}

// failLocked ends t for both sides: RESULT code to its sender, CANCEL by
// node to its receiver.
func (r *Relay) failLocked(t *relayTask, code protocol.Code, b *batch) {
	r.removeLocked(t)
	r.stats.TasksFailed++
	b.send(t.src, mustEncode(&Frame{Type: TypeResult, TaskID: t.id, Code: code}), nil)
	if !r.unwaitLocked(t) {
		b.send(t.dst, mustEncode(&Frame{Type: TypeCancel, TaskID: t.id, By: CancelByNode, Code: code}), nil)
	}
}

// unwaitLocked forgets a removed task that was waiting for its receiver's
// channel: its frames leave the stand-in's queue, and a stand-in left with
// no task stops waiting. It reports whether t was waiting.
func (r *Relay) unwaitLocked(t *relayTask) bool {
	w := t.dst
	if !w.standIn() {
		return false
	}
	w.qmu.Lock()
	kept := w.queue[:0]
	for _, q := range w.queue {
		if q.task != t {
			kept = append(kept, q)
		}
	}
	clear(w.queue[len(kept):])
	w.queue = kept
	w.qmu.Unlock()
	if len(w.in) == 0 {
		r.retireLocked(w)
	}
	return true
}

func (r *Relay) removeLocked(t *relayTask) {
	if t.done {
		return
	}
	t.done = true
	delete(t.src.out, t.id)
	delete(t.dst.in, t.id)
	r.stats.ActiveTasks--
	r.addBufferedLocked(-t.inFlight())
	t.src.dropIdleLocked()
	t.dst.dropIdleLocked()
}

func (r *Relay) addBufferedLocked(n int64) {
	r.stats.BufferedBytes += n
	r.stats.PeakBufferedBytes = max(r.stats.PeakBufferedBytes, r.stats.BufferedBytes)
}

// mustEncode encodes a frame built from one that decoded, or from
// validated parts: it cannot fail.
func mustEncode(f *Frame) []byte {
	b, err := f.Encode()
	if err != nil {
		panic("datachannel: " + err.Error())
	}
	return b
}
