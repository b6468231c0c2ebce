package datachannel

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/crvnode/crvnode/protocol"
)

const (
	codeSendFail      = protocol.SendFail
	progressStepLimit = 256 << 10 // a progress event at least every 256 KiB (or 1 %)
)

// outState is where an outgoing task stands.
type outState uint8

const (
	outNew     outState = iota // OFFER not yet sent (a command: CMD not yet sent)
	outOffered                 // waiting for the first CREDIT
	outFlowing                 // sending CHUNKs within the credit
	outEnded                   // END (or CMD) sent, waiting for the RESULT
)

// outTask is the Sender state machine of one task.
type outTask struct {
	id     TaskID
	kind   Kind
	target UserID
	path   string // SendFile's argument, reported in the Result
	name   string // the file name sent in the OFFER
	total  int64
	frame  []byte // the encoded CMD or OFFER

	// Touched by the writer goroutine only.
	r    io.Reader
	hash hash.Hash

	// Guarded by Endpoint.mu.
	state        outState
	sent         int64 // bytes handed to the Conn
	taken        int64 // bytes the receiver has taken
	limit        int64 // bytes the credit allows in all
	done         bool
	lastProgress int64
	lastAt       time.Time
	finalSent    bool
	closer       io.Closer
}

// SendCmd sends data to target in one frame (CRVideo_SendCmd). The Result
// comes when the receiver has it. Commands overtake transfers and cannot
// be cancelled. Errors carry code 1100 (too large), 1102 (invalid target)
// or 1000 (closed, too many tasks).
func (e *Endpoint) SendCmd(target UserID, data []byte) (TaskID, error) {
	if int64(len(data)) > e.cfg.MaxCmd {
		return "", protocol.Errorf(protocol.SendCmdLarge, "command of %d bytes, limit %d", len(data), e.cfg.MaxCmd)
	}
	if !validPeer(target) {
		return "", protocol.Errorf(protocol.SendDataTargetInvalid, "invalid target user ID")
	}
	t := &outTask{id: newTaskID(), kind: KindCmd, target: target, total: int64(len(data))}
	frame, err := (&Frame{Type: TypeCmd, TaskID: t.id, Peer: target, Data: data}).Encode()
	if err != nil {
		return "", protocol.Errorf(protocol.ParamErr, "%v", err)
	}
	t.frame = frame
	if err := e.start(t); err != nil {
		return "", err
	}
	return t.id, nil
}

// SendBuffer sends data to target in chunks, with progress
// (CRVideo_SendBuffer). data must not change until the Result. Errors
// carry code 1101 (too large), 1102 or 1000.
func (e *Endpoint) SendBuffer(target UserID, data []byte) (TaskID, error) {
	if int64(len(data)) > e.cfg.MaxBuffer {
		return "", protocol.Errorf(protocol.SendBufferLarge, "buffer of %d bytes, limit %d", len(data), e.cfg.MaxBuffer)
	}
	t := &outTask{id: newTaskID(), kind: KindBuffer, target: target, total: int64(len(data)), r: bytes.NewReader(data)}
	if err := e.start(t); err != nil {
		return "", err
	}
	return t.id, nil
}

// SendFile sends the file at path to target in chunks, with progress
// (CRVideo_SendFile). Only its base name travels. Errors carry code 1400
// (no such file), 1401 (cannot read it), 1103 (not a regular file), 1405
// (too large), 1102 or 1000.
func (e *Endpoint) SendFile(target UserID, path string) (TaskID, error) {
	file, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", protocol.Errorf(protocol.FileNotExist, "%v", err)
		}
		return "", protocol.Errorf(protocol.FileReadErr, "%v", err)
	}
	st, err := file.Stat()
	switch {
	case err != nil:
		err = protocol.Errorf(protocol.FileReadErr, "%v", err)
	case !st.Mode().IsRegular():
		err = protocol.Errorf(protocol.SendFileFileInError, "%s is not a regular file", path)
	case st.Size() > e.cfg.MaxFile:
		err = protocol.Errorf(protocol.FileSizeUnsupport, "file of %d bytes, limit %d", st.Size(), e.cfg.MaxFile)
	}
	if err != nil {
		_ = file.Close()
		return "", err
	}
	t := &outTask{
		id: newTaskID(), kind: KindFile, target: target, path: path,
		name: SafeName(filepath.Base(path)), total: st.Size(), r: file, closer: file,
	}
	if err := e.start(t); err != nil {
		_ = file.Close()
		return "", err
	}
	return t.id, nil
}

// start registers a new outgoing task and wakes the writer.
func (e *Endpoint) start(t *outTask) error {
	if !validPeer(t.target) {
		return protocol.Errorf(protocol.SendDataTargetInvalid, "invalid target user ID")
	}
	if t.kind != KindCmd {
		f := Frame{Type: TypeOffer, TaskID: t.id, Kind: t.kind, Peer: t.target, Total: uint64(t.total), Name: t.name}
		var err error
		if t.frame, err = f.Encode(); err != nil {
			return protocol.Errorf(protocol.ParamErr, "%v", err)
		}
	}
	t.hash = sha256.New()
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.closed.Load():
		return protocol.Errorf(codeSendFail, "endpoint closed")
	case len(e.out) >= e.cfg.MaxTasks:
		return protocol.Errorf(codeSendFail, "%d tasks already under way", len(e.out))
	}
	e.out[t.id] = t
	if t.kind == KindCmd {
		e.cmds = append(e.cmds, t)
	} else {
		e.order = append(e.order, t)
	}
	signal(e.wake)
	return nil
}

