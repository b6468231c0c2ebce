package signaling

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/crvnode/crvnode/protocol"
)

func TestBadInputGetsCodesAndChangesNothing(t *testing.T) {
	n := startNode(t, "", nil)
	a := login(t, n, "alice")
	a.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	b := login(t, n, "bob")
	a.expectEvent(protocol.EventNotifyUserStatus, nil)

	cases := []struct {
		name, raw string
		code      protocol.Code
		id        string
	}{
		{"not JSON", `{"jsonrpc":"2.0",`, protocol.RPCParseError, "null"},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"getUserStatus"}]`, protocol.RPCInvalidRequest, "null"},
		{"no version", `{"id":1,"method":"getUserStatus"}`, protocol.RPCInvalidRequest, "1"},
		{"object id", `{"jsonrpc":"2.0","id":{},"method":"getUserStatus"}`, protocol.RPCInvalidRequest, "null"},
		{"unknown method", `{"jsonrpc":"2.0","id":"x","method":"formatDisk"}`, protocol.RPCMethodNotFound, `"x"`},
		{"params not object", `{"jsonrpc":"2.0","id":2,"method":"createMeeting","params":[1]}`, protocol.RPCInvalidParams, "2"},
		{"wrong type", `{"jsonrpc":"2.0","id":3,"method":"createMeeting","params":{"meetSubject":7}}`, protocol.RPCInvalidParams, "3"},
		{"extra param", `{"jsonrpc":"2.0","id":4,"method":"createMeeting","params":{"meetSubject":"x","cookie":"c"}}`, protocol.RPCInvalidParams, "4"},
		{"missing param", `{"jsonrpc":"2.0","id":5,"method":"call","params":{"calledUserID":"alice"}}`, protocol.RPCInvalidParams, "5"},
		{"null required", `{"jsonrpc":"2.0","id":6,"method":"destroyMeeting","params":{"meetID":null}}`, protocol.RPCInvalidParams, "6"},
		{"negative id type", `{"jsonrpc":"2.0","id":7,"method":"destroyMeeting","params":{"meetID":-1}}`, protocol.RPCInvalidParams, "7"},
		{"unknown callID", `{"jsonrpc":"2.0","id":8,"method":"hungupCall","params":{"callID":"zzz"}}`, protocol.InvalidCallID, "8"},
		{"unknown meeting", `{"jsonrpc":"2.0","id":9,"method":"enterMeeting","params":{"meetID":4294967295}}`, protocol.MeetNotExist, "9"},
		{"huge meetID", `{"jsonrpc":"2.0","id":10,"method":"enterMeeting","params":{"meetID":1e40}}`, protocol.RPCInvalidParams, "10"},
	}
	for _, tc := range cases {
		b.send(tc.raw)
		m := b.next()
		if m.Error == nil || m.Error.Code != tc.code || string(m.ID) != tc.id || m.Error.Message == "" {
			t.Errorf("%s: got %+v (error %+v), want code %d id %s", tc.name, m, m.Error, tc.code, tc.id)
		}
	}
	// A request without an id is a notification: it runs, nobody answers.
	b.send(`{"jsonrpc":"2.0","method":"setDNDStatus","params":{"DNDStatus":3}}`)
	expectStatus(t, a, "bob", protocol.UserIdle, 3)
	b.send(`{"jsonrpc":"2.0","method":"nope"}`)
	b.noEvent()
	if err := b.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if m := b.next(); m.Error == nil || m.Error.Code != protocol.RPCInvalidRequest {
		t.Fatalf("binary message answered %+v", m)
	}
	// Nothing else changed: bob is still logged in and idle, no meeting appeared.
	a.noEvent()
	var ms protocol.GetMeetingsResult
	b.ok(protocol.MethodGetMeetings, nil, &ms)
	if len(ms.Meetings) != 0 {
		t.Fatalf("bad input created meetings: %+v", ms)
	}
}

func TestOversizedMessageCloses1009(t *testing.T) {
	n := startNode(t, "", func(c *Config) { c.Limits.MaxMessageBytes = 1024 })
	a := login(t, n, "alice")
	a.send(`{"jsonrpc":"2.0","id":1,"method":"createMeeting","params":{"meetSubject":"` + strings.Repeat("x", 2048) + `"}}`)
	if ce := a.waitClosed(); ce == nil || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("close frame %v, want 1009", ce)
	}
	b := login(t, n, "bob") // the node goes on serving others; alice's session ends
	waitUntil(t, func() bool { return statusOf(userStatus(t, b), "alice").UserStatus == protocol.UserOffline })
}

func TestRateLimit(t *testing.T) {
	n := startNode(t, "", func(c *Config) { c.Limits.Rate, c.Limits.Burst = 1, 5 })
	a := login(t, n, "alice") // the login took one token
	limited := 0
	for i := 0; i < 8; i++ {
		if _, e := a.rpc(protocol.MethodGetUserStatus, nil); e != nil {
			if e.Code != protocol.ServerException {
				t.Fatalf("rate limit error %+v", e)
			}
			limited++
		}
	}
	if limited < 3 {
		t.Fatalf("only %d of 8 requests limited", limited)
	}
	// Flooding on while refused is abuse: the node closes the socket.
	for i := 0; i < 20; i++ {
		if a.conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"getUserStatus"}`)) != nil {
			break
		}
	}
	if ce := a.waitClosed(); ce == nil || ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("close frame %v, want 1008", ce)
	}
	// One connection closed, however many messages it had sent by then.
	if got := testutil.ToFloat64(n.srv.metrics.abuseCloses); got != 1 {
		t.Errorf("crvnode_rate_abuse_closes_total %v, want 1", got)
	}
}

