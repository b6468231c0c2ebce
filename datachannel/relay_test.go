package datachannel

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

func TestThrottledReceiverBoundsRelay(t *testing.T) {
	r := newTestRelay(t, RelayConfig{})
	alice := newClient(t, r, "app", "alice", Config{}, 0)
	// A receiver that grants 1 MiB windows: the relay clamps them.
	bob := newClient(t, r, "app", "bob", Config{Window: 1 << 20}, 2<<20)
	src := writeFile(t, t.TempDir(), "f.bin", randomBytes(t, 3<<20))
	id, err := alice.ep.SendFile("bob", src)
	if err != nil {
		t.Fatal(err)
	}
	var samples, maxSeen int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r.Stats().ActiveTasks > 0 || samples == 0 {
			maxSeen = max(maxSeen, r.BufferedBytes())
			samples++
			time.Sleep(time.Millisecond)
		}
	}()
	evs := alice.rec.until(t, 30*time.Second, resultOf(id))
	<-done
	if res := lastResult(t, evs); res.Code != protocol.NoErr {
		t.Fatalf("result %v", res.Code)
	}
	s := r.Stats()
	t.Logf("peak %d bytes at the relay, %d sampled in %d samples, %d queued towards bob at most",
		s.PeakBufferedBytes, maxSeen, samples, bob.down.peak())
	if s.PeakBufferedBytes > DefaultWindow || maxSeen > DefaultWindow {
		t.Errorf("relay held %d bytes (sampled %d), window %d", s.PeakBufferedBytes, maxSeen, DefaultWindow)
	}
	if s.PeakBufferedBytes < DefaultWindow/2 {
		t.Errorf("peak %d: the slow receiver never filled the window", s.PeakBufferedBytes)
	}
	// What the pipe holds is counted when the relay writes and uncounted
	// when bob reads, before bob's new credit lets the next chunk in: one
	// chunk and some frame headers of slack on top of the window.
	if q := bob.down.peak(); q > DefaultWindow+MaxChunk+4096 {
		t.Errorf("%d bytes queued towards the receiver", q)
	}
	if s.BufferedBytes != 0 {
		t.Errorf("%d bytes still counted", s.BufferedBytes)
	}
}

// TestCmdOvertakesFiles: four files share alice's slow uplink; commands
// from alice and from carol reach bob long before the files end.
func TestCmdOvertakesFiles(t *testing.T) {
	r := newTestRelay(t, RelayConfig{})
	alice := newClientLinks(t, r, "app", "alice", Config{}, 4<<20, 0)
	bob := newClient(t, r, "app", "bob", Config{}, 0)
	carol := newClient(t, r, "app", "carol", Config{}, 0)
	dir := t.TempDir()
	var files []TaskID
	for i := range 4 {
		id, err := alice.ep.SendFile("bob", writeFile(t, dir, fmt.Sprint("f", i), randomBytes(t, 8<<20)))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, id)
	}
	alice.rec.until(t, 5*time.Second, isType[*Progress])
	time.Sleep(100 * time.Millisecond) // let the uplink fill up
	for _, from := range []*client{alice, carol} {
		start := time.Now()
		if _, err := from.ep.SendCmd("bob", []byte("ping")); err != nil {
			t.Fatal(err)
		}
		evs := bob.rec.until(t, 5*time.Second, isType[*CmdData])
		lat := time.Since(start)
		for _, ev := range evs {
			if _, ok := ev.(*FileData); ok {
				t.Fatal("a file finished before the command")
			}
		}
		t.Logf("command from %s after %v", evs[len(evs)-1].(*CmdData).From, lat)
		if lat > 200*time.Millisecond {
			t.Errorf("command from %s took %v", from.peer.User(), lat)
		}
	}
	for _, id := range files {
		if err := alice.ep.CancelSend(id); err != nil {
			t.Errorf("file %s ended before the commands were measured: %v", id, err)
		}
	}
	waitIdle(t, r)
}

