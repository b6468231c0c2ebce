package datachannel

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// checkProgress checks a task's progress events: growing, never past
// total, the last one equal to total.
func checkProgress(t *testing.T, evs []Event, id TaskID, total int64) int {
	t.Helper()
	var last int64 = -1
	n := 0
	for _, ev := range evs {
		p, ok := ev.(*Progress)
		if !ok || p.TaskID != id {
			continue
		}
		n++
		if p.Sent <= last || p.Sent > total || p.Total != total {
			t.Fatalf("progress %d after %d (total %d)", p.Sent, last, p.Total)
		}
		last = p.Sent
	}
	if last != total {
		t.Fatalf("last progress %d, want %d", last, total)
	}
	return n
}

func TestCmdUnicodeAndBinaryBuffer(t *testing.T) {
	r := newTestRelay(t, RelayConfig{})
	alice := newClient(t, r, "app", "alice", Config{}, 0)
	bob := newClient(t, r, "app", "张三", Config{}, 0)

	msg := []byte("你好, мир 🎉 \x00\xff end")
	id, err := alice.ep.SendCmd("张三", msg)
	if err != nil {
		t.Fatal(err)
	}
	got := bob.rec.until(t, 5*time.Second, isType[*CmdData])
	cmd := got[len(got)-1].(*CmdData)
	if cmd.From != "alice" || cmd.TaskID != id || !bytes.Equal(cmd.Data, msg) {
		t.Fatalf("cmd = %+v", cmd)
	}
	evs := alice.rec.until(t, 5*time.Second, resultOf(id))
	if res := lastResult(t, evs); res.Code != protocol.NoErr || res.Kind != KindCmd || len(evs) != 1 {
		t.Fatalf("cmd result %+v after %s", res, describe(evs))
	}

	empty, err := alice.ep.SendCmd("张三", nil)
	if err != nil {
		t.Fatal(err)
	}
	if evs := bob.rec.until(t, 5*time.Second, isType[*CmdData]); len(evs[0].(*CmdData).Data) != 0 {
		t.Fatal("empty command arrived non-empty")
	}
	alice.rec.until(t, 5*time.Second, resultOf(empty))

	all := make([]byte, 0, 3*256)
	for i := range 3 * 256 {
		all = append(all, byte(i))
	}
	bid, err := alice.ep.SendBuffer("张三", all)
	if err != nil {
		t.Fatal(err)
	}
	evs = bob.rec.until(t, 5*time.Second, isType[*BufferData])
	if bd := evs[len(evs)-1].(*BufferData); bd.From != "alice" || !bytes.Equal(bd.Data, all) {
		t.Fatalf("buffer = %+v", bd)
	}
	evs = alice.rec.until(t, 5*time.Second, resultOf(bid))
	checkProgress(t, evs, bid, int64(len(all)))
	if res := lastResult(t, evs); res.Code != protocol.NoErr || res.Kind != KindBuffer {
		t.Fatalf("buffer result %+v", res)
	}
}

func TestBufferWithProgress(t *testing.T) {
	r := newTestRelay(t, RelayConfig{})
	alice := newClient(t, r, "app", "alice", Config{ProgressInterval: time.Millisecond}, 0)
	bob := newClient(t, r, "app", "bob", Config{}, 8<<20)
	data := randomBytes(t, 3<<20)
	id, err := alice.ep.SendBuffer("bob", data)
	if err != nil {
		t.Fatal(err)
	}
	evs := alice.rec.until(t, 20*time.Second, resultOf(id))
	if n := checkProgress(t, evs, id, int64(len(data))); n < 5 {
		t.Errorf("only %d progress events for 3 MiB", n)
	}
	if res := lastResult(t, evs); res.Code != protocol.NoErr {
		t.Fatalf("result %v", res.Code)
	}
	got := bob.rec.until(t, 5*time.Second, isType[*BufferData])
	if bd := got[len(got)-1].(*BufferData); !bytes.Equal(bd.Data, data) {
		t.Fatal("buffer differs")
	}
	zero, err := alice.ep.SendBuffer("bob", []byte{})
	if err != nil {
		t.Fatal(err)
	}
	evs = alice.rec.until(t, 5*time.Second, resultOf(zero))
	checkProgress(t, evs, zero, 0)
	if got := bob.rec.until(t, 5*time.Second, isType[*BufferData]); len(got[0].(*BufferData).Data) != 0 {
		t.Fatal("empty buffer arrived non-empty")
	}
}

