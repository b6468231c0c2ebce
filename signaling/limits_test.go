package signaling

import (
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/crvnode/crvnode/protocol"
)

// A connection that does not log in within the login time is closed with
// 1008; a logged-in one is not; logging out starts the time again.
func TestLoginTimeout(t *testing.T) {
	const lt = 300 * time.Millisecond
	n := startNode(t, "", func(c *Config) { c.Limits.LoginTimeout = lt })

	idle := dial(t, n)
	start := time.Now()
	ce := idle.waitClosed()
	if ce == nil || ce.Code != websocket.ClosePolicyViolation || ce.Text != "login timeout" {
		t.Fatalf("close %v, want 1008 login timeout", ce)
	}
	if took := time.Since(start); took < lt-50*time.Millisecond {
		t.Fatalf("closed after %v, before the login time", took)
	}

	// Requests other than a login do not extend it.
	busy := dial(t, n)
	for range 2 {
		busy.fails(protocol.NotLogin, protocol.MethodGetMeetings, nil)
		time.Sleep(lt / 5)
	}
	if ce := busy.waitClosed(); ce == nil || ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("close %v, want 1008", ce)
	}

	in := login(t, n, "alice")
	time.Sleep(2 * lt)
	in.ok(protocol.MethodGetMeetings, nil, nil) // still served
	in.ok(protocol.MethodLogout, nil, nil)
	if ce := in.waitClosed(); ce == nil || ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("after logout: close %v, want 1008", ce)
	}
	if got := testutil.ToFloat64(n.srv.metrics.refused.WithLabelValues("login_timeout")); got != 3 {
		t.Fatalf("refused{login_timeout} = %v, want 3", got)
	}
}

// Past MaxConnections the upgrade is refused with 503, counting a client
// as soon as its handshake is answered; a closed connection frees its place.
func TestMaxConnections(t *testing.T) {
	n := startNode(t, "", func(c *Config) { c.Limits.MaxConnections = 2 })
	a := dial(t, n)
	dial(t, n)
	_, resp, err := websocket.DefaultDialer.Dial(n.url(), nil)
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third connection: %v, %v", err, resp)
	}
	if got := testutil.ToFloat64(n.srv.metrics.refused.WithLabelValues("max_connections")); got != 1 {
		t.Fatalf("refused{max_connections} = %v, want 1", got)
	}
	a.conn.Close()
	deadline := time.Now().Add(waitFor)
	for {
		c, _, err := websocket.DefaultDialer.Dial(n.url(), nil)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a place never freed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Handshakes at once cannot pass MaxConnections between them: each holds
// its place from the check on.
func TestMaxConnectionsConcurrent(t *testing.T) {
	const limit, dials = 3, 12
	n := startNode(t, "", func(c *Config) { c.Limits.MaxConnections = limit })
	var wg sync.WaitGroup
	var opened, refused atomic.Int32
	start := make(chan struct{})
	for range dials {
		wg.Go(func() {
			<-start
			c, resp, err := websocket.DefaultDialer.Dial(n.url(), nil)
			switch {
			case err == nil:
				opened.Add(1)
				t.Cleanup(func() { c.Close() })
			case resp != nil && resp.StatusCode == http.StatusServiceUnavailable:
				refused.Add(1)
			default:
				t.Errorf("dial: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if opened.Load() != limit || refused.Load() != dials-limit {
		t.Fatalf("%d opened and %d refused, want %d and %d", opened.Load(), refused.Load(), limit, dials-limit)
	}
}
