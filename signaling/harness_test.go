package signaling

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/crvnode/crvnode/protocol"
)

const waitFor = 5 * time.Second

// testNode is a signaling server on a loopback httptest server.
type testNode struct {
	t     *testing.T
	srv   *Server
	http  *httptest.Server
	store *Store
	reg   *prometheus.Registry
	dir   string
}

func defaultTestApps() []AppConfig {
	return []AppConfig{{ID: "acme", Secret: "acme-secret"}, {ID: "globex", Secret: "globex-secret"},
		{ID: "secure", Secret: "secure-secret", RequireToken: true}, {ID: "plain", Secret: "plain-secret", NoTokens: true}}
}

// startNode starts a server with the test apps; tweak may change the config.
func startNode(t *testing.T, dir string, tweak func(*Config)) *testNode {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	store, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	// A lost connection logs its user off at once here, as in every test
	// of what that does; resume_test.go tests the grace window.
	cfg := Config{Apps: defaultTestApps(), Store: store, Registerer: reg, Limits: Limits{ResumeGrace: -1},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if tweak != nil {
		tweak(&cfg)
	}
	if cfg.Cluster == nil && os.Getenv(clusterOfOneEnv) != "" {
		cfg.Cluster = newMemLog().node()
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{t: t, srv: srv, http: httptest.NewServer(srv), store: store, reg: reg, dir: dir}
	t.Cleanup(n.stop)
	return n
}

func (n *testNode) stop() {
	if n.http == nil {
		return
	}
	n.http.Close()
	_ = n.srv.Shutdown(timeoutCtx(n.t))
	n.store.Close()
	n.http = nil
}

func (n *testNode) url() string { return "ws" + strings.TrimPrefix(n.http.URL, "http") + "/ws" }

// wsClient is a raw JSON-RPC client over a real WebSocket: it sees exactly
// what the node sends.
type wsClient struct {
	t      *testing.T
	conn   *websocket.Conn
	nextID int
	msgs   chan protocol.Message
	closed chan struct{}
	mu     sync.Mutex
	close  *websocket.CloseError
	events []protocol.Message // events seen while waiting for responses
}

func dial(t *testing.T, n *testNode) *wsClient {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(n.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &wsClient{t: t, conn: conn, msgs: make(chan protocol.Message, 1024), closed: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() { conn.Close(); <-c.closed })
	return c
}

func (c *wsClient) readLoop() {
	defer close(c.closed)
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				c.mu.Lock()
				c.close = ce
				c.mu.Unlock()
			}
			return
		}
		var m protocol.Message
		if err := json.Unmarshal(data, &m); err != nil {
			c.t.Errorf("node sent invalid JSON %q: %v", data, err)
			return
		}
		c.msgs <- m
	}
}

// send writes a raw text message.
func (c *wsClient) send(raw string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(raw)); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next message of any kind.
func (c *wsClient) next() protocol.Message {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-c.closed:
		select { // the reader queues every message before it closes
		case m := <-c.msgs:
			return m
		default:
		}
		c.t.Fatal("connection closed while waiting for a message")
	case <-time.After(waitFor):
		c.t.Fatal("no message from the node")
	}
	return protocol.Message{}
}

// rpc sends a request and waits for its response; events that arrive
// meanwhile are kept for expectEvent.
func (c *wsClient) rpc(method string, params any) (json.RawMessage, *protocol.Error) {
	c.t.Helper()
	c.send(string(c.nextRequest(method, params)))
	want, _ := json.Marshal(c.nextID)
	for {
		m := c.next()
		if m.IsNotification() {
			c.events = append(c.events, m)
			continue
		}
		if string(m.ID) != string(want) {
			c.t.Fatalf("response id %s, want %s", m.ID, want)
		}
		return m.Result, m.Error
	}
}

// ok calls a method that must succeed and decodes its result into out.
func (c *wsClient) ok(method string, params, out any) {
	c.t.Helper()
	res, e := c.rpc(method, params)
	if e != nil {
		c.t.Fatalf("%s: %v", method, e)
	}
	if out != nil {
		if err := json.Unmarshal(res, out); err != nil {
			c.t.Fatalf("%s result %s: %v", method, res, err)
		}
	}
}

// fails calls a method that must fail with code.
func (c *wsClient) fails(code protocol.Code, method string, params any) {
	c.t.Helper()
	_, e := c.rpc(method, params)
	if e == nil || e.Code != code {
		c.t.Fatalf("%s: got error %v, want code %d", method, e, code)
	}
}

// expectEvent waits for the next event, which must be named method, and
// decodes its params into out.
func (c *wsClient) expectEvent(method string, out any) {
	c.t.Helper()
	var m protocol.Message
	if len(c.events) > 0 {
		m, c.events = c.events[0], c.events[1:]
	} else {
		m = c.next()
	}
	if m.Method != method {
		c.t.Fatalf("got event %s %s, want %s", m.Method, m.Params, method)
	}
	if out != nil {
		if err := json.Unmarshal(m.Params, out); err != nil {
			c.t.Fatalf("%s params %s: %v", method, m.Params, err)
		}
	}
}

// noEvent checks that nothing arrives for a short while.
func (c *wsClient) noEvent() {
	c.t.Helper()
	if len(c.events) > 0 {
		c.t.Fatalf("unexpected event %s %s", c.events[0].Method, c.events[0].Params)
	}
	select {
	case m := <-c.msgs:
		c.t.Fatalf("unexpected message %s %s", m.Method, m.Params)
	case <-time.After(100 * time.Millisecond):
	}
}

// waitClosed waits until the node closes the connection and returns its
// close frame, if one came.
func (c *wsClient) waitClosed() *websocket.CloseError {
	c.t.Helper()
	for {
		select {
		case <-c.closed:
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.close
		case m := <-c.msgs:
			c.events = append(c.events, m)
		case <-time.After(waitFor):
			c.t.Fatal("connection not closed")
		}
	}
}

func loginParams(app, secret, user string) protocol.LoginParams {
	return protocol.LoginParams{AppID: app, AppSecret: md5Hex(secret), NickName: "nick-" + user, UserID: user}
}

// login dials and logs in user to app acme.
func login(t *testing.T, n *testNode, user string) *wsClient {
	t.Helper()
	return loginApp(t, n, "acme", "acme-secret", user)
}

func loginApp(t *testing.T, n *testNode, app, secret, user string) *wsClient {
	t.Helper()
	c := dial(t, n)
	var res protocol.LoginResult
	c.ok(protocol.MethodLogin, loginParams(app, secret, user), &res)
	if res.UserID != user {
		t.Fatalf("login result %+v", res)
	}
	return c
}

// nextRequest encodes a request with the client's next ID.
func (c *wsClient) nextRequest(method string, params any) []byte {
	c.t.Helper()
	c.nextID++
	req, err := protocol.NewRequest(int64(c.nextID), method, params)
	if err != nil {
		c.t.Fatal(err)
	}
	b, _ := json.Marshal(req)
	return b
}