func TestLargeFile(t *testing.T) {
	size := 100 << 20
	if testing.Short() {
		size = 8 << 20
	}
	r := newTestRelay(t, RelayConfig{})
	alice := newClient(t, r, "app", "alice", Config{}, 0)
	bob := newClient(t, r, "app", "bob", Config{}, 0)
	src := writeFile(t, t.TempDir(), "big file.bin", randomBytes(t, size))

	start := time.Now()
	id, err := alice.ep.SendFile("bob", src)
	if err != nil {
		t.Fatal(err)
	}
	evs := alice.rec.until(t, 2*time.Minute, resultOf(id))
	if res := lastResult(t, evs); res.Code != protocol.NoErr || res.FileName != src || res.Kind != KindFile {
		t.Fatalf("result %+v", res)
	}
	n := checkProgress(t, evs, id, int64(size))
	elapsed := time.Since(start)
	if limit := int(elapsed/DefaultProgressInterval) + 2; n > limit {
		t.Errorf("%d progress events in %v, more than 20/s", n, elapsed)
	}
	got := bob.rec.until(t, 5*time.Second, isType[*FileData])
	fd := got[len(got)-1].(*FileData)
	if fd.From != "alice" || fd.Name != "big file.bin" || fd.Path != filepath.Join(bob.dir, "big file.bin") {
		t.Fatalf("file data %+v", fd)
	}
	if sumFile(t, fd.Path) != sumFile(t, src) {
		t.Fatal("received file differs")
	}
	if ents := dirEntries(t, bob.dir); len(ents) != 1 {
		t.Fatalf("receiving directory holds %v", ents)
	}
	if s := r.Stats(); s.BufferedBytes != 0 || s.ActiveTasks != 0 || s.PeakBufferedBytes > DefaultWindow {
		t.Errorf("relay after the transfer: %+v", s)
	}
	t.Logf("%d MiB in %v, %d progress events", size>>20, elapsed, n)
}

