package signaling

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/crvnode/crvnode/protocol"
)

// FuzzResume sends one message on a new connection to a node holding a
// session that lost its connection; TOKEN in the input stands for that
// session's live resume token. Whatever arrives, the node answers with
// well-formed JSON-RPC, and a refused resume leaves the session waiting
// for another (unless its answer says it ended: 207 or 10).
func FuzzResume(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"resume","params":{"token":"TOKEN","appID":"acme","userID":"fuzz","lastSeq":1}}`,
		`{"jsonrpc":"2.0","id":2,"method":"resume","params":{"token":"TOKEN","appID":"acme","userID":"fuzz","lastSeq":0}}`,
		`{"jsonrpc":"2.0","id":3,"method":"resume","params":{"token":"TOKEN","appID":"globex","userID":"fuzz","lastSeq":1}}`,
		`{"jsonrpc":"2.0","id":4,"method":"resume","params":{"token":"TOKENx","appID":"acme","userID":"fuzz","lastSeq":99}}`,
		`{"jsonrpc":"2.0","id":5,"method":"resume","params":{"token":"TOKEN","appID":"acme","userID":"fuzz","lastSeq":-1}}`,
		`{"jsonrpc":"2.0","id":6,"method":"resume","params":{"token":7}}`,
		`{"jsonrpc":"2.0","id":7,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":8,"method":"restartDown"}`,
	} {
		f.Add(s)
	}
	store, err := OpenStore(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer store.Close()
	srv, err := New(Config{Apps: defaultTestApps(), Store: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		// A session logs in and loses its connection.
		l1 := newLink(nil, 64, srv.metrics.slowClients)
		old := newSession(srv, l1, "fuzz", "")
		old.handle([]byte(`{"jsonrpc":"2.0","id":0,"method":"login","params":` +
			`{"appID":"acme","appSecret":"` + md5Hex("acme-secret") + `","nickName":"F","userID":"fuzz"}}`))
		old.mu.Lock()
		tok := old.token
		old.mu.Unlock()
		old.connEnded(l1, io.ErrUnexpectedEOF)
		defer old.finish(protocol.ConnectionLost)

		l2 := newLink(nil, 1024, srv.metrics.slowClients)
		s := newSession(srv, l2, "fuzz", "")
		s.limiter = newBucket(1e9, 1e9)
		s.handle([]byte(strings.ReplaceAll(msg, "TOKEN", tok)))
		var answer *protocol.Message
		for _, b := range l2.out.drain() {
			var m protocol.Message
			if json.Unmarshal(b, &m) != nil || m.JSONRPC != "2.0" {
				t.Fatalf("bad answer %q to %q", b, msg)
			}
			if m.IsResponse() || m.Error != nil {
				answer = &m
			}
		}
		if next := s.takeHandoff(); next != nil {
			if next != old || answer == nil || answer.Error != nil {
				t.Fatalf("handed over to %p (old %p) with answer %+v", next, old, answer)
			}
			next.attach(l2)
			return
		}
		old.mu.Lock()
		ended, waiting := old.ended, old.link == nil && old.token == tok
		old.mu.Unlock()
		ends := answer != nil && answer.Error != nil && (answer.Error.Code == protocol.ConnectionLost || answer.Error.Code == protocol.UserBeenKickout)
		if !ended && !waiting || ended && !ends {
			t.Fatalf("after %q (answer %+v): session ended %v, waiting %v", msg, answer, ended, waiting)
		}
	})
}
