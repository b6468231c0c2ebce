package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/crvnode/crvnode/protocol"
)

// testTimeout bounds every wait in these tests, so a bug fails a test
// instead of hanging the run.
const testTimeout = 5 * time.Second

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeNode is a scripted node: a loopback WebSocket server whose test reads
// what the client sends and writes what the node would answer.
type fakeNode struct {
	t      *testing.T
	srv    *httptest.Server
	conns  chan *nodeConn
	noRead bool   // the node never reads, so it never answers pings
	onPing func() // if set, called for each ping the node answers

	mu    sync.Mutex
	all   []*nodeConn
	wg    sync.WaitGroup
	close sync.Once
}

// nodeConn is the node's side of one client connection. Only the test
// goroutine calls its methods.
type nodeConn struct {
	t  *testing.T
	ws *websocket.Conn
	in chan []byte // closed when the client's side ends

	readErr error       // why reading ended; set before in is closed
	header  http.Header // the client's handshake headers
}

// received is one message the client sent, raw and decoded.
type received struct {
	raw []byte
	msg protocol.Message
}

func newFakeNode(t *testing.T) *fakeNode {
	t.Helper()
	n := &fakeNode{t: t, conns: make(chan *nodeConn, 4)}
	up := websocket.Upgrader{}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		nc := &nodeConn{t: t, ws: ws, in: make(chan []byte, 1024), header: r.Header}
		n.mu.Lock()
		n.all = append(n.all, nc)
		n.mu.Unlock()
		if n.onPing != nil {
			ws.SetPingHandler(func(data string) error {
				n.onPing()
				_ = ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
				return nil // as gorilla's own handler: a failed pong is the reader's to notice
			})
		}
		if !n.noRead {
			n.wg.Add(1)
			go nc.readLoop(&n.wg)
		}
		n.conns <- nc
	}))
	t.Cleanup(n.shutdown)
	return n
}

func (n *fakeNode) url() string { return "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/ws" }

// shutdown closes every connection and the server and waits for the
// node's goroutines, so that goleak sees only the client's.
func (n *fakeNode) shutdown() {
	n.close.Do(func() {
		n.mu.Lock()
		for _, nc := range n.all {
			_ = nc.ws.Close()
		}
		n.mu.Unlock()
		n.wg.Wait()
		n.srv.Close()
	})
}

// dial connects a client and returns it with the node's side of the
// connection; the client is closed when the test ends.
func (n *fakeNode) dial(opts Options) (*Client, *nodeConn) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	opts.SignalingOnly = true // a scripted node answers no media negotiation
	c, err := Dial(ctx, n.url(), opts)
	if err != nil {
		n.t.Fatalf("Dial: %v", err)
	}
	n.t.Cleanup(func() { _ = c.Close() })
	select {
	case nc := <-n.conns:
		return c, nc
	case <-time.After(testTimeout):
		n.t.Fatal("node saw no connection")
		return nil, nil
	}
}

func (nc *nodeConn) readLoop(wg *sync.WaitGroup) {
	defer wg.Done()
	defer close(nc.in)
	for {
		_, data, err := nc.ws.ReadMessage()
		if err != nil {
			nc.readErr = err
			return
		}
		select {
		case nc.in <- data:
		default:
			nc.t.Errorf("node: inbox full, dropped %s", data)
		}
	}
}

// recv returns the next message from the client.
func (nc *nodeConn) recv() received {
	nc.t.Helper()
	select {
	case data, ok := <-nc.in:
		if !ok {
			nc.t.Fatal("node: client connection ended")
		}
		var r received
		r.raw = data
		if err := json.Unmarshal(data, &r.msg); err != nil {
			nc.t.Fatalf("node: client sent bad JSON %s: %v", data, err)
		}
		return r
	case <-time.After(testTimeout):
		nc.t.Fatal("node: no message from client")
		return received{}
	}
}

// recvMethod returns the next message and checks its method.
func (nc *nodeConn) recvMethod(method string) received {
	nc.t.Helper()
	r := nc.recv()
	if r.msg.Method != method {
		nc.t.Fatalf("node: got method %q, want %q (%s)", r.msg.Method, method, r.raw)
	}
	return r
}

func (nc *nodeConn) send(m *protocol.Message) {
	nc.t.Helper()
	if err := nc.ws.WriteJSON(m); err != nil {
		nc.t.Fatalf("node: write: %v", err)
	}
}

func (nc *nodeConn) reply(id json.RawMessage, result any) {
	nc.t.Helper()
	m, err := protocol.NewResult(id, result)
	if err != nil {
		nc.t.Fatal(err)
	}
	nc.send(m)
}

func (nc *nodeConn) replyError(id json.RawMessage, code protocol.Code, msg string) {
	nc.t.Helper()
	nc.send(protocol.NewError(id, &protocol.Error{Code: code, Message: msg}))
}

func (nc *nodeConn) event(method string, params any) {
	nc.t.Helper()
	m, err := protocol.NewNotification(method, params)
	if err != nil {
		nc.t.Fatal(err)
	}
	nc.send(m)
}

// drop ends the connection without a close frame, as a crashed node or a
// broken network would.
func (nc *nodeConn) drop() { _ = nc.ws.Close() }

// eventLog collects what the Handler gets.
type eventLog struct {
	ch chan Event
}

func newEventLog() *eventLog { return &eventLog{ch: make(chan Event, 1024)} }

func (l *eventLog) handler(ev Event) { l.ch <- ev }

// next returns the next event the Handler got.
func (l *eventLog) next(t *testing.T) Event {
	t.Helper()
	select {
	case ev := <-l.ch:
		return ev
	case <-time.After(testTimeout):
		t.Fatal("no event")
		return Event{}
	}
}

// waitDone waits until the client has stopped.
func waitDone(t *testing.T, c *Client) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(testTimeout):
		t.Fatal("client did not stop")
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}