func sumFile(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// startSlowFile starts a file from alice to bob over a link of 4 MB/s
// towards bob and waits for the first progress.
func startSlowFile(t *testing.T) (r *Relay, alice, bob *client, id TaskID) {
	r = newTestRelay(t, RelayConfig{})
	alice = newClient(t, r, "app", "alice", Config{ProgressInterval: time.Millisecond}, 0)
	bob = newClient(t, r, "app", "bob", Config{}, 4<<20)
	src := writeFile(t, t.TempDir(), "slow.bin", randomBytes(t, 16<<20))
	id, err := alice.ep.SendFile("bob", src)
	if err != nil {
		t.Fatal(err)
	}
	alice.rec.until(t, 5*time.Second, isType[*Progress])
	if ents := dirEntries(t, bob.dir); len(ents) != 1 || !strings.HasSuffix(ents[0], ".part") || !strings.HasPrefix(ents[0], ".") {
		t.Fatalf("mid-transfer the directory holds %v", ents)
	}
	return r, alice, bob, id
}

func TestCancelMidFile(t *testing.T) {
	r, alice, bob, id := startSlowFile(t)
	if err := alice.ep.CancelSend(id); err != nil {
		t.Fatal(err)
	}
	evs := bob.rec.until(t, 5*time.Second, isType[*Cancelled])
	c := evs[len(evs)-1].(*Cancelled)
	if c.TaskID != id || c.From != "alice" || c.By != CancelBySender || c.Code != protocol.NoErr {
		t.Fatalf("cancelled %+v", c)
	}
	waitIdle(t, r)
	if ents := dirEntries(t, bob.dir); len(ents) != 0 {
		t.Fatalf("left after cancel: %v", ents)
	}
	if err := alice.ep.CancelSend(id); protocol.CodeOf(err) != protocol.TransIDInvalid {
		t.Errorf("second cancel: %v", err)
	}
	if s := r.Stats(); s.BufferedBytes != 0 {
		t.Errorf("relay still counts %d bytes", s.BufferedBytes)
	}
	// No Result for a cancelled task, and no file event at the receiver.
	for _, ev := range drainQuiet(alice.rec, 50*time.Millisecond) {
		if res, ok := ev.(*Result); ok && res.TaskID == id {
			t.Errorf("cancelled task got a result %v", res.Code)
		}
	}
	bob.rec.none(t, 100*time.Millisecond)
}

func TestReceiverGoesAway(t *testing.T) {
	r, alice, bob, id := startSlowFile(t)
	bob.close()
	evs := alice.rec.until(t, 5*time.Second, resultOf(id))
	if res := lastResult(t, evs); res.Code != protocol.SendFail {
		t.Fatalf("result %v, want SENDFAIL", res.Code)
	}
	waitIdle(t, r)
	if ents := dirEntries(t, bob.dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
	if s := r.Stats(); s.BufferedBytes != 0 {
		t.Errorf("relay still counts %d bytes", s.BufferedBytes)
	}
}

func TestSenderGoesAway(t *testing.T) {
	r, alice, bob, id := startSlowFile(t)
	alice.close()
	evs := alice.rec.until(t, 5*time.Second, resultOf(id))
	if res := lastResult(t, evs); res.Code != protocol.SendFail {
		t.Errorf("sender's own result %v", res.Code)
	}
	evs = bob.rec.until(t, 5*time.Second, isType[*Cancelled])
	if c := evs[len(evs)-1].(*Cancelled); c.By != CancelByNode || c.Code != protocol.SendFail {
		t.Fatalf("cancelled %+v", c)
	}
	waitIdle(t, r)
	if ents := dirEntries(t, bob.dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
}

func TestLimits(t *testing.T) {
	r := newTestRelay(t, RelayConfig{MaxCmd: 1000, MaxBuffer: 2000, MaxFile: 3000})
	big := Config{MaxCmd: MaxCmdData, MaxBuffer: 1 << 20, MaxFile: 1 << 20}
	alice := newClient(t, r, "app", "alice", big, 0)
	newClient(t, r, "app", "bob", Config{MaxBuffer: 1500}, 0)
	newClient(t, r, "other", "carol", Config{}, 0)

	// The endpoint's own limits, at once.
	local, err := NewEndpoint(&rawConn{frames: make(chan []byte, 4)}, Config{Dir: t.TempDir(), MaxCmd: 10, MaxBuffer: 20, MaxFile: 30}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = local.Close(); <-local.Done() }()
	_, err = local.SendCmd("bob", make([]byte, 11))
	expectCode(t, "local cmd", err, protocol.SendCmdLarge)
	_, err = local.SendBuffer("bob", make([]byte, 21))
	expectCode(t, "local buffer", err, protocol.SendBufferLarge)
	_, err = local.SendFile("bob", writeFile(t, t.TempDir(), "f", make([]byte, 31)))
	expectCode(t, "local file", err, protocol.FileSizeUnsupport)
	_, err = local.SendFile("bob", filepath.Join(t.TempDir(), "missing"))
	expectCode(t, "missing file", err, protocol.FileNotExist)
	_, err = local.SendFile("bob", t.TempDir())
	expectCode(t, "directory", err, protocol.SendFileFileInError)
	_, err = local.SendCmd("", nil)
	expectCode(t, "empty target", err, protocol.SendDataTargetInvalid)
	_, err = alice.ep.SendCmd("a", make([]byte, MaxCmdData+1))
	expectCode(t, "cmd past the wire limit", err, protocol.SendCmdLarge)

	// The node's limits, the receiver's, and unknown targets.
	send := []struct {
		what string
		run  func() (TaskID, error)
		want protocol.Code
	}{
		{"node cmd", func() (TaskID, error) { return alice.ep.SendCmd("bob", make([]byte, 1001)) }, protocol.SendCmdLarge},
		{"node buffer", func() (TaskID, error) { return alice.ep.SendBuffer("bob", make([]byte, 2001)) }, protocol.SendBufferLarge},
		{"node file", func() (TaskID, error) {
			return alice.ep.SendFile("bob", writeFile(t, t.TempDir(), "f", make([]byte, 3001)))
		}, protocol.FileSizeUnsupport},
		{"receiver buffer", func() (TaskID, error) { return alice.ep.SendBuffer("bob", make([]byte, 1501)) }, protocol.SendBufferLarge},
		{"unknown user", func() (TaskID, error) { return alice.ep.SendCmd("nobody", []byte("x")) }, protocol.SendDataTargetInvalid},
		{"other app", func() (TaskID, error) { return alice.ep.SendBuffer("carol", []byte("x")) }, protocol.SendDataTargetInvalid},
	}
	for _, s := range send {
		id, err := s.run()
		if err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		evs := alice.rec.until(t, 5*time.Second, resultOf(id))
		if res := lastResult(t, evs); res.Code != s.want {
			t.Errorf("%s: result %v, want %v", s.what, res.Code, s.want)
		}
	}
	waitIdle(t, r)
}

func expectCode(t *testing.T, what string, err error, want protocol.Code) {
	t.Helper()
	if got := protocol.CodeOf(err); got != want {
		t.Errorf("%s: %v (code %v), want %v", what, err, got, want)
	}
}

// A transfer whose END has gone cannot be cancelled any more: the receiver
// may hold it already. CancelSend says 1104 and the Result follows.
func TestCancelAfterEndRefused(t *testing.T) {
	r := newTestRelay(t, RelayConfig{})
	alice := newClient(t, r, "app", "alice", Config{}, 0)
	bob := newClient(t, r, "app", "bob", Config{}, 64<<10) // 64 KiB/s towards bob
	data := randomBytes(t, 128<<10)                        // within one window: END goes at once
	id, err := alice.ep.SendBuffer("bob", data)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !sentInFull(alice.ep, id) {
		if time.Now().After(deadline) {
			t.Fatal("END never sent")
		}
		time.Sleep(time.Millisecond)
	}
	if err := alice.ep.CancelSend(id); protocol.CodeOf(err) != protocol.TransIDInvalid {
		t.Fatalf("cancel after END: %v, want 1104", err)
	}
	if res := lastResult(t, alice.rec.until(t, 10*time.Second, resultOf(id))); res.Code != protocol.NoErr {
		t.Fatalf("result %v, want 0", res.Code)
	}
	evs := bob.rec.until(t, 5*time.Second, isType[*BufferData])
	if got := evs[len(evs)-1].(*BufferData); !bytes.Equal(got.Data, data) {
		t.Fatal("bob's buffer differs")
	}
	bob.rec.none(t, 100*time.Millisecond)
}

func sentInFull(e *Endpoint, id TaskID) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.out[id]
	return t != nil && t.state == outEnded
}

// Whenever a cancel lands, both ends agree: either the sender heard its
// cancel accepted, gets no Result and the receiver announces nothing, or
// the cancel was refused and the Result and the receiver agree. Events are
// matched by task at the end, so slow deliveries cannot mix rounds up.
func TestCancelRacingCompletion(t *testing.T) {
	r := newTestRelay(t, RelayConfig{})
	alice := newClient(t, r, "app", "alice", Config{}, 0)
	bob := newClient(t, r, "app", "bob", Config{}, 0)
	data := randomBytes(t, 48<<10)
	cancelled := map[TaskID]bool{} // task -> the cancel was accepted
	var aliceEvs []Event
	for i := range 60 {
		id, err := alice.ep.SendBuffer("bob", data)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(i%12) * 50 * time.Microsecond)
		cerr := alice.ep.CancelSend(id)
		switch protocol.CodeOf(cerr) {
		case protocol.NoErr:
			cancelled[id] = true
		case protocol.TransIDInvalid:
			cancelled[id] = false
			aliceEvs = append(aliceEvs, alice.rec.until(t, 10*time.Second, resultOf(id))...)
		default:
			t.Fatalf("round %d: cancel: %v", i, cerr)
		}
	}
	waitIdle(t, r)
	aliceEvs = append(aliceEvs, drainQuiet(alice.rec, 300*time.Millisecond)...)
	bobEvs := drainQuiet(bob.rec, 300*time.Millisecond)

	results, got, told := map[TaskID]protocol.Code{}, map[TaskID]bool{}, map[TaskID]bool{}
	for _, ev := range aliceEvs {
		if res, ok := ev.(*Result); ok {
			results[res.TaskID] = res.Code
		}
	}
	for _, ev := range bobEvs {
		switch e := ev.(type) {
		case *BufferData:
			got[e.TaskID] = true
		case *Cancelled:
			told[e.TaskID] = true
		}
	}
	n := 0
	for id, acc := range cancelled {
		if acc {
			n++
			if code, ok := results[id]; ok {
				t.Errorf("%s: cancel accepted, yet result %v", id, code)
			}
			if got[id] {
				t.Errorf("%s: cancel accepted, yet bob got the buffer", id)
			}
			continue
		}
		if code := results[id]; code != protocol.NoErr || !got[id] || told[id] {
			t.Errorf("%s: cancel refused; result %v, bob got it %v, bob told of a cancel %v", id, code, got[id], told[id])
		}
	}
	t.Logf("%d cancelled, %d completed", n, len(cancelled)-n)
}

// drainQuiet reads events until none comes for quiet.
func drainQuiet(r *recorder, quiet time.Duration) []Event {
	var evs []Event
	for {
		select {
		case ev := <-r.ch:
			evs = append(evs, ev)
		case <-time.After(quiet):
			return evs
		}
	}
}