func TestShutdownTellsClients(t *testing.T) {
	n := startNode(t, "", nil)
	a := login(t, n, "alice")
	anon := dial(t, n)
	if err := n.srv.Shutdown(timeoutCtx(t)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*wsClient{a, anon} {
		var off protocol.LineOff
		c.expectEvent(protocol.EventLineOff, &off)
		if off.SdkEr != protocol.ForcedCloseConnection {
			t.Fatalf("lineOff %+v", off)
		}
		if ce := c.waitClosed(); ce == nil || ce.Code != websocket.CloseGoingAway {
			t.Fatalf("close frame %v", ce)
		}
	}
	if _, _, err := websocket.DefaultDialer.Dial(n.url(), nil); err == nil {
		t.Fatal("a new connection was accepted after shutdown")
	}
}

// FuzzHandle feeds arbitrary messages to a logged-in session: every input
// gets well-formed JSON-RPC answers (or none) and nothing panics.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"createMeeting","params":{"meetSubject":"x","createPswd":1}}`,
		`{"jsonrpc":"2.0","id":"a","method":"enterMeeting","params":{"meetID":12345678,"pswd":""}}`,
		`{"jsonrpc":"2.0","id":2,"method":"call","params":{"callID":"c","calledUserID":"bob","meetObj":{"ID":1}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"login","params":{"appID":"acme","appSecret":"","nickName":"n","userID":"u","userAuthCode":"a.b.c"}}`,
		`{"jsonrpc":"2.0","method":"setDNDStatus","params":{"DNDStatus":1}}`,
		`{"jsonrpc":"2.0","id":4,"method":"startService","params":{"queID":1,"priority":1000}}`,
		`{"jsonrpc":"2.0","id":5,"method":"startQueuing","params":{"queID":2,"usrExtDat":"x"}}`,
		`{"jsonrpc":"2.0","id":6,"method":"acceptAssignUser","params":{"queID":1,"userID":"fuzz"}}`,
		`{"jsonrpc":"2.0","id":7,"method":"reqAssignUser"}`,
		`[1,2]`, `null`, `{}`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	store, err := OpenStore(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer store.Close()
	srv, err := New(Config{Apps: queueApps(nil), Store: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := newLink(nil, 16, srv.metrics.slowClients)
		s := newSession(srv, l, "fuzz", "")
		s.limiter = newBucket(1e9, 1e9)
		s.handle([]byte(`{"jsonrpc":"2.0","id":0,"method":"login","params":` +
			`{"appID":"acme","appSecret":"` + md5Hex("acme-secret") + `","nickName":"F","userID":"fuzz"}}`))
		l.out.drain()
		s.handle(data)
		for _, b := range l.out.drain() {
			var m protocol.Message
			if json.Unmarshal(b, &m) != nil || m.JSONRPC != "2.0" {
				t.Fatalf("bad answer %q to %q", b, data)
			}
		}
		s.finish(protocol.ConnectionLost)
		for _, a := range srv.apps {
			a.stopTimers()
		}
	})
}