// CancelSend abandons a buffer or file this endpoint is sending
// (CRVideo_CancelSend): the receiver is told and removes what it has.
// There is no Result for a cancelled task. Code 1104 (TRANSID_INVALID):
// no such task under way, it is a command, or every byte and the END
// have already gone, so the receiver may hold it already; the task's
// Result follows then and says how it ended.
func (e *Endpoint) CancelSend(id TaskID) error {
	e.mu.Lock()
	t := e.out[id]
	switch {
	case t == nil || t.kind == KindCmd:
		e.mu.Unlock()
		return protocol.Errorf(protocol.TransIDInvalid, "no transfer %q under way", id)
	case t.state == outEnded:
		e.mu.Unlock()
		return protocol.Errorf(protocol.TransIDInvalid, "transfer %q is sent in full; its result follows", id)
	}
	// Ended under the same lock that the writer takes to choose the END,
	// so a cancelled task never sends one and a task that sent one is
	// never reported cancelled.
	closer, offered := e.endOutLocked(t, protocol.NoErr, false)
	e.mu.Unlock()
	e.afterOut(t, protocol.NoErr, offered, closer)
	return nil
}

// finishOut ends t once: it leaves the tables and its file is closed; if
// sendCancel, the receiver gets a CANCEL with code (when it was offered);
// if report, the Handler gets a Result with code (after the final
// Progress when code is 0). It reports whether t was still under way.
func (e *Endpoint) finishOut(t *outTask, code protocol.Code, sendCancel, report bool) bool {
	e.mu.Lock()
	if t.done {
		e.mu.Unlock()
		return false
	}
	closer, offered := e.endOutLocked(t, code, report)
	e.mu.Unlock()
	e.afterOut(t, code, sendCancel && offered, closer)
	return true
}

// endOutLocked removes t, which is not done, from the tables and queues its
// Result if report. It returns the file to close and whether the receiver
// heard of t.
func (e *Endpoint) endOutLocked(t *outTask, code protocol.Code, report bool) (io.Closer, bool) {
	t.done = true
	delete(e.out, t.id)
	e.order = slices.DeleteFunc(e.order, func(o *outTask) bool { return o == t })
	e.cmds = slices.DeleteFunc(e.cmds, func(o *outTask) bool { return o == t })
	if report {
		if code == protocol.NoErr {
			e.finalProgressLocked(t)
		}
		e.events.Push(&Result{TaskID: t.id, Kind: t.kind, Target: t.target, FileName: t.path, Code: code})
	}
	return t.closer, t.state != outNew
}

// afterOut does what ending t needs outside the lock.
func (e *Endpoint) afterOut(t *outTask, code protocol.Code, sendCancel bool, closer io.Closer) {
	if sendCancel {
		e.queueCtl(&Frame{Type: TypeCancel, TaskID: t.id, By: CancelBySender, Code: code})
	}
	if closer != nil {
		_ = closer.Close()
	}
	signal(e.wake)
}

// onCredit applies a CREDIT from the receiver of one of our transfers.
func (e *Endpoint) onCredit(f *Frame) {
	e.mu.Lock()
	t := e.out[f.TaskID]
	if t == nil || t.kind == KindCmd || t.state == outNew {
		e.mu.Unlock()
		return
	}
	taken := int64(f.Taken)
	if taken < t.taken || taken > t.sent {
		e.mu.Unlock()
		e.log.Warn("datachannel: credit out of order", "task", t.id, "taken", taken, "sent", t.sent)
		e.finishOut(t, codeSendFail, true, true)
		return
	}
	t.taken = taken
	t.limit = max(t.limit, taken+int64(f.Window))
	if t.state == outOffered {
		t.state = outFlowing
	}
	e.progressLocked(t, time.Now())
	e.mu.Unlock()
	signal(e.wake)
}

// onResult ends one of our tasks with the receiver's (or the node's) code.
func (e *Endpoint) onResult(f *Frame) {
	e.mu.Lock()
	t := e.out[f.TaskID]
	if t == nil {
		e.mu.Unlock()
		return
	}
	early := f.Code == protocol.NoErr && t.kind != KindCmd && (t.state != outEnded || t.taken != t.total)
	e.mu.Unlock()
	if early {
		e.log.Warn("datachannel: success before the end", "task", t.id)
		e.finishOut(t, codeSendFail, true, true)
		return
	}
	e.finishOut(t, f.Code, false, true)
}

// progressLocked reports what the receiver has taken, if it moved by at
// least 1 % (or 256 KiB) and the last event is ProgressInterval old; the
// final amount is always reported.
func (e *Endpoint) progressLocked(t *outTask, now time.Time) {
	if t.taken <= t.lastProgress {
		return
	}
	if t.taken == t.total {
		e.finalProgressLocked(t)
		return
	}
	step := max(min(t.total/100, progressStepLimit), 1)
	if t.taken-t.lastProgress < step || now.Sub(t.lastAt) < e.cfg.ProgressInterval {
		return
	}
	t.lastProgress, t.lastAt = t.taken, now
	e.events.Push(&Progress{TaskID: t.id, Sent: t.taken, Total: t.total})
}

func (e *Endpoint) finalProgressLocked(t *outTask) {
	if t.kind == KindCmd || t.finalSent {
		return
	}
	t.finalSent = true
	t.lastProgress, t.lastAt = t.total, time.Now()
	e.events.Push(&Progress{TaskID: t.id, Sent: t.total, Total: t.total})
}

func newTaskID() TaskID { return TaskID(uuid.NewString()) }
