package datachannel

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"os"

	"github.com/crvnode/crvnode/protocol"
)

// inTask is the Receiver state machine of one incoming buffer or file.
// Guarded by Endpoint.inMu.
type inTask struct {
	id       TaskID
	kind     Kind
	from     UserID
	name     string
	total    int64
	received int64 // bytes taken (written to the file or the buffer)
	credited int64 // taken as of the last CREDIT
	limit    int64 // what the credit granted so far allows
	hash     hash.Hash
	file     *os.File // a file's ".part"
	buf      []byte   // a buffer's bytes
}

// discard drops the task's partial content.
func (t *inTask) discard() {
	if t.file != nil {
		_ = t.file.Close()
		_ = os.Remove(t.file.Name())
		t.file = nil
	}
	t.buf = nil
}

// receive handles the frames of tasks this endpoint receives.
func (e *Endpoint) receive(f *Frame) {
	e.inMu.Lock()
	defer e.inMu.Unlock()
	if e.closed.Load() {
		return
	}
	if f.Type == TypeCmd {
		e.onCmd(f)
		return
	}
	if f.Type == TypeOffer {
		e.onOffer(f)
		return
	}
	t := e.in[f.TaskID]
	if t == nil {
		return // finished or never known: it crossed our RESULT or a CANCEL
	}
	switch f.Type {
	case TypeChunk:
		e.onChunk(t, f)
	case TypeEnd:
		e.onEnd(t, f)
	case TypeCancel:
		delete(e.in, t.id)
		t.discard()
		e.events.Push(&Cancelled{TaskID: t.id, From: t.from, By: f.By, Code: f.Code})
	}
}

func (e *Endpoint) onCmd(f *Frame) {
	if int64(len(f.Data)) > e.cfg.MaxCmd {
		e.reply(f.TaskID, protocol.SendCmdLarge)
		return
	}
	e.events.Push(&CmdData{TaskID: f.TaskID, From: f.Peer, Data: bytes.Clone(f.Data)})
	e.reply(f.TaskID, protocol.NoErr)
}

// onOffer accepts a transfer (a CREDIT opens the window) or refuses it
// with a RESULT. A repeated task ID is ignored: the node never forwards
// one, and answering would reach the first task's sender.
func (e *Endpoint) onOffer(f *Frame) {
	if _, dup := e.in[f.TaskID]; dup {
		return
	}
	total := int64(f.Total)
	switch {
	case len(e.in) >= e.cfg.MaxTasks:
		e.reply(f.TaskID, codeSendFail)
		return
	case f.Kind == KindBuffer && total > e.cfg.MaxBuffer:
		e.reply(f.TaskID, protocol.SendBufferLarge)
		return
	case f.Kind == KindFile && total > e.cfg.MaxFile:
		e.reply(f.TaskID, protocol.FileSizeUnsupport)
		return
	}
	t := &inTask{
		id: f.TaskID, kind: f.Kind, from: f.Peer, name: f.Name, total: total,
		limit: int64(e.cfg.Window), hash: sha256.New(),
	}
	if f.Kind == KindFile {
		file, err := createPart(e.cfg.Dir)
		if err != nil {
			e.log.Warn("datachannel: creating a partial file", "err", err)
			e.reply(f.TaskID, protocol.FileWriteErr)
			return
		}
		t.file = file
	} else {
		t.buf = make([]byte, 0, min(total, 1<<20))
	}
	e.in[t.id] = t
	e.queueCtl(&Frame{Type: TypeCredit, TaskID: t.id, Window: e.cfg.Window})
}

// onChunk takes bytes in order and within the credit, and grants more
// credit every quarter window and at the end.
func (e *Endpoint) onChunk(t *inTask, f *Frame) {
	end := int64(f.Offset) + int64(len(f.Data))
	if int64(f.Offset) != t.received || end > t.total || end > t.limit {
		e.log.Warn("datachannel: chunk out of order", "task", t.id, "offset", f.Offset, "received", t.received)
		e.abortIn(t, codeSendFail)
		return
	}
	if t.file != nil {
		if _, err := t.file.Write(f.Data); err != nil {
			e.log.Warn("datachannel: writing a received file", "task", t.id, "err", err)
			e.abortIn(t, protocol.FileWriteErr)
			return
		}
	} else {
		t.buf = append(t.buf, f.Data...)
	}
	t.hash.Write(f.Data)
	t.received = end
	if t.received-t.credited >= int64(e.cfg.Window/4) || t.received == t.total {
		t.credited = t.received
		t.limit = t.received + int64(e.cfg.Window)
		e.queueCtl(&Frame{Type: TypeCredit, TaskID: t.id, Taken: uint64(t.received), Window: e.cfg.Window})
	}
}

// onEnd verifies the content and only then announces it: a file gets its
// final name, a buffer is handed over, and the sender gets RESULT 0.
func (e *Endpoint) onEnd(t *inTask, f *Frame) {
	if t.received != t.total || !bytes.Equal(t.hash.Sum(nil), f.Hash[:]) {
		e.log.Warn("datachannel: transfer does not verify", "task", t.id, "received", t.received, "total", t.total)
		e.abortIn(t, codeSendFail)
		return
	}
	delete(e.in, t.id)
	if t.kind == KindBuffer {
		e.reply(t.id, protocol.NoErr)
		e.events.Push(&BufferData{TaskID: t.id, From: t.from, Data: t.buf})
		return
	}
	part := t.file.Name()
	err := t.file.Close()
	t.file = nil
	var path string
	if err == nil {
		path, err = finalize(e.cfg.Dir, part, t.name)
	}
	if err != nil {
		_ = os.Remove(part)
		e.log.Warn("datachannel: finishing a received file", "task", t.id, "err", err)
		e.reply(t.id, protocol.FileWriteErr)
		return
	}
	e.reply(t.id, protocol.NoErr)
	e.events.Push(&FileData{TaskID: t.id, From: t.from, Path: path, Name: t.name})
}

// abortIn fails an incoming transfer: partial content removed, the sender
// told with code, nothing announced here.
func (e *Endpoint) abortIn(t *inTask, code protocol.Code) {
	delete(e.in, t.id)
	t.discard()
	e.reply(t.id, code)
}

func (e *Endpoint) reply(id TaskID, code protocol.Code) {
	e.queueCtl(&Frame{Type: TypeResult, TaskID: id, Code: code})
}
