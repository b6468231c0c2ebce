package client

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/crvnode/crvnode/protocol"
)

// drainEvents collects what the Handler gets until the client stops.
func drainEvents(t *testing.T, c *Client, log *eventLog) []Event {
	t.Helper()
	waitDone(t, c)
	var evs []Event
	for {
		select {
		case ev := <-log.ch:
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

func countLineOff(evs []Event, code protocol.Code) (n int) {
	for _, ev := range evs {
		if d, ok := ev.Data.(*protocol.LineOff); ok && ev.Method == protocol.EventLineOff && d.SdkEr == code {
			n++
		}
	}
	return n
}

// TestConnectionDrop checks that a dropped connection fails pending and
// later requests with 207 and tells the Handler once, after the events that
// came before it.
func TestConnectionDrop(t *testing.T) {
	log := newEventLog()
	node := newFakeNode(t)
	c, nc := node.dial(Options{Handler: log.handler})
	enter(t, c, nc, 4, protocol.MemberInfo{UserID: "me"})

	errc := make(chan error, 2)
	go func() { errc <- c.Do(testCtx(t), "first", nil, nil) }()
	go func() { errc <- c.Do(testCtx(t), "second", nil, nil) }()
	nc.recv()
	nc.recv()
	nc.event("beforeDrop", nil)
	nc.drop()
	for range 2 {
		if err := <-errc; protocol.CodeOf(err) != protocol.ConnectionLost {
			t.Errorf("pending request = %v, want code 207", err)
		}
	}
	evs := drainEvents(t, c, log)
	if len(evs) != 2 || evs[0].Method != "beforeDrop" || countLineOff(evs, protocol.ConnectionLost) != 1 {
		t.Errorf("events %+v, want beforeDrop then one lineOff 207", evs)
	}
	if err := c.Do(testCtx(t), "later", nil, nil); protocol.CodeOf(err) != protocol.ConnectionLost {
		t.Errorf("request after the drop = %v, want code 207", err)
	}
	if err := c.Notify("later", nil); protocol.CodeOf(err) != protocol.ConnectionLost {
		t.Errorf("notification after the drop = %v, want code 207", err)
	}
	if c.MeetingID() != 0 || len(c.Members()) != 0 {
		t.Error("members kept after the connection ended")
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close after a drop: %v", err)
	}
}

// TestNodeLineOff checks that no lineOff 207 is made up when the node said
// why it ended the session.
func TestNodeLineOff(t *testing.T) {
	log := newEventLog()
	node := newFakeNode(t)
	c, nc := node.dial(Options{Handler: log.handler})
	nc.event(protocol.EventLineOff, protocol.LineOff{SdkEr: protocol.UserBeenKickout})
	nc.drop()
	evs := drainEvents(t, c, log)
	if len(evs) != 1 || countLineOff(evs, protocol.UserBeenKickout) != 1 {
		t.Errorf("events %+v, want only the node's lineOff 10", evs)
	}
}

// TestCloseIdempotent checks Close: repeatable, concurrent, no lineOff,
// requests fail with 207, and no goroutine left behind.
func TestCloseIdempotent(t *testing.T) {
	log := newEventLog()
	node := newFakeNode(t)
	c, nc := node.dial(Options{Handler: log.handler})
	errc := make(chan error, 1)
	go func() { errc <- c.Do(context.Background(), "pending", nil, nil) }()
	nc.recvMethod("pending")

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	wg.Wait()
	// Done follows once the dispatcher has seen the end (Close does not wait
	// for it: a Handler may be the one calling Close).
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after Close returned")
	}
	if err := <-errc; protocol.CodeOf(err) != protocol.ConnectionLost {
		t.Errorf("pending request = %v, want code 207", err)
	}
	if err := c.Do(context.Background(), "after", nil, nil); protocol.CodeOf(err) != protocol.ConnectionLost {
		t.Errorf("request after Close = %v, want code 207", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if evs := drainEvents(t, c, log); len(evs) != 0 {
		t.Errorf("events after Close: %+v", evs)
	}
	// The node got a clean close, not a reset.
	if _, ok := <-nc.in; ok {
		t.Error("node got a message instead of the close")
	}
	if !websocket.IsCloseError(nc.readErr, websocket.CloseNormalClosure) {
		t.Errorf("node's read ended with %v, want a normal close", nc.readErr)
	}
	node.shutdown()
	goleak.VerifyNone(t)
}

// TestCloseFromHandler checks that the Handler may close its client.
func TestCloseFromHandler(t *testing.T) {
	node := newFakeNode(t)
	var self atomic.Pointer[Client]
	closed := make(chan error, 1)
	c, nc := node.dial(Options{Handler: func(ev Event) { closed <- self.Load().Close() }})
	self.Store(c)
	nc.event(protocol.EventLineOff, protocol.LineOff{SdkEr: protocol.ForcedCloseConnection})
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Close from the Handler did not return")
	}
	waitDone(t, c)
}

// TestDeadNodeDetected checks that a node that stops answering pings ends
// the connection with lineOff 207.
func TestDeadNodeDetected(t *testing.T) {
	log := newEventLog()
	node := newFakeNode(t)
	node.noRead = true
	c, _ := node.dial(Options{Handler: log.handler, PingInterval: 20 * time.Millisecond})
	evs := drainEvents(t, c, log)
	if countLineOff(evs, protocol.ConnectionLost) != 1 {
		t.Errorf("events %+v, want one lineOff 207", evs)
	}
}

// TestPingKeepsAlive checks that a node that answers pings keeps an idle
// connection open past the read timeout. It waits for the pings the node
// answered, not for a time, with an interval that leaves scheduling delays
// on a loaded machine far from the read timeout's slack.
func TestPingKeepsAlive(t *testing.T) {
	const interval = 400 * time.Millisecond // read timeout 1 s
	node := newFakeNode(t)
	pings := make(chan struct{}, 64)
	node.onPing = func() {
		select {
		case pings <- struct{}{}:
		default:
		}
	}
	c, nc := node.dial(Options{PingInterval: interval})
	for range 3 { // 3 intervals: past the read timeout
		select {
		case <-c.Done():
			t.Fatal("idle connection ended although the node answered pings")
		case <-pings:
		case <-time.After(testTimeout):
			t.Fatal("no ping")
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- c.Do(testCtx(t), "alive", nil, nil) }()
	r := nc.recvMethod("alive")
	nc.reply(r.msg.ID, nil)
	if err := <-errc; err != nil {
		t.Error(err)
	}
}

func TestNotify(t *testing.T) {
	node := newFakeNode(t)
	c, nc := node.dial(Options{})
	if err := c.Notify("hello", map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	r := nc.recvMethod("hello")
	if !r.msg.IsNotification() || string(r.msg.Params) != `{"a":1}` {
		t.Errorf("notification %s", r.raw)
	}
}

// TestCloseDropsQueuedEvents checks that after Close the Handler gets no
// more of the events that were waiting for it.
func TestCloseDropsQueuedEvents(t *testing.T) {
	release := make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	log := newEventLog()
	node := newFakeNode(t)
	entered := make(chan struct{}, 3)
	c, nc := node.dial(Options{Handler: func(ev Event) { entered <- struct{}{}; <-release; log.handler(ev) }})
	defer unblock() // on failure, before the cleanup's Close waits for the Handler
	for i := range 3 {
		nc.event("queued", i)
	}
	request(t, nc, "sync", func() error { return c.Do(testCtx(t), "sync", nil, nil) })
	select { // the Handler holds the first event; the other two wait in the queue
	case <-entered:
	case <-time.After(testTimeout):
		t.Fatal("the Handler was never called")
	}
	closed := make(chan struct{})
	go func() { _ = c.Close(); close(closed) }()
	select { // Close empties the queue at once; it does not wait for the Handler
	case <-closed:
	case <-time.After(testTimeout):
		t.Fatal("Close waited for the Handler")
	}
	unblock()
	<-c.Done()
	if evs := drainEvents(t, c, log); len(evs) != 1 {
		t.Errorf("Handler got %d events, want only the one it was in when Close came", len(evs))
	}
}
