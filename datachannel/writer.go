package datachannel

import (
	"encoding/binary"
	"io"

	"github.com/crvnode/crvnode/protocol"
)

// job is the writer's next step: a ready frame, or a chunk or END of task
// to build outside the lock (reading the file and hashing are the
// writer's alone).
type job struct {
	frame []byte
	task  *outTask
	chunk bool
	end   bool
	off   int64
	n     int
}

// writeLoop is the only goroutine that sends on the Conn, so frames leave
// in the order they are chosen: a task's CANCEL always follows its last
// CHUNK, a RESULT its last CREDIT.
func (e *Endpoint) writeLoop() {
	defer close(e.writerDone)
	buf := make([]byte, 0, chunkHeadMax+MaxChunk)
	for {
		j, ok := e.next()
		if !ok {
			return
		}
		frame := j.frame
		switch {
		case j.chunk:
			if frame, ok = e.readChunk(j, buf); !ok {
				continue
			}
		case j.end:
			frame = endFrame(j.task)
		}
		if err := e.conn.Send(frame); err != nil {
			e.log.Warn("datachannel: send failed", "err", err)
			if j.task != nil {
				e.finishOut(j.task, codeSendFail, false, true)
			}
		}
	}
}

// next waits for something to send. While the Conn holds more than
// HighWater bytes only control frames go; the rest waits for the
// OnBufferedAmountLow signal, never for a timer.
func (e *Endpoint) next() (job, bool) {
	for {
		congested := e.conn.BufferedAmount() > e.cfg.HighWater
		e.mu.Lock()
		if e.closed.Load() {
			e.mu.Unlock()
			return job{}, false
		}
		j, ok := e.pickLocked(congested)
		e.mu.Unlock()
		if ok {
			return j, true
		}
		low := e.low
		if !congested {
			low = nil
		}
		select {
		case <-e.wake:
		case <-low:
		case <-e.quit:
			return job{}, false
		}
	}
}

// pickLocked chooses by priority: control frames, then commands, then the
// next transfer in round-robin order that may send something.
func (e *Endpoint) pickLocked(congested bool) (job, bool) {
	if len(e.ctl) > 0 {
		f := e.ctl[0]
		e.ctl[0] = nil
		e.ctl = e.ctl[1:]
		return job{frame: f}, true
	}
	if congested {
		return job{}, false
	}
	if len(e.cmds) > 0 {
		t := e.cmds[0]
		e.cmds[0] = nil
		e.cmds = e.cmds[1:]
		t.state = outEnded
		return job{frame: t.frame, task: t}, true
	}
	n := len(e.order)
	for i := range n {
		idx := (e.rr + i) % n
		if j, ok := e.stepLocked(e.order[idx]); ok {
			e.rr = idx + 1
			return j, true
		}
	}
	return job{}, false
}

// stepLocked is one transfer's next frame, if its state and credit allow.
func (e *Endpoint) stepLocked(t *outTask) (job, bool) {
	switch t.state {
	case outNew:
		t.state = outOffered
		return job{frame: t.frame, task: t}, true
	case outFlowing:
		if t.sent == t.total {
			t.state = outEnded
			return job{task: t, end: true}, true
		}
		n := min(int64(MaxChunk), t.total-t.sent, t.limit-t.sent)
		if n <= 0 {
			return job{}, false
		}
		return job{task: t, chunk: true, off: t.sent, n: int(n)}, true
	}
	return job{}, false
}

// readChunk builds a CHUNK frame in buf from the task's reader. A short
// read (the file shrank) or a read error fails the task with 1401.
func (e *Endpoint) readChunk(j job, buf []byte) ([]byte, bool) {
	t := j.task
	buf = append(buf[:0], byte(TypeChunk), byte(len(t.id)))
	buf = append(buf, t.id...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(j.off))
	head := len(buf)
	buf = buf[:head+j.n]
	if _, err := io.ReadFull(t.r, buf[head:]); err != nil {
		e.log.Warn("datachannel: reading a transfer", "task", t.id, "err", err)
		e.finishOut(t, protocol.FileReadErr, true, true)
		return nil, false
	}
	t.hash.Write(buf[head:])
	e.mu.Lock()
	defer e.mu.Unlock()
	if t.done {
		return nil, false
	}
	t.sent += int64(j.n)
	return buf, true
}

func endFrame(t *outTask) []byte {
	f := Frame{Type: TypeEnd, TaskID: t.id}
	t.hash.Sum(f.Hash[:0])
	b, _ := f.Encode() // a task ID that made an OFFER encodes
	return b
}
