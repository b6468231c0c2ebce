package datachannel

import (
	"bytes"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// twoNodes is two relays, A and B, joined by a link on each: a pump per
// direction hands what one link's Next returns to the other's Receive, as
// a node's WebSocket between them does. Remote on each finds the users
// placed on the other node.
type twoNodes struct {
	a, b   *Relay
	la, lb *Link

	mu       sync.Mutex
	onA, onB map[peerKey]bool
	pumps    sync.WaitGroup
}

func newTwoNodes(t *testing.T, cfgA, cfgB RelayConfig) *twoNodes {
	t.Helper()
	n := &twoNodes{onA: make(map[peerKey]bool), onB: make(map[peerKey]bool)}
	cfgA.Remote = func(app string, user UserID) (*Link, bool) {
		return n.find(n.onB, app, user, func() *Link { return n.la })
	}
	cfgB.Remote = func(app string, user UserID) (*Link, bool) {
		return n.find(n.onA, app, user, func() *Link { return n.lb })
	}
	n.a, n.b = newTestRelay(t, cfgA), newTestRelay(t, cfgB)
	n.la, n.lb = n.a.NewLink(0), n.b.NewLink(0)
	n.pumps.Add(2)
	go n.pump(n.la, n.lb)
	go n.pump(n.lb, n.la)
	t.Cleanup(func() {
		n.drop()
		n.pumps.Wait()
	})
	return n
}

func (n *twoNodes) find(on map[peerKey]bool, app string, user UserID, link func() *Link) (*Link, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if on[peerKey{app, user}] {
		return link(), true
	}
	return nil, false
}

// place says that user of app is logged in on the node with users on.
func (n *twoNodes) place(on map[peerKey]bool, app string, user UserID) {
	n.mu.Lock()
	on[peerKey{app, user}] = true
	n.mu.Unlock()
}

func (n *twoNodes) pump(from, to *Link) {
	defer n.pumps.Done()
	for {
		msg, ok := from.Next()
		if !ok {
			return
		}
		if err := to.Receive(msg); err != nil {
			from.Close()
			to.Close()
			return
		}
	}
}

// drop is the connection between the nodes going away: each node closes
// its link.
func (n *twoNodes) drop() {
	n.la.Close()
	n.lb.Close()
}

// expectSoon waits for the next frame s gets, which must be of type typ.
func (s *side) expectSoon(t *testing.T, typ Type, check func(Frame) bool) Frame {
	t.Helper()
	select {
	case b := <-s.frames:
		f, err := Decode(b)
		if err != nil || f.Type != typ || (check != nil && !check(f)) {
			t.Fatalf("%s got %+v (%v), want %s", s.peer.User(), f, err, typ)
		}
		return f
	case <-time.After(5 * time.Second):
		t.Fatalf("%s got nothing, want %s", s.peer.User(), typ)
	}
	return Frame{}
}

// quietFor checks that s gets nothing for a moment.
func (s *side) quietFor(t *testing.T) {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	s.quiet(t)
}

// wantIdle waits until neither relay has a task and the links hold no
// channel for a remote user.
func (n *twoNodes) wantIdle(t *testing.T) {
	t.Helper()
	waitIdle(t, n.a)
	waitIdle(t, n.b)
	deadline := time.Now().Add(5 * time.Second)
	for n.la.Stats().Channels != 0 || n.lb.Stats().Channels != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("links keep channels: A %+v, B %+v", n.la.Stats(), n.lb.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, r := range []*Relay{n.a, n.b} {
		if s := r.Stats(); s.BufferedBytes != 0 {
			t.Fatalf("%d bytes still counted", s.BufferedBytes)
		}
	}
}

// TestLinkCommandsBuffersFiles: commands both ways, a buffer and a file
// larger than the window between users of two nodes arrive as from a
// user of the same node, with progress; the file, towards a slow
// receiver, holds at most one window on each node and on the link.
func TestLinkCommandsBuffersFiles(t *testing.T) {
	n := newTwoNodes(t, RelayConfig{}, RelayConfig{})
	alice := newClient(t, n.a, "app", "alice", Config{}, 0)
	// bob grants 1 MiB windows, which each relay clamps, and reads slowly.
	bob := newClient(t, n.b, "app", "bob", Config{Window: 1 << 20}, 2<<20)
	n.place(n.onA, "app", "alice")
	n.place(n.onB, "app", "bob")

	id, err := alice.ep.SendCmd("bob", []byte("héllo"))
	if err != nil {
		t.Fatal(err)
	}
	alice.wantResult(t, id, protocol.NoErr, 5*time.Second)
	got := bob.rec.until(t, 5*time.Second, isType[*CmdData])
	if c := got[len(got)-1].(*CmdData); c.From != "alice" || string(c.Data) != "héllo" {
		t.Fatalf("bob got %+v", c)
	}
	id, err = bob.ep.SendCmd("alice", []byte("back"))
	if err != nil {
		t.Fatal(err)
	}
	bob.wantResult(t, id, protocol.NoErr, 5*time.Second)
	got = alice.rec.until(t, 5*time.Second, isType[*CmdData])
	if c := got[len(got)-1].(*CmdData); c.From != "bob" || string(c.Data) != "back" {
		t.Fatalf("alice got %+v", c)
	}

	data := randomBytes(t, 600<<10)
	id, err = alice.ep.SendBuffer("bob", data)
	if err != nil {
		t.Fatal(err)
	}
	alice.wantResult(t, id, protocol.NoErr, 10*time.Second)
	got = bob.rec.until(t, 5*time.Second, isType[*BufferData])
	if b := got[len(got)-1].(*BufferData); b.From != "alice" || !bytes.Equal(b.Data, data) {
		t.Fatal("the buffer arrived changed")
	}

	content := randomBytes(t, 3<<20)
	id, err = alice.ep.SendFile("bob", writeFile(t, t.TempDir(), "big.bin", content))
	if err != nil {
		t.Fatal(err)
	}
	evs := alice.rec.until(t, 30*time.Second, resultOf(id))
	if res := lastResult(t, evs); res.Code != protocol.NoErr {
		t.Fatalf("file result %v", res.Code)
	}
	var last int64
	for _, ev := range evs {
		if p, ok := ev.(*Progress); ok && p.TaskID == id {
			if p.Sent < last || p.Total != int64(len(content)) {
				t.Fatalf("progress %+v after %d", p, last)
			}
			last = p.Sent
		}
	}
	if last != int64(len(content)) {
		t.Fatalf("progress ended at %d", last)
	}
	got = bob.rec.until(t, 5*time.Second, isType[*FileData])
	f := got[len(got)-1].(*FileData)
	if b, err := os.ReadFile(f.Path); err != nil || !bytes.Equal(b, content) || f.From != "alice" || f.Name != "big.bin" {
		t.Fatalf("file %+v arrived changed (%v)", f, err)
	}
	sa, sb, ls := n.a.Stats(), n.b.Stats(), n.la.Stats()
	t.Logf("peak held: node A %d, node B %d, link A→B %d bytes; window %d", sa.PeakBufferedBytes, sb.PeakBufferedBytes, ls.PeakQueued, DefaultWindow)
	if sa.PeakBufferedBytes > DefaultWindow || sb.PeakBufferedBytes > DefaultWindow {
		t.Errorf("a node held more than one window: A %d, B %d", sa.PeakBufferedBytes, sb.PeakBufferedBytes)
	}
	if sb.PeakBufferedBytes < DefaultWindow/2 {
		t.Errorf("B's peak %d: the slow receiver never filled the window", sb.PeakBufferedBytes)
	}
	if ls.PeakQueued > DefaultWindow+4096 { // the window and the chunks' headers
		t.Errorf("link A→B held %d bytes", ls.PeakQueued)
	}
	if ls.BytesOut < uint64(len(content)+len(data)) || n.lb.Stats().BytesIn != ls.BytesOut {
		t.Errorf("link counted %+v, B %+v", ls, n.lb.Stats())
	}
	n.wantIdle(t)
}

// TestLinkCancelBothWays: the sender's CancelSend reaches the receiver on
// the other node; a receiver that refuses, or goes away, ends the task at
// the sender on the other node.
func TestLinkCancelBothWays(t *testing.T) {
	n := newTwoNodes(t, RelayConfig{}, RelayConfig{})
	alice := newClient(t, n.a, "app", "alice", Config{}, 0)
	bob := newClient(t, n.b, "app", "bob", Config{MaxFile: 4 << 20}, 4<<20)
	n.place(n.onB, "app", "bob")
	src := writeFile(t, t.TempDir(), "f.bin", randomBytes(t, 3<<20))

	id, err := alice.ep.SendFile("bob", src)
	if err != nil {
		t.Fatal(err)
	}
	alice.rec.until(t, 10*time.Second, func(ev Event) bool { p, ok := ev.(*Progress); return ok && p.Sent > 0 })
	if err := alice.ep.CancelSend(id); err != nil {
		t.Fatal(err)
	}
	got := bob.rec.until(t, 5*time.Second, isType[*Cancelled])
	if c := got[len(got)-1].(*Cancelled); c.TaskID != id || c.From != "alice" || c.By != CancelBySender {
		t.Fatalf("bob heard %+v", c)
	}
	n.wantIdle(t)
	if ents := dirEntries(t, bob.dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}

	// bob refuses a file larger than he takes.
	id, err = alice.ep.SendFile("bob", writeFile(t, t.TempDir(), "huge.bin", randomBytes(t, 5<<20)))
	if err != nil {
		t.Fatal(err)
	}
	alice.wantResult(t, id, protocol.FileSizeUnsupport, 5*time.Second)
	n.wantIdle(t)

	// bob goes away mid-file.
	id, err = alice.ep.SendFile("bob", src)
	if err != nil {
		t.Fatal(err)
	}
	alice.rec.until(t, 10*time.Second, func(ev Event) bool { p, ok := ev.(*Progress); return ok && p.Sent > 0 })
	bob.close()
	alice.wantResult(t, id, protocol.SendFail, 5*time.Second)
	n.wantIdle(t)
}

// TestLinkDropFailsTasks: the connection between the nodes dropping
// mid-file fails the task on both: RESULT 1000 to the sender, CANCEL by
// node to the receiver; a task on the closed link fails at once.
func TestLinkDropFailsTasks(t *testing.T) {
	n := newTwoNodes(t, RelayConfig{}, RelayConfig{})
	alice := newClient(t, n.a, "app", "alice", Config{}, 0)
	bob := newClient(t, n.b, "app", "bob", Config{}, 1<<20)
	n.place(n.onB, "app", "bob")
	id, err := alice.ep.SendFile("bob", writeFile(t, t.TempDir(), "f.bin", randomBytes(t, 4<<20)))
	if err != nil {
		t.Fatal(err)
	}
	alice.rec.until(t, 10*time.Second, func(ev Event) bool { p, ok := ev.(*Progress); return ok && p.Sent > 0 })
	n.drop()
	alice.wantResult(t, id, protocol.SendFail, 5*time.Second)
	got := bob.rec.until(t, 5*time.Second, isType[*Cancelled])
	if c := got[len(got)-1].(*Cancelled); c.TaskID != id || c.By != CancelByNode || c.Code != protocol.SendFail {
		t.Fatalf("bob heard %+v", c)
	}
	waitIdle(t, n.a)
	waitIdle(t, n.b)
	if s := n.a.Stats(); s.Links != 0 || s.BufferedBytes != 0 {
		t.Fatalf("A after the drop: %+v", s)
	}
	id, err = alice.ep.SendCmd("bob", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	alice.wantResult(t, id, protocol.SendFail, 5*time.Second)
	if ents := dirEntries(t, bob.dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
}

// TestLinkStaysInItsApp: a task for a user of app x never reaches the
// user of that name in app y on the other node, even when the sender's
// node routes it there: the far node finds no such user in x, asks to
// wake (x, bob), and refuses it with 1102.
func TestLinkStaysInItsApp(t *testing.T) {
	w := newWaker(false)
	n := newTwoNodes(t, RelayConfig{}, RelayConfig{Wake: w.wake})
	alice := newClient(t, n.a, "x", "alice", Config{}, 0)
	bob := newClient(t, n.b, "y", "bob", Config{}, 0)
	n.place(n.onB, "x", "bob") // routed as if bob were in x
	id, err := alice.ep.SendCmd("bob", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	alice.wantResult(t, id, protocol.SendDataTargetInvalid, 5*time.Second)
	w.wantAsked(t, peerKey{"x", "bob"})
	bob.rec.none(t, 100*time.Millisecond)
	n.wantIdle(t)
}

// TestLinkWakesTheReceiver: a task to a user of the far node whose
// channel is not open waits there for it, as on one node.
func TestLinkWakesTheReceiver(t *testing.T) {
	w := newWaker(true)
	n := newTwoNodes(t, RelayConfig{}, RelayConfig{Wake: w.wake})
	alice := newClient(t, n.a, "app", "alice", Config{}, 0)
	n.place(n.onB, "app", "bob")
	data := randomBytes(t, 600<<10)
	id, err := alice.ep.SendBuffer("bob", data)
	if err != nil {
		t.Fatal(err)
	}
	w.wantAsked(t, peerKey{"app", "bob"})
	bob := newClient(t, n.b, "app", "bob", Config{}, 0)
	alice.wantResult(t, id, protocol.NoErr, 10*time.Second)
	got := bob.rec.until(t, 5*time.Second, isType[*BufferData])
	if b := got[len(got)-1].(*BufferData); b.From != "alice" || !bytes.Equal(b.Data, data) {
		t.Fatal("the buffer arrived changed")
	}
	n.wantIdle(t)
}

// TestLinkFrameRules: the far node sees the target as Peer first and
// shows the receiver the sender; a malformed frame, from a client or
// arriving on the link, fails its task on both nodes; a message that is
// no link message is an error for the transport; a task stalled at the
// far node is swept there, and its sender hears of it.
func TestLinkFrameRules(t *testing.T) {
	for _, bad := range []string{"from the sender", "on the link", "from the receiver"} {
		t.Run("malformed "+bad, func(t *testing.T) {
			n := newTwoNodes(t, RelayConfig{}, RelayConfig{})
			a, b := newSide(n.a, "app", "a"), newSide(n.b, "app", "b")
			n.place(n.onB, "app", "b")
			a.handle(t, Frame{Type: TypeOffer, TaskID: "t", Kind: KindBuffer, Peer: "b", Total: 1000})
			b.expectSoon(t, TypeOffer, func(f Frame) bool { return f.Peer == "a" && f.Total == 1000 })
			b.handle(t, Frame{Type: TypeCredit, TaskID: "t", Window: 4096})
			a.expectSoon(t, TypeCredit, func(f Frame) bool { return f.Window == 4096 })
			broken := []byte{byte(TypeChunk), 1, 't', 0, 1}
			switch bad {
			case "from the sender":
				a.peer.Handle(broken)
			case "on the link":
				if err := n.lb.Receive(appendLinkMessage(nil, "app", "a", "b", broken)); err != nil {
					t.Fatal(err)
				}
			case "from the receiver":
				b.peer.Handle([]byte{byte(TypeCredit), 1, 't', 0})
			}
			a.expectSoon(t, TypeResult, code(protocol.SendFail))
			b.expectSoon(t, TypeCancel, func(f Frame) bool { return f.By == CancelByNode && f.Code == protocol.SendFail })
			a.quietFor(t)
			b.quietFor(t)
			n.wantIdle(t)
		})
	}

	t.Run("not a link message", func(t *testing.T) {
		n := newTwoNodes(t, RelayConfig{}, RelayConfig{})
		for _, msg := range [][]byte{nil, {9}, {linkVersion, 0, 0}, appendLinkMessage(nil, "app", "", "b", []byte{1})} {
			if err := n.lb.Receive(msg); err == nil {
				t.Errorf("%x accepted", msg)
			}
		}
	})

	t.Run("stalled at the far node", func(t *testing.T) {
		n := newTwoNodes(t, RelayConfig{StallTimeout: -1}, RelayConfig{})
		a, b := newSide(n.a, "app", "a"), newSide(n.b, "app", "b")
		n.place(n.onB, "app", "b")
		a.handle(t, Frame{Type: TypeOffer, TaskID: "t", Kind: KindBuffer, Peer: "b", Total: 1000})
		b.expectSoon(t, TypeOffer, nil)
		n.b.Sweep(time.Now().Add(2 * DefaultStallTimeout))
		b.expectSoon(t, TypeCancel, func(f Frame) bool { return f.By == CancelByNode })
		a.expectSoon(t, TypeResult, code(protocol.SendFail))
		n.wantIdle(t)
	})
}

// TestLinkQueueBound: frames past the link's bound fail their task with
// 1000, as a send on a full data channel does.
func TestLinkQueueBound(t *testing.T) {
	r := newTestRelay(t, RelayConfig{Remote: nil})
	l := r.NewLink(100)
	defer l.Close()
	if err := l.send("app", "a", "b", make([]byte, 50)); err != nil {
		t.Fatal(err)
	}
	chunk := append([]byte{byte(TypeChunk)}, make([]byte, 60)...)
	if err := l.send("app", "a", "b", chunk); err != ErrLinkFull {
		t.Fatalf("past the bound: %v", err)
	}
	if err := l.send("app", "a", "b", []byte{byte(TypeResult), 0}); err != nil {
		t.Fatalf("a control frame past the bound: %v", err)
	}
	if msg, ok := l.Next(); !ok || len(msg) != 10+50 {
		t.Fatalf("next: %d bytes, %v", len(msg), ok)
	}
	l.Close()
	if _, ok := l.Next(); ok {
		t.Fatal("a closed link gave a message")
	}
	if err := l.send("app", "a", "b", []byte{1}); err != ErrLinkClosed {
		t.Fatalf("send on a closed link: %v", err)
	}
}

// TestLinkFullFailsTheTask: a frame the link cannot queue fails its task
// with 1000 at the sender.
func TestLinkFullFailsTheTask(t *testing.T) {
	var l *Link
	r := newTestRelay(t, RelayConfig{Remote: func(app string, user UserID) (*Link, bool) { return l, user == "bob" }})
	l = r.NewLink(2000) // nothing reads it: the other node is slow
	defer l.Close()
	alice := newClient(t, r, "app", "alice", Config{}, 0)
	small, err := alice.ep.SendCmd("bob", make([]byte, 1000))
	if err != nil {
		t.Fatal(err)
	}
	big, err := alice.ep.SendCmd("bob", make([]byte, 3000))
	if err != nil {
		t.Fatal(err)
	}
	alice.wantResult(t, big, protocol.SendFail, 5*time.Second)
	if s := l.Stats(); s.Queued > 2000 || s.Channels != 1 {
		t.Fatalf("link %+v", s)
	}
	l.Close()
	alice.wantResult(t, small, protocol.SendFail, 5*time.Second)
	waitIdle(t, r)
}