// TestTransfersShareTheLink: two buffers sent together progress together.
func TestTransfersShareTheLink(t *testing.T) {
	r := newTestRelay(t, RelayConfig{})
	alice := newClientLinks(t, r, "app", "alice", Config{ProgressInterval: time.Millisecond}, 8<<20, 0)
	newClient(t, r, "app", "bob", Config{}, 0)
	a, err := alice.ep.SendBuffer("bob", randomBytes(t, 4<<20))
	if err != nil {
		t.Fatal(err)
	}
	b, err := alice.ep.SendBuffer("bob", randomBytes(t, 4<<20))
	if err != nil {
		t.Fatal(err)
	}
	progress := map[TaskID]int64{}
	evs := alice.rec.until(t, 20*time.Second, isType[*Result])
	for _, ev := range evs {
		if p, ok := ev.(*Progress); ok {
			progress[p.TaskID] = p.Sent
		}
	}
	first := lastResult(t, evs).TaskID
	other := a
	if first == a {
		other = b
	}
	if progress[other] < 2<<20 {
		t.Errorf("when one buffer was done the other had %d of %d bytes", progress[other], 4<<20)
	}
	alice.rec.until(t, 20*time.Second, resultOf(other))
}

func TestHashMismatchAnnouncesNothing(t *testing.T) {
	r := newTestRelay(t, RelayConfig{})
	alice := newClient(t, r, "app", "alice", Config{}, 0)
	bob := newClient(t, r, "app", "bob", Config{}, 0)
	corrupted := false
	bob.down.mu.Lock()
	bob.down.mangle = func(b []byte) []byte {
		if !corrupted && len(b) > 100 && Type(b[0]) == TypeChunk {
			corrupted = true
			b[len(b)-1] ^= 0x40
		}
		return b
	}
	bob.down.mu.Unlock()
	src := writeFile(t, t.TempDir(), "f.bin", randomBytes(t, 1<<20))
	id, err := alice.ep.SendFile("bob", src)
	if err != nil {
		t.Fatal(err)
	}
	evs := alice.rec.until(t, 10*time.Second, resultOf(id))
	if res := lastResult(t, evs); res.Code != protocol.SendFail {
		t.Fatalf("result %v, want SENDFAIL", res.Code)
	}
	bob.rec.none(t, 100*time.Millisecond)
	if ents := dirEntries(t, bob.dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
	waitIdle(t, r)
}

// side is a raw client of the relay: frames the relay sends it queue up.
type side struct {
	peer   *RelayChannel
	frames chan []byte
}

func newSide(r *Relay, app string, user UserID) *side {
	s := &side{frames: make(chan []byte, 64)}
	s.peer = r.Attach(app, user, func(b []byte) error { s.frames <- b; return nil })
	return s
}

func (s *side) handle(t *testing.T, f Frame) { s.peer.Handle(mustFrame(t, f)) }

func (s *side) expect(t *testing.T, typ Type, check func(Frame) bool) {
	t.Helper()
	select {
	case b := <-s.frames:
		f, err := Decode(b)
		if err != nil || f.Type != typ || (check != nil && !check(f)) {
			t.Fatalf("%s got %+v (%v), want %s", s.peer.User(), f, err, typ)
		}
	default:
		t.Fatalf("%s got nothing, want %s", s.peer.User(), typ)
	}
}

func (s *side) quiet(t *testing.T) {
	t.Helper()
	select {
	case b := <-s.frames:
		f, _ := Decode(b)
		t.Fatalf("%s got an unexpected %+v", s.peer.User(), f)
	default:
	}
}

func code(c protocol.Code) func(Frame) bool { return func(f Frame) bool { return f.Code == c } }

// open starts task "t" from a to b with the given credit window.
func open(t *testing.T, a, b *side, total uint64, window uint32) {
	t.Helper()
	a.handle(t, Frame{Type: TypeOffer, TaskID: "t", Kind: KindBuffer, Peer: b.peer.User(), Total: total})
	b.expect(t, TypeOffer, func(f Frame) bool { return f.Peer == a.peer.User() && f.Total == total })
	if window > 0 {
		b.handle(t, Frame{Type: TypeCredit, TaskID: "t", Window: window})
		a.expect(t, TypeCredit, nil)
	}
}

func TestRelayFailsBadTransfers(t *testing.T) {
	chunk := func(off uint64, n int) Frame {
		return Frame{Type: TypeChunk, TaskID: "t", Offset: off, Data: make([]byte, n)}
	}
	cases := map[string]struct {
		window uint32
		steps  func(t *testing.T, a, b *side)
	}{
		"chunk before credit": {0, func(t *testing.T, a, b *side) { a.handle(t, chunk(0, 10)) }},
		"chunk beyond credit": {100, func(t *testing.T, a, b *side) { a.handle(t, chunk(0, 101)) }},
		"chunk past total":    {4096, func(t *testing.T, a, b *side) { a.handle(t, chunk(0, 1001)) }},
		"chunk with a gap": {4096, func(t *testing.T, a, b *side) {
			a.handle(t, chunk(0, 10))
			b.expect(t, TypeChunk, nil)
			a.handle(t, chunk(20, 10))
		}},
		"end too early": {4096, func(t *testing.T, a, b *side) {
			a.handle(t, Frame{Type: TypeEnd, TaskID: "t", Hash: sha256.Sum256(nil)})
		}},
		"credit for unsent bytes": {4096, func(t *testing.T, a, b *side) {
			b.handle(t, Frame{Type: TypeCredit, TaskID: "t", Taken: 1, Window: 10})
		}},
		"credit going back": {4096, func(t *testing.T, a, b *side) {
			a.handle(t, chunk(0, 10))
			b.expect(t, TypeChunk, nil)
			b.handle(t, Frame{Type: TypeCredit, TaskID: "t", Taken: 10, Window: 4096})
			a.expect(t, TypeCredit, nil)
			b.handle(t, Frame{Type: TypeCredit, TaskID: "t", Taken: 5, Window: 4096})
		}},
		"success before end": {4096, func(t *testing.T, a, b *side) {
			b.handle(t, Frame{Type: TypeResult, TaskID: "t"})
		}},
		"malformed from sender": {4096, func(t *testing.T, a, b *side) {
			a.peer.Handle([]byte{byte(TypeChunk), 1, 't', 0, 1})
		}},
		"malformed from receiver": {4096, func(t *testing.T, a, b *side) {
			b.peer.Handle([]byte{byte(TypeCredit), 1, 't', 0})
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := newTestRelay(t, RelayConfig{})
			a, b := newSide(r, "app", "a"), newSide(r, "app", "b")
			open(t, a, b, 1000, c.window)
			c.steps(t, a, b)
			a.expect(t, TypeResult, code(protocol.SendFail))
			b.expect(t, TypeCancel, func(f Frame) bool { return f.By == CancelByNode && f.Code == protocol.SendFail })
			a.quiet(t)
			b.quiet(t)
			if s := r.Stats(); s.ActiveTasks != 0 || s.BufferedBytes != 0 || s.TasksFailed != 1 {
				t.Errorf("stats %+v", s)
			}
			a.handle(t, chunk(0, 10)) // stale now: dropped
			b.quiet(t)
		})
	}
}

func TestRelayAnswersAndRewrites(t *testing.T) {
	r := newTestRelay(t, RelayConfig{MaxTasksPerPeer: 2})
	a, b, c := newSide(r, "app", "a"), newSide(r, "app", "b"), newSide(r, "app", "c")
	open(t, a, b, 1000, 0)

	a.handle(t, Frame{Type: TypeOffer, TaskID: "t", Kind: KindBuffer, Peer: "c", Total: 1})
	a.expect(t, TypeResult, code(protocol.TransIDInvalid)) // a's own task ID again
	c.handle(t, Frame{Type: TypeCmd, TaskID: "t", Peer: "b"})
	c.expect(t, TypeResult, code(protocol.TransIDInvalid)) // in use at b
	a.handle(t, Frame{Type: TypeCmd, TaskID: "u", Peer: "c", Data: []byte("x")})
	c.expect(t, TypeCmd, func(f Frame) bool { return f.Peer == "a" })
	a.handle(t, Frame{Type: TypeCmd, TaskID: "v", Peer: "c"})
	a.expect(t, TypeResult, code(protocol.SendFail)) // a has 2 tasks already
	c.handle(t, Frame{Type: TypeResult, TaskID: "u"})
	a.expect(t, TypeResult, code(protocol.NoErr))

	b.handle(t, Frame{Type: TypeCredit, TaskID: "t", Window: MaxWindow})
	a.expect(t, TypeCredit, func(f Frame) bool { return f.Window == DefaultWindow }) // clamped
	a.handle(t, Frame{Type: TypeCancel, TaskID: "t", By: CancelByNode, Code: 7})
	b.expect(t, TypeCancel, func(f Frame) bool { return f.By == CancelBySender && f.Code == 7 })

	a.peer.Handle([]byte{0x42})
	a.handle(t, Frame{Type: TypeChunk, TaskID: "t", Data: []byte("x")})
	b.handle(t, Frame{Type: TypeCredit, TaskID: "zz", Window: 1})
	a.quiet(t)
	b.quiet(t)
	s := r.Stats()
	if s.FramesMalformed != 1 || s.FramesStale != 2 || s.TasksRefused != 3 || s.ActiveTasks != 0 || s.Peers != 3 {
		t.Errorf("stats %+v", s)
	}

	// A new login of b takes over; the old channel closing does not
	// unregister the new one.
	b2 := newSide(r, "app", "b")
	b.peer.Close()
	a.handle(t, Frame{Type: TypeCmd, TaskID: "w", Peer: "b"})
	b2.expect(t, TypeCmd, nil)
	b2.peer.Close()
	a.expect(t, TypeResult, code(protocol.SendFail))
	a.handle(t, Frame{Type: TypeCmd, TaskID: "x", Peer: "b"})
	a.expect(t, TypeResult, code(protocol.SendDataTargetInvalid))
}

// FuzzRelay feeds the relay frame sequences from two clients (each frame
// prefixed by one byte: its length, its sender in the top bit) and checks
// that nothing panics and the byte count stays within the windows.
func FuzzRelay(f *testing.F) {
	var seed []byte
	add := func(from byte, fr Frame) {
		b, _ := fr.Encode()
		seed = append(seed, from<<7|byte(len(b)))
		seed = append(seed, b...)
	}
	add(0, Frame{Type: TypeOffer, TaskID: "t", Kind: KindBuffer, Peer: "b", Total: 3})
	add(1, Frame{Type: TypeCredit, TaskID: "t", Window: 2})
	add(0, Frame{Type: TypeChunk, TaskID: "t", Data: []byte("ab")})
	add(1, Frame{Type: TypeCredit, TaskID: "t", Taken: 2, Window: 2})
	add(0, Frame{Type: TypeChunk, TaskID: "t", Offset: 2, Data: []byte("c")})
	add(0, Frame{Type: TypeEnd, TaskID: "t"})
	add(1, Frame{Type: TypeCredit, TaskID: "t", Taken: 3, Window: 2})
	add(1, Frame{Type: TypeResult, TaskID: "t"})
	add(1, Frame{Type: TypeCmd, TaskID: "c", Peer: "a", Data: []byte("x")})
	f.Add(seed)
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewRelay(RelayConfig{MaxWindow: 64, MaxTasksPerPeer: 4})
		if err != nil {
			t.Fatal(err)
		}
		nop := func([]byte) error { return nil }
		peers := [2]*RelayChannel{r.Attach("app", "a", nop), r.Attach("app", "b", nop)}
		for len(in) > 0 {
			n := int(in[0] & 0x7f)
			p := peers[in[0]>>7]
			in = in[1:]
			if n > len(in) {
				n = len(in)
			}
			p.Handle(append([]byte(nil), in[:n]...))
			in = in[n:]
			if s := r.Stats(); s.BufferedBytes < 0 || s.BufferedBytes > int64(s.ActiveTasks)*(64+MaxCmdData) {
				t.Fatalf("buffered %d with %d tasks", s.BufferedBytes, s.ActiveTasks)
			}
		}
		peers[0].Close()
		peers[1].Close()
		if s := r.Stats(); s.BufferedBytes != 0 || s.ActiveTasks != 0 || s.Peers != 0 {
			t.Fatalf("after closing: %+v", s)
		}
	})
}

// TestSweepFailsStalledTasks: a receiver that takes an offer and never
// grants credit does not hold the transfer (and its sender) forever.
func TestSweepFailsStalledTasks(t *testing.T) {
	r, err := NewRelay(RelayConfig{StallTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	a, b := newSide(r, "app", "a"), newSide(r, "app", "b")
	a.handle(t, Frame{Type: TypeOffer, TaskID: "stuck", Kind: KindFile, Peer: "b", Total: 1 << 20, Name: "f"})
	b.expect(t, TypeOffer, nil)
	start := time.Now()

	r.Sweep(start.Add(30 * time.Second)) // not idle long enough
	a.quiet(t)
	b.quiet(t)
	r.Sweep(start.Add(2 * time.Minute))
	a.expect(t, TypeResult, code(protocol.SendFail))
	b.expect(t, TypeCancel, func(f Frame) bool { return f.By == CancelByNode && f.Code == protocol.SendFail })
	if s := r.Stats(); s.ActiveTasks != 0 || s.TasksFailed != 1 {
		t.Fatalf("stats after the sweep: %+v", s)
	}
	a.peer.Close()
	b.peer.Close()
}
