package client

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// eventSamples is one event of each known kind with the typed value the
// client must decode it to.
func eventSamples() []struct {
	method string
	data   any
} {
	meet := protocol.MeetInfo{ID: 9, Pswd: "p", Subject: "s", Creator: "a", MemberCount: 2, StartTime: 1700000000}
	return []struct {
		method string
		data   any
	}{
		{protocol.EventNotifyCallIn, &protocol.NotifyCallIn{CallID: "c1", MeetObj: meet, CallerID: "a", UsrExtDat: "x"}},
		{protocol.EventNotifyCallAccepted, &protocol.NotifyCallAccepted{CallID: "c1", MeetObj: meet, UsrExtDat: "y"}},
		{protocol.EventNotifyCallRejected, &protocol.NotifyCallRejected{CallID: "c1", SdkErr: protocol.ErrRefuse}},
		{protocol.EventNotifyCallHungup, &protocol.NotifyCallHungup{CallID: "c1", UsrExtDat: "z"}},
		{protocol.EventNotifyCallMorePartyStatus, &protocol.NotifyInviteStatus{InviteID: "i1", Status: protocol.InviteAccepted}},
		{protocol.EventNotifyInviteStatus, &protocol.NotifyInviteStatus{InviteID: "i2", Status: protocol.InviteNoAnswer}},
		{protocol.EventNotifyUserStatus, &protocol.NotifyUserStatus{UserStatus: protocol.UserStatus{UserID: "b", UserStatus: protocol.UserBusy, DNDType: 1}}},
		{protocol.EventUserEnterMeeting, &protocol.UserEnterMeeting{MemberInfo: protocol.MemberInfo{UserID: "b", NickName: "B", AudioStatus: 3}}},
		{protocol.EventUserLeftMeeting, &protocol.UserLeftMeeting{UserID: "b"}},
		{protocol.EventMeetingStopped, &protocol.MeetingStopped{MeetID: 9}},
		{protocol.EventMeetingDropped, &protocol.MeetingDropped{Reason: protocol.DropKickedOut}},
		{protocol.EventAutoAssignUser, &protocol.QueUser{QueID: 1, UserID: "c", NickName: "C", QueuingTime: 12, UsrExtDat: "x"}},
		{protocol.EventCancelAssignUser, &protocol.CancelAssignUser{QueID: 1, UserID: "c"}},
		{protocol.EventQueueStatusChanged, &protocol.QueStatus{QueID: 2, AgentNum: 3, WaitNum: 4, SrvNum: 1}},
		{protocol.EventQueuingInfoChanged, &protocol.QueuingInfo{QueID: 2, Position: 3, QueuingTime: 40}},
		{protocol.EventLineOff, &protocol.LineOff{SdkEr: protocol.UserBeenKickout}},
	}
}

// TestEventsTypedInOrder checks that each known event arrives as its typed
// struct, that events keep the node's order, and that a Handler that does
// not return holds up neither the reader nor the responses.
func TestEventsTypedInOrder(t *testing.T) {
	release := make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	log := newEventLog()
	node := newFakeNode(t)
	c, nc := node.dial(Options{Handler: func(ev Event) { <-release; log.handler(ev) }})
	defer unblock() // before the client's Close, which waits for the Handler

	samples := eventSamples()
	const rounds = 20
	for i := range rounds {
		for _, s := range samples[:len(samples)-1] {
			nc.event(s.method, s.data)
		}
		nc.event("notifyFutureThing", map[string]int{"seq": i})
	}
	nc.event(samples[len(samples)-1].method, samples[len(samples)-1].data)

	// The Handler is stuck on the first event; a request must still work.
	errc := make(chan error, 1)
	go func() { errc <- c.Do(testCtx(t), "ping", nil, nil) }()
	r := nc.recvMethod("ping")
	nc.reply(r.msg.ID, map[string]any{})
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("request while the Handler is blocked: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("a blocked Handler held up a response")
	}

	unblock()
	for i := range rounds {
		for _, s := range samples[:len(samples)-1] {
			ev := log.next(t)
			if ev.Method != s.method || !reflect.DeepEqual(ev.Data, s.data) {
				t.Fatalf("round %d: got %s %#v, want %s %#v", i, ev.Method, ev.Data, s.method, s.data)
			}
		}
		ev := log.next(t)
		raw, ok := ev.Data.(json.RawMessage)
		if ev.Method != "notifyFutureThing" || !ok || string(raw) != fmt.Sprintf(`{"seq":%d}`, i) {
			t.Fatalf("round %d: unknown event arrived as %s %T %v", i, ev.Method, ev.Data, ev.Data)
		}
	}
	last := samples[len(samples)-1]
	if ev := log.next(t); ev.Method != last.method || !reflect.DeepEqual(ev.Data, last.data) {
		t.Fatalf("got %s %#v, want the node's lineOff", ev.Method, ev.Data)
	}
}

// TestEventsBadParams checks that params that do not fit a known event's
// type are handed on raw instead of being lost.
func TestEventsBadParams(t *testing.T) {
	log := newEventLog()
	node := newFakeNode(t)
	_, nc := node.dial(Options{Handler: log.handler})
	nc.send(&protocol.Message{JSONRPC: protocol.Version, Method: protocol.EventNotifyCallIn,
		Params: json.RawMessage(`{"callID":5}`)})
	nc.send(&protocol.Message{JSONRPC: protocol.Version, Method: protocol.EventMeetingDropped})
	ev := log.next(t)
	if raw, ok := ev.Data.(json.RawMessage); !ok || string(raw) != `{"callID":5}` {
		t.Errorf("got %T %v", ev.Data, ev.Data)
	}
	ev = log.next(t)
	if d, ok := ev.Data.(*protocol.MeetingDropped); !ok || *d != (protocol.MeetingDropped{}) {
		t.Errorf("event without params: got %T %v", ev.Data, ev.Data)
	}
}

// TestMalformedMessagesIgnored checks that junk from the node neither ends
// the session nor reaches the Handler.
func TestMalformedMessagesIgnored(t *testing.T) {
	log := newEventLog()
	node := newFakeNode(t)
	c, nc := node.dial(Options{Handler: log.handler})
	for _, junk := range []string{`not json`, `[1,2]`, `{"jsonrpc":"2.0","id":"x","result":{}}`,
		`{"jsonrpc":"2.0","id":999,"result":{}}`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"askClient"}`, `{}`} {
		if err := nc.ws.WriteMessage(1, []byte(junk)); err != nil {
			t.Fatal(err)
		}
	}
	nc.event("marker", nil)
	if ev := log.next(t); ev.Method != "marker" {
		t.Fatalf("first event is %s, want the marker", ev.Method)
	}
	errc := make(chan error, 1)
	go func() { errc <- c.Do(testCtx(t), "still", nil, nil) }()
	r := nc.recvMethod("still")
	nc.reply(r.msg.ID, nil)
	if err := <-errc; err != nil {
		t.Errorf("request after junk: %v", err)
	}
}
