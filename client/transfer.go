package client

import (
	"context"
	"os"
	"sync"

	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/protocol"
)

// Transfer events, delivered to Options.Handler like the node's events and
// named after their CRVideo callbacks. Data is the datachannel event.
const (
	EventSendProgress     = "sendProgress"     // *datachannel.Progress: what the receiver has taken
	EventSendCmdRlst      = "sendCmdRlst"      // *datachannel.Result of SendCmd
	EventSendBufferRlst   = "sendBufferRlst"   // *datachannel.Result of SendBuffer
	EventSendFileRlst     = "sendFileRlst"     // *datachannel.Result of SendFile
	EventNotifyCmdData    = "notifyCmdData"    // *datachannel.CmdData
	EventNotifyBufferData = "notifyBufferData" // *datachannel.BufferData
	EventNotifyFileData   = "notifyFileData"   // *datachannel.FileData: a verified file in Options.TransferDir
	EventNotifyCancelSend = "notifyCancelSend" // *datachannel.Cancelled: a transfer to this user was abandoned
)

// transferEvent names a datachannel event for the Handler.
func transferEvent(ev datachannel.Event) Event {
	switch e := ev.(type) {
	case *datachannel.Progress:
		return Event{Method: EventSendProgress, Data: e}
	case *datachannel.Result:
		m := map[datachannel.Kind]string{datachannel.KindCmd: EventSendCmdRlst, datachannel.KindBuffer: EventSendBufferRlst,
			datachannel.KindFile: EventSendFileRlst}[e.Kind]
		return Event{Method: m, Data: e}
	case *datachannel.CmdData:
		return Event{Method: EventNotifyCmdData, Data: e}
	case *datachannel.BufferData:
		return Event{Method: EventNotifyBufferData, Data: e}
	case *datachannel.FileData:
		return Event{Method: EventNotifyFileData, Data: e}
	case *datachannel.Cancelled:
		return Event{Method: EventNotifyCancelSend, Data: e}
	}
	return Event{Method: "transfer", Data: ev}
}

// openData creates the transfer channel on a new up connection, before
// its first offer, and the endpoint that speaks the frames on it.
func (m *media) openData(pc *webrtc.PeerConnection) error {
	dc, err := pc.CreateDataChannel(datachannel.ChannelLabel, nil)
	if err != nil {
		return err
	}
	dir := m.c.opts.TransferDir
	if dir == "" {
		dir = os.TempDir()
	}
	ep, err := datachannel.NewEndpoint(dc, datachannel.Config{Dir: dir, Logger: m.c.log}, func(ev datachannel.Event) {
		m.touch()
		m.c.events.Push(transferEvent(ev))
	})
	if err != nil {
		return err
	}
	dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		if !msg.IsString {
			ep.Handle(msg.Data)
		}
	})
	ready := make(chan struct{})
	var once sync.Once
	dc.OnOpen(func() { once.Do(func() { close(ready) }) })
	dc.OnClose(func() { _ = ep.Close() })
	m.ep, m.dataReady = ep, ready // m.mu is held: see conn
	return nil
}

// endpoint returns the transfer endpoint once its channel is open,
// opening the up connection if needed. The caller sends on it before it
// releases the hold that keeps the connection from closing as idle.
func (c *Client) endpoint(ctx context.Context) (*datachannel.Endpoint, func(), error) {
	m, err := c.mediaSide()
	if err != nil {
		return nil, nil, err
	}
	m.hold()
	ep, err := m.ensureUp(ctx)
	if err != nil {
		m.release()
		return nil, nil, err
	}
	return ep, m.release, nil
}

// SendCmd sends a small command (at most 64 KiB) to another user of the
// app; the result arrives as sendCmdRlst. The task ID is returned at once.
func (c *Client) SendCmd(ctx context.Context, target protocol.UserID, data []byte) (string, error) {
	ep, release, err := c.endpoint(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	id, err := ep.SendCmd(target, data)
	return string(id), err
}

// SendBuffer sends data (at most 64 MiB) with progress (sendProgress) and
// a result (sendBufferRlst); CancelSend stops it.
func (c *Client) SendBuffer(ctx context.Context, target protocol.UserID, data []byte) (string, error) {
	ep, release, err := c.endpoint(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	id, err := ep.SendBuffer(target, data)
	return string(id), err
}

// SendFile streams the file at path (at most 4 GiB) to target, which gets
// it, verified, as notifyFileData; progress and the result (sendFileRlst)
// arrive here.
func (c *Client) SendFile(ctx context.Context, target protocol.UserID, path string) (string, error) {
	ep, release, err := c.endpoint(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	id, err := ep.SendFile(target, path)
	return string(id), err
}

// CancelSend stops a buffer or file transfer; the receiver gets
// notifyCancelSend and keeps nothing. Commands cannot be cancelled, nor a
// transfer whose every byte is already sent (1104): its result follows.
func (c *Client) CancelSend(ctx context.Context, taskID string) error {
	c.mu.Lock()
	m := c.media
	c.mu.Unlock()
	var ep *datachannel.Endpoint
	if m != nil {
		m.mu.Lock()
		ep = m.ep
		m.mu.Unlock()
	}
	if ep == nil { // no up connection: nothing is being sent
		return protocol.Errorf(protocol.TransIDInvalid, "no transfer %q under way", taskID)
	}
	return ep.CancelSend(datachannel.TaskID(taskID))
}
