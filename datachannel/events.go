package datachannel

import (
	"github.com/crvnode/crvnode/protocol"
)

// Event is what an Endpoint reports to its Handler: one of *Progress,
// *Result (about tasks this endpoint sends), *CmdData, *BufferData,
// *FileData or *Cancelled (about tasks it receives).
type Event interface{ event() }

// Handler receives an Endpoint's events on one goroutine, one at a time,
// in order. It may call the Endpoint's methods, Close included.
type Handler func(Event)

// Progress is CRVideo_SendProgress(taskID, sendedLen, totalLen): Sent is
// what the receiver has taken so far. Per task it only grows, comes at
// most every Config.ProgressInterval, and a successful transfer always
// reports Sent == Total before its Result.
type Progress struct {
	TaskID TaskID
	Sent   int64
	Total  int64
}

// Result ends a task this endpoint sent: CRVideo_SendCmdRlst,
// SendBufferRlst or SendFileRlst(taskID, fileName, sdkEr) by Kind. Code 0
// means the receiver has the whole content (for a file: verified and
// renamed to its final name). A task cancelled with CancelSend gets no
// Result.
type Result struct {
	TaskID   TaskID
	Kind     Kind
	Target   UserID
	FileName string // SendFile's path argument, for SendFileRlst
	Code     protocol.Code
}

// CmdData is CRVideo_NotifyCmdData(sourceUserId, data).
type CmdData struct {
	TaskID TaskID
	From   UserID
	Data   []byte
}

// BufferData is CRVideo_NotifyBufferData(sourceUserId, data): the whole
// buffer, its SHA-256 verified.
type BufferData struct {
	TaskID TaskID
	From   UserID
	Data   []byte
}

// FileData is CRVideo_NotifyFileData(sourceUserId, tmpFile, orgFileName):
// the file is complete, verified, and at Path inside Config.Dir, under a
// unique name derived from SafeName(Name). The application should move or
// delete it. Name is the sender's name as sent: untrusted, never a path.
type FileData struct {
	TaskID TaskID
	From   UserID
	Path   string
	Name   string
}

// Cancelled is CRVideo_NotifyCancelSend(taskID): a transfer towards this
// endpoint was abandoned, by its sender or by the node (the sender went
// away, Code 1000). Its partial file is already removed.
type Cancelled struct {
	TaskID TaskID
	From   UserID
	By     CancelBy
	Code   protocol.Code
}

func (*Progress) event()   {}
func (*Result) event()     {}
func (*CmdData) event()    {}
func (*BufferData) event() {}
func (*FileData) event()   {}
func (*Cancelled) event()  {}

// signal wakes whoever waits on a capacity-1 channel, without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
