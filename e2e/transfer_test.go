package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
)

// transferUser is a logged-in client whose transfer events a test reads.
type transferUser struct {
	*client.Client
	t      testing.TB
	dir    string
	events chan client.Event
	mu     sync.Mutex
	cmdAt  []time.Time // when each notifyCmdData reached the handler
}

func transferClient(t testing.TB, n *node.Node, id string) *transferUser {
	return transferClientAt(t, "ws://"+n.Addr()+"/ws", id)
}

// transferClientAt is transferClient connecting to url, its up
// connection open.
func transferClientAt(t testing.TB, url, id string) *transferUser {
	t.Helper()
	u := coldTransferClient(t, url, id, client.Options{})
	// Wait for the up connection: until then sending from this user waits
	// for it too.
	_, err := u.SendCmd(ctxTimeout(t, 10*time.Second), "nobody", []byte("warm-up"))
	if protocol.CodeOf(err) != protocol.NoErr && protocol.CodeOf(err) != protocol.SendDataTargetInvalid {
		t.Fatalf("%s: transfer channel: %v", id, err)
	}
	u.expect(client.EventSendCmdRlst, nil, 10*time.Second)
	return u
}

// coldTransferClient is a logged-in transfer client with opts (its
// TransferDir and Handler set here), whose up connection is not open.
func coldTransferClient(t testing.TB, url, id string, opts client.Options) *transferUser {
	t.Helper()
	u := &transferUser{t: t, dir: t.TempDir(), events: make(chan client.Event, 1<<16)}
	opts.TransferDir = u.dir
	opts.Handler = func(ev client.Event) {
		if ev.Method == client.EventNotifyCmdData {
			u.mu.Lock()
			u.cmdAt = append(u.cmdAt, time.Now())
			u.mu.Unlock()
		}
		select {
		case u.events <- ev:
		default:
			t.Errorf("%s: event queue full", id)
		}
	}
	c, err := client.Dial(ctxTimeout(t, eventWait), url, opts)
	must(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.Login(ctxTimeout(t, eventWait), protocol.LoginParams{AppID: "acme", AppSecret: md5hex("acme-secret"), UserID: id, NickName: id})
	must(t, err)
	u.Client = c
	return u
}

// expect skips events until one named method (for which match, if given,
// is true) and returns its data.
func (u *transferUser) expect(method string, match func(any) bool, within time.Duration) any {
	u.t.Helper()
	return skipTo(u.t, u.events, u.UserID(), method, match, within)
}

func forTask(id string) func(any) bool {
	return func(d any) bool {
		switch e := d.(type) {
		case *datachannel.Result:
			return string(e.TaskID) == id
		case *datachannel.Cancelled:
			return string(e.TaskID) == id
		case *datachannel.FileData:
			return string(e.TaskID) == id
		}
		return false
	}
}

func TestTransferCommandsAndBuffers(t *testing.T) {
	n := startMediaNode(t, node.FileConfig{})
	ctx := ctxTimeout(t, 60*time.Second)
	a, b := transferClient(t, n, "alice"), transferClient(t, n, "bob")
	globex := loginAs(t, "ws://"+n.Addr()+"/ws", "globex", "globex-secret", "carol")
	_ = globex

	// Commands both ways, unicode and every byte value.
	text := []byte("你好, bob: ünïcödé ✓")
	id, err := a.SendCmd(ctx, "bob", text)
	must(t, err)
	if r := a.expect(client.EventSendCmdRlst, forTask(id), 5*time.Second).(*datachannel.Result); r.Code != 0 {
		t.Fatalf("sendCmdRlst %+v", r)
	}
	if got := b.expect(client.EventNotifyCmdData, nil, 5*time.Second).(*datachannel.CmdData); got.From != "alice" || !bytes.Equal(got.Data, text) {
		t.Fatalf("notifyCmdData %+v", got)
	}
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	_, err = b.SendCmd(ctx, "alice", binary)
	must(t, err)
	if got := a.expect(client.EventNotifyCmdData, nil, 5*time.Second).(*datachannel.CmdData); got.From != "bob" || !bytes.Equal(got.Data, binary) {
		t.Fatalf("binary cmd %+v", got)
	}

	// A buffer with progress up to its length before the result.
	buf := make([]byte, 3<<20)
	_, _ = rand.Read(buf)
	id, err = a.SendBuffer(ctx, "bob", buf)
	must(t, err)
	var last int64
	for done := false; !done; {
		select {
		case ev := <-a.events:
			switch e := ev.Data.(type) {
			case *datachannel.Progress:
				if e.Sent < last || e.Total != int64(len(buf)) {
					t.Fatalf("progress %+v after %d", e, last)
				}
				last = e.Sent
			case *datachannel.Result:
				if string(e.TaskID) != id || e.Code != 0 || last != int64(len(buf)) {
					t.Fatalf("result %+v after progress %d", e, last)
				}
				done = true
			}
		case <-time.After(20 * time.Second):
			t.Fatal("buffer did not finish")
		}
	}
	if got := b.expect(client.EventNotifyBufferData, nil, 5*time.Second).(*datachannel.BufferData); !bytes.Equal(got.Data, buf) {
		t.Fatal("buffer arrived changed")
	}

	// Limits and targets.
	if _, err := a.SendCmd(ctx, "bob", make([]byte, 64<<10+1)); protocol.CodeOf(err) != protocol.SendCmdLarge {
		t.Fatalf("oversized cmd: %v", err)
	}
	if _, err := a.SendBuffer(ctx, "bob", make([]byte, 64<<20+1)); protocol.CodeOf(err) != protocol.SendBufferLarge {
		t.Fatalf("oversized buffer: %v", err)
	}
	for _, target := range []string{"nobody", "carol"} { // unknown; in another app
		id, err := a.SendCmd(ctx, target, []byte("x"))
		if err == nil {
			err = protocol.Errorf(a.expect(client.EventSendCmdRlst, forTask(id), 5*time.Second).(*datachannel.Result).Code, "result")
		}
		if protocol.CodeOf(err) != protocol.SendDataTargetInvalid {
			t.Fatalf("cmd to %s: %v", target, err)
		}
	}
	if err := a.CancelSend(ctx, "no-such-task"); protocol.CodeOf(err) != protocol.TransIDInvalid {
		t.Fatalf("cancel of an unknown task: %v", err)
	}
	if _, err := a.SendFile(ctx, "bob", filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("sending a missing file succeeded")
	}
}

func writeRandomFile(t testing.TB, size int64) (string, [32]byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "content.bin")
	f, err := os.Create(path)
	must(t, err)
	h := sha256.New()
	w := bufio.NewWriter(io.MultiWriter(f, h))
	_, err = io.CopyN(w, rand.Reader, size)
	must(t, err)
	must(t, w.Flush())
	must(t, f.Close())
	return path, [32]byte(h.Sum(nil))
}

