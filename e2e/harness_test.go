package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
	"github.com/crvnode/crvnode/signaling"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const eventWait = 5 * time.Second

// testApps are the tenants of the in-process nodes.
var testApps = []signaling.AppConfig{{ID: "acme", Secret: "acme-secret"}, {ID: "globex", Secret: "globex-secret"}}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// startNode starts a complete node in-process on an ephemeral loopback port.
func startNode(t testing.TB, dataDir string, fc node.FileConfig) *node.Node {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	if fc.Apps == nil {
		fc.Apps = testApps
	}
	n, err := node.Start(node.Config{HTTPAddr: "127.0.0.1:0", DataDir: dataDir, File: fc,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(ctxTimeout(t, 5*time.Second)) })
	return n
}

// user is a logged-in Go client whose events a test reads in order.
type user struct {
	t testing.TB
	*client.Client
	events chan client.Event
}

func connect(t testing.TB, url string) *user {
	t.Helper()
	u := &user{t: t, events: make(chan client.Event, 4096)}
	c, err := client.Dial(ctxTimeout(t, eventWait), url, client.Options{Handler: func(ev client.Event) {
		select {
		case u.events <- ev:
		default:
			t.Errorf("event queue full; dropped %s", ev.Method)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	u.Client = c
	t.Cleanup(func() { _ = c.Close() })
	return u
}

func loginAs(t testing.TB, url, app, secret, id string) *user {
	t.Helper()
	u := connect(t, url)
	if _, err := u.Login(ctxTimeout(t, eventWait), protocol.LoginParams{AppID: app, AppSecret: md5hex(secret),
		UserID: id, NickName: "Nick " + id}); err != nil {
		t.Fatalf("login %s: %v", id, err)
	}
	return u
}

func loginAcme(t testing.TB, n *node.Node, id string) *user {
	return loginAs(t, "ws://"+n.Addr()+"/ws", "acme", "acme-secret", id)
}

// next waits for the next event, which must be named method, and returns
// its typed data.
func (u *user) next(method string) any {
	u.t.Helper()
	select {
	case ev := <-u.events:
		if ev.Method != method {
			u.t.Fatalf("%s got event %s %+v, want %s", u.UserID(), ev.Method, ev.Data, method)
		}
		return ev.Data
	case <-time.After(eventWait):
		u.t.Fatalf("%s: no %s event", u.UserID(), method)
	}
	return nil
}

// quiet checks that no event arrives for a short while.
func (u *user) quiet() {
	u.t.Helper()
	select {
	case ev := <-u.events:
		u.t.Fatalf("%s got unexpected event %s %+v", u.UserID(), ev.Method, ev.Data)
	case <-time.After(100 * time.Millisecond):
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testLogger logs to the test when -v, and drops otherwise.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// skipTo reads events until one named method for which match (if given)
// is true and returns its data; who names the reader in a failure.
func skipTo(t testing.TB, events <-chan client.Event, who, method string, match func(any) bool, within time.Duration) any {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-events:
			if ev.Method == method && (match == nil || match(ev.Data)) {
				return ev.Data
			}
		case <-deadline:
			t.Fatalf("%s: no %s within %v", who, method, within)
		}
	}
}

// waitData skips events until one named method for which match is true,
// and returns its data.
func (u *user) waitData(method string, match func(any) bool) any {
	u.t.Helper()
	return skipTo(u.t, u.events, u.UserID(), method, match, eventWait)
}
