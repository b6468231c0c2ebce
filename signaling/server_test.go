package signaling

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/crvnode/crvnode/protocol"
)

func TestAllowedOrigins(t *testing.T) {
	open := startNode(t, "", nil)
	h := http.Header{"Origin": {"https://customer.example"}}
	c, _, err := websocket.DefaultDialer.Dial(open.url(), h)
	if err != nil {
		t.Fatalf("any origin is allowed by default: %v", err)
	}
	c.Close()

	n := startNode(t, "", func(c *Config) { c.AllowedOrigins = []string{"https://app.acme.example"} })
	if _, resp, err := websocket.DefaultDialer.Dial(n.url(), h); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: err %v", err)
	}
	c, _, err = websocket.DefaultDialer.Dial(n.url(), http.Header{"Origin": {"https://APP.acme.example"}})
	if err != nil {
		t.Fatalf("allowed origin refused: %v", err)
	}
	c.Close()
}

func TestMetrics(t *testing.T) {
	n := startNode(t, "", nil)
	a, b := login(t, n, "alice"), login(t, n, "bob")
	m := createMeeting(t, a, "metrics", 0)
	a.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID}, nil)
	a.ok(protocol.MethodCall, protocol.CallParams{CallID: "c1", CalledUserID: "bob"}, nil)
	b.expectEvent(protocol.EventNotifyCallIn, nil)
	b.ok(protocol.MethodRejectCall, protocol.CallActionParams{CallID: "c1"}, nil)
	a.ok(protocol.MethodCall, protocol.CallParams{CallID: "c2", CalledUserID: "bob"}, nil)
	a.fails(protocol.ErrCallExist, protocol.MethodCall, protocol.CallParams{CallID: "c3", CalledUserID: "bob"})
	a.send(`{"jsonrpc":"2.0","id":99,"method":"noSuchMethod"}`)
	a.next()

	want := `
# HELP crvnode_calls_total Calls and invites that stopped ringing, by outcome.
# TYPE crvnode_calls_total counter
crvnode_calls_total{kind="call",outcome="rejected"} 1
# HELP crvnode_calls_ringing Calls and invites ringing now.
# TYPE crvnode_calls_ringing gauge
crvnode_calls_ringing 1
# HELP crvnode_sessions Logged-in users.
# TYPE crvnode_sessions gauge
crvnode_sessions 2
# HELP crvnode_meetings Meetings that exist (created and not destroyed).
# TYPE crvnode_meetings gauge
crvnode_meetings 1
# HELP crvnode_members Members in meetings.
# TYPE crvnode_members gauge
crvnode_members 1
`
	if err := testutil.GatherAndCompare(n.reg, strings.NewReader(want), "crvnode_calls_total", "crvnode_calls_ringing",
		"crvnode_sessions", "crvnode_meetings", "crvnode_members"); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(n.srv.metrics.requests.WithLabelValues("call", "601")); got != 1 {
		t.Fatalf("requests{call,601} = %v", got)
	}
	if got := testutil.ToFloat64(n.srv.metrics.requests.WithLabelValues("unknown", "-32601")); got != 1 {
		t.Fatalf("requests{unknown,-32601} = %v", got)
	}
}