func fileHash(t testing.TB, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	must(t, err)
	return [32]byte(h.Sum(nil))
}

// TestTransferLargeFileWithCommand sends 100 MiB: the bytes arrive
// identical with monotonic progress, and a command sent meanwhile does not
// wait for the file.
func TestTransferLargeFileWithCommand(t *testing.T) {
	n := startMediaNode(t, node.FileConfig{})
	ctx := ctxTimeout(t, 5*time.Minute)
	a, b := transferClient(t, n, "alice"), transferClient(t, n, "bob")
	path, sum := writeRandomFile(t, 100<<20)
	start := time.Now()
	id, err := a.SendFile(ctx, "bob", path)
	must(t, err)
	var last int64
	cmdSent := false
	var cmdAt, fileAt time.Time
	b.mu.Lock()
	b.cmdAt = nil
	b.mu.Unlock()
	for done := false; !done; {
		select {
		case ev := <-a.events:
			switch e := ev.Data.(type) {
			case *datachannel.Progress:
				if e.Sent < last {
					t.Fatalf("progress went back: %d after %d", e.Sent, last)
				}
				last = e.Sent
				if !cmdSent && e.Sent > 10<<20 {
					cmdSent, cmdAt = true, time.Now()
					_, err := a.SendCmd(ctx, "bob", []byte("ping"))
					must(t, err)
				}
			case *datachannel.Result:
				if string(e.TaskID) == id {
					if e.Code != 0 || last != 100<<20 {
						t.Fatalf("file result %+v after progress %d", e, last)
					}
					done = true
				}
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("file did not finish")
		}
	}
	took := time.Since(start)
	for done := false; !done; {
		select {
		case ev := <-b.events:
			switch e := ev.Data.(type) {
			case *datachannel.FileData:
				fileAt = time.Now()
				if fileHash(t, e.Path) != sum || e.Name != "content.bin" || filepath.Dir(e.Path) != b.dir {
					t.Fatalf("file %+v arrived changed or elsewhere", e)
				}
				done = true
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no notifyFileData")
		}
	}
	t.Logf("100 MiB in %v (%.1f MB/s)", took, 100*1.048576/took.Seconds())
	b.mu.Lock()
	arrivals := b.cmdAt
	b.mu.Unlock()
	if !cmdSent || len(arrivals) != 1 {
		t.Fatalf("command sent %v, received %d times", cmdSent, len(arrivals))
	}
	latency := arrivals[0].Sub(cmdAt)
	t.Logf("command sent mid-file arrived after %v, %v before the file's end", latency, fileAt.Sub(arrivals[0]))
	if latency > time.Second || !arrivals[0].Before(fileAt) {
		t.Fatalf("command took %v, waiting behind the file", latency)
	}
}

func TestTransferCancelAndDisconnect(t *testing.T) {
	n := startMediaNode(t, node.FileConfig{})
	ctx := ctxTimeout(t, 2*time.Minute)
	a, b := transferClient(t, n, "alice"), transferClient(t, n, "bob")
	path, _ := writeRandomFile(t, 40<<20)

	// Cancel mid-file from the sender: both sides hear of it, nothing stays.
	id, err := a.SendFile(ctx, "bob", path)
	must(t, err)
	a.expect(client.EventSendProgress, func(d any) bool { return d.(*datachannel.Progress).Sent > 1<<20 }, 30*time.Second)
	must(t, a.CancelSend(ctx, id))
	if c := b.expect(client.EventNotifyCancelSend, forTask(id), 10*time.Second).(*datachannel.Cancelled); c.From != "alice" {
		t.Fatalf("notifyCancelSend %+v", c)
	}
	time.Sleep(100 * time.Millisecond)
	if entries, _ := os.ReadDir(b.dir); len(entries) != 0 {
		t.Fatalf("files left after cancel: %v", entries)
	}

	// The receiver goes away mid-file: the sender gets 1000.
	id, err = a.SendFile(ctx, "bob", path)
	must(t, err)
	a.expect(client.EventSendProgress, func(d any) bool { return d.(*datachannel.Progress).Sent > 1<<20 }, 30*time.Second)
	must(t, b.Close())
	if r := a.expect(client.EventSendFileRlst, forTask(id), 15*time.Second).(*datachannel.Result); r.Code != protocol.SendFail {
		t.Fatalf("result after the receiver left: %+v", r)
	}
	if entries, _ := os.ReadDir(b.dir); len(entries) != 0 {
		t.Fatalf("files left after the receiver left: %v", entries)
	}
	// Now bob is offline.
	id, err = a.SendCmd(ctx, "bob", []byte("x"))
	if err == nil {
		err = protocol.Errorf(a.expect(client.EventSendCmdRlst, forTask(id), 5*time.Second).(*datachannel.Result).Code, "result")
	}
	if protocol.CodeOf(err) != protocol.SendDataTargetInvalid {
		t.Fatalf("cmd to an offline user: %v", err)
	}
}

func TestTransferHostileFileNames(t *testing.T) {
	n := startMediaNode(t, node.FileConfig{})
	ctx := ctxTimeout(t, time.Minute)
	a, b := transferClient(t, n, "alice"), transferClient(t, n, "bob")
	for _, name := range []string{"..", "...passwd", "evil\x01name.txt", strings.Repeat("long", 100) + ".txt", "a\\b.txt"} {
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("content of "+strconv.Quote(name)), 0o600); err != nil {
			continue // a name this file system refuses cannot be sent either
		}
		id, err := a.SendFile(ctx, "bob", path)
		must(t, err)
		f := b.expect(client.EventNotifyFileData, forTask(id), 10*time.Second).(*datachannel.FileData)
		if filepath.Dir(f.Path) != b.dir || strings.ContainsAny(filepath.Base(f.Path), "\x00\x01/\\") || len(filepath.Base(f.Path)) > 255 {
			t.Errorf("%q landed at %q", name, f.Path)
		}
	}
}

// TestTransferThrottledReceiverBoundsTheNode narrows the node's link so
// that the receiver takes data slowly: the node holds at most one credit
// window of the transfer however far the sender could run ahead.
func TestTransferThrottledReceiverBoundsTheNode(t *testing.T) {
	link, err := newThrottledConn()
	must(t, err)
	link.dtls = true
	n := startMediaNodeOn(t, node.FileConfig{}, link)
	ctx := ctxTimeout(t, 2*time.Minute)
	a, b := transferClient(t, n, "alice"), transferClient(t, n, "bob")
	path, sum := writeRandomFile(t, 3<<20)
	link.setRate(20_000_000)
	id, err := a.SendFile(ctx, "bob", path)
	must(t, err)
	var peak int64
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if v, ok := scrape(n, "crvnode_transfer_buffered_bytes"); ok {
				mu.Lock()
				peak = max(peak, int64(v))
				mu.Unlock()
			}
		}
	}()
	r := a.expect(client.EventSendFileRlst, forTask(id), 90*time.Second).(*datachannel.Result)
	close(stop)
	<-done
	if r.Code != 0 {
		t.Fatalf("result %+v", r)
	}
	if f := b.expect(client.EventNotifyFileData, forTask(id), 10*time.Second).(*datachannel.FileData); fileHash(t, f.Path) != sum {
		t.Fatal("file arrived changed")
	}
	t.Logf("node buffered at most %d bytes of a 3 MiB transfer", peak)
	if peak > 256<<10 {
		t.Fatalf("node buffered %d bytes, more than one 256 KiB window", peak)
	}
}

// scrape reads one metric from the node's /metrics, labels included in
// name (crvnode_sfu_peer_connections{direction="up"}).
func scrape(n *node.Node, name string) (float64, bool) { return scrapeAt(n.Addr(), name) }

// scrapeAt reads one metric from /metrics at host:port addr.
func scrapeAt(addr, name string) (float64, bool) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			return v, err == nil
		}
	}
	return 0, false
}
