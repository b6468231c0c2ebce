package client

import (
	"encoding/json"
	"testing"

	"github.com/crvnode/crvnode/protocol"
)

// FuzzHandleMessage feeds the reader's message handling whatever a node
// might send: it must not panic, must answer the pending request it names,
// and must queue every event it accepts.
func FuzzHandleMessage(f *testing.F) {
	seeds := []string{
		`{"jsonrpc":"2.0","id":1,"result":{"meetObj":{"ID":3},"members":[{"userID":"a","nickName":"A"}]}}`,
		`{"jsonrpc":"2.0","id":1,"error":{"code":800,"message":"gone"}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"meetObj":{"ID":"3"},"members":{}}}`,
		`{"jsonrpc":"2.0","method":"userEnterMeeting","params":{"userID":"b","nickname":"B"}}`,
		`{"jsonrpc":"2.0","method":"userLeftMeeting","params":{"userID":"a"}}`,
		`{"jsonrpc":"2.0","method":"meetingStopped","params":{"meetID":3}}`,
		`{"jsonrpc":"2.0","method":"lineOff","params":{"sdkEr":"10"}}`,
		`{"jsonrpc":"2.0","method":"notifyCallIn","params":null}`,
		`{"jsonrpc":"2.0","method":"mystery","params":[1,2,3]}`,
		`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`,
		`{"id":99999999999999999999,"result":1}`,
		`[]`, `null`, `"x"`, `{`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// SignalingOnly: an enterMeeting result or upNeeded would start
		// opening media for a node that is not there.
		c := newClient(nil, Options{SignalingOnly: true}.withDefaults())
		p, err := c.register(1, protocol.MethodEnterMeeting, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.handleMessage(data)
		_ = c.Members()

		var msg protocol.Message
		if json.Unmarshal(data, &msg) != nil {
			return
		}
		if msg.IsResponse() && string(msg.ID) == "1" {
			select {
			case <-p.ch:
			default:
				t.Errorf("response to id 1 did not reach its request")
			}
		}
		c.events.Close()
		ev, ok := c.events.Pop()
		if msg.IsNotification() && !isNegotiation(msg.Method) && (!ok || ev.Method != msg.Method) {
			t.Errorf("event %q not queued (got %q, %v)", msg.Method, ev.Method, ok)
		}
	})
}
