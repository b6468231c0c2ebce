package e2e

import (
	"bytes"
	"crypto/rand"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/internal/redistest"
	"github.com/crvnode/crvnode/protocol"
)

// Transfers between users of different nodes: three node processes on
// one redis-server; a Go client on node A sends commands, a buffer and a
// file to one on node C, through the link between the two nodes, and
// sees what it sees from a user of its own node: the same frames, the
// same progress, the same codes, the node holding at most one window of
// a transfer.

// scrapeProc reads one metric of a node process, labels included in name
// (crvnode_cluster_link_bytes_total{direction="out"}).
func scrapeProc(p *proc, name string) (float64, bool) { return scrapeAt(p.addr, name) }

// peaks samples metrics of a node process until stop is called, and
// returns the highest value each had.
func peaks(p *proc, names ...string) (stop func() map[string]float64) {
	var mu sync.Mutex
	high := make(map[string]float64)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			for _, name := range names {
				if v, ok := scrapeProc(p, name); ok {
					mu.Lock()
					high[name] = max(high[name], v)
					mu.Unlock()
				}
			}
			select {
			case <-quit:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() map[string]float64 {
		close(quit)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return high
	}
}

// seesOnline waits until u's node has who logged in.
func seesOnline(t *testing.T, u *transferUser, who string) {
	t.Helper()
	waitFor(t, u.UserID()+" sees "+who, 10*time.Second, func() bool {
		all, err := u.GetUserStatus(ctxTimeout(t, eventWait))
		if err != nil {
			return false
		}
		for _, st := range all {
			if st.UserID == who && st.UserStatus != protocol.UserOffline {
				return true
			}
		}
		return false
	})
}

// progressUntilResult reads u's events until the result of task id and
// checks that its progress only grew, up to total.
func progressUntilResult(t *testing.T, u *transferUser, id string, total int64, within time.Duration) *datachannel.Result {
	t.Helper()
	var last int64
	deadline := time.After(within)
	for {
		select {
		case ev := <-u.events:
			switch e := ev.Data.(type) {
			case *datachannel.Progress:
				if string(e.TaskID) != id {
					continue
				}
				if e.Sent < last || e.Total != total {
					t.Fatalf("progress %+v after %d", e, last)
				}
				last = e.Sent
			case *datachannel.Result:
				if string(e.TaskID) != id {
					continue
				}
				if e.Code == protocol.NoErr && last != total {
					t.Fatalf("result %+v after progress %d of %d", e, last, total)
				}
				return e
			}
		case <-deadline:
			t.Fatalf("%s: task %s did not end within %v", u.UserID(), id, within)
		}
	}
}

func TestClusterTransfer(t *testing.T) {
	rs := redistest.Start(t)
	nodes := startCluster(t, rs, 3)
	a, c := nodes[0], nodes[2]
	ctx := ctxTimeout(t, 3*time.Minute)
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range nodes {
				t.Logf("node %c:\n%s", 'A'+i, p.log())
			}
		}
	})
	ann := transferClientAt(t, a.wsURL(), "ann")
	cat := transferClientAt(t, c.wsURL(), "cat")
	seesOnline(t, ann, "cat")
	seesOnline(t, cat, "ann")

	t.Run("commands", func(t *testing.T) {
		text := []byte("从 A 到 C: ünïcödé ✓")
		id, err := ann.SendCmd(ctx, "cat", text)
		must(t, err)
		if r := ann.expect(client.EventSendCmdRlst, forTask(id), 10*time.Second).(*datachannel.Result); r.Code != 0 {
			t.Fatalf("sendCmdRlst %+v", r)
		}
		if got := cat.expect(client.EventNotifyCmdData, nil, 5*time.Second).(*datachannel.CmdData); got.From != "ann" || !bytes.Equal(got.Data, text) {
			t.Fatalf("cat on C: notifyCmdData %+v", got)
		}
		_, err = cat.SendCmd(ctx, "ann", []byte("back"))
		must(t, err)
		if got := ann.expect(client.EventNotifyCmdData, nil, 5*time.Second).(*datachannel.CmdData); got.From != "cat" || string(got.Data) != "back" {
			t.Fatalf("ann on A: notifyCmdData %+v", got)
		}
		// A user logged in nowhere is unreachable, as on one node.
		id, err = ann.SendCmd(ctx, "nobody", []byte("x"))
		must(t, err)
		if r := ann.expect(client.EventSendCmdRlst, forTask(id), 15*time.Second).(*datachannel.Result); r.Code != protocol.SendDataTargetInvalid {
			t.Fatalf("cmd to nobody: %+v", r)
		}
	})

	t.Run("buffer", func(t *testing.T) {
		buf := make([]byte, 3<<20)
		_, _ = rand.Read(buf)
		id, err := ann.SendBuffer(ctx, "cat", buf)
		must(t, err)
		if r := progressUntilResult(t, ann, id, int64(len(buf)), time.Minute); r.Code != 0 {
			t.Fatalf("sendBufferRlst %+v", r)
		}
		if got := cat.expect(client.EventNotifyBufferData, nil, 10*time.Second).(*datachannel.BufferData); got.From != "ann" || !bytes.Equal(got.Data, buf) {
			t.Fatal("the buffer arrived changed")
		}
	})

	t.Run("file", func(t *testing.T) {
		const size = 8 << 20
		path, sum := writeRandomFile(t, size)
		buffered := "crvnode_transfer_buffered_bytes"
		queued := "crvnode_cluster_link_queued_bytes"
		stopA, stopC := peaks(a, buffered, queued), peaks(c, buffered, queued)
		start := time.Now()
		id, err := ann.SendFile(ctx, "cat", path)
		must(t, err)
		r := progressUntilResult(t, ann, id, size, 2*time.Minute)
		took := time.Since(start)
		highA, highC := stopA(), stopC()
		if r.Code != 0 {
			t.Fatalf("sendFileRlst %+v", r)
		}
		f := cat.expect(client.EventNotifyFileData, forTask(id), 10*time.Second).(*datachannel.FileData)
		if fileHash(t, f.Path) != sum || f.Name != "content.bin" || f.From != "ann" {
			t.Fatalf("file %+v arrived changed", f)
		}
		t.Logf("%d MiB from A to C in %v; held at most: A %v + link %v, C %v + link %v bytes", size>>20, took,
			highA[buffered], highA[queued], highC[buffered], highC[queued])
		for _, v := range []float64{highA[buffered], highC[buffered]} {
			if v > datachannel.DefaultWindow {
				t.Errorf("a node held %v bytes of the file, more than one %d-byte window", v, datachannel.DefaultWindow)
			}
		}
		if v := highA[queued]; v > datachannel.DefaultWindow+4096 {
			t.Errorf("A's link queue held %v bytes", v)
		}
		for i, p := range []*proc{a, c} {
			if up, _ := scrapeProc(p, "crvnode_cluster_links_up"); up != 1 {
				t.Errorf("node %c: %v links up", "AC"[i], up)
			}
		}
		if out, _ := scrapeProc(a, `crvnode_cluster_link_bytes_total{direction="out"}`); out < size {
			t.Errorf("A sent %v bytes on its links", out)
		}
		if in, _ := scrapeProc(c, `crvnode_cluster_link_bytes_total{direction="in"}`); in < size {
			t.Errorf("C received %v bytes on its links", in)
		}
	})

	t.Run("wakes the receiver", func(t *testing.T) {
		// dan on C has no up connection: C asks him to open it (upNeeded).
		dan := coldTransferClient(t, c.wsURL(), "dan", client.Options{})
		seesOnline(t, ann, "dan")
		id, err := ann.SendCmd(ctx, "dan", []byte("wake up"))
		must(t, err)
		if r := ann.expect(client.EventSendCmdRlst, forTask(id), 15*time.Second).(*datachannel.Result); r.Code != 0 {
			t.Fatalf("sendCmdRlst %+v", r)
		}
		if got := dan.expect(client.EventNotifyCmdData, nil, 5*time.Second).(*datachannel.CmdData); got.From != "ann" || string(got.Data) != "wake up" {
			t.Fatalf("dan on C: %+v", got)
		}
	})

	t.Run("cancel by the sender", func(t *testing.T) {
		path, _ := writeRandomFile(t, 40<<20)
		id, err := ann.SendFile(ctx, "cat", path)
		must(t, err)
		ann.expect(client.EventSendProgress, func(d any) bool { return d.(*datachannel.Progress).Sent > 1<<20 }, 30*time.Second)
		must(t, ann.CancelSend(ctx, id))
		if cl := cat.expect(client.EventNotifyCancelSend, forTask(id), 10*time.Second).(*datachannel.Cancelled); cl.From != "ann" || cl.By != datachannel.CancelBySender {
			t.Fatalf("cat on C: notifyCancelSend %+v", cl)
		}
		time.Sleep(100 * time.Millisecond)
		if entries, _ := os.ReadDir(cat.dir); len(entries) != 1 { // the verified file of the test before
			t.Fatalf("files left after the cancel: %v", entries)
		}
	})

	t.Run("cancel by the receiver", func(t *testing.T) {
		// The receiver goes away mid-file: the sender, on another node,
		// gets 1000.
		cal := transferClientAt(t, c.wsURL(), "cal")
		seesOnline(t, ann, "cal")
		path, _ := writeRandomFile(t, 40<<20)
		id, err := ann.SendFile(ctx, "cal", path)
		must(t, err)
		ann.expect(client.EventSendProgress, func(d any) bool { return d.(*datachannel.Progress).Sent > 1<<20 }, 30*time.Second)
		must(t, cal.Close())
		if r := ann.expect(client.EventSendFileRlst, forTask(id), 15*time.Second).(*datachannel.Result); r.Code != protocol.SendFail {
			t.Fatalf("result after the receiver left: %+v", r)
		}
		if entries, _ := os.ReadDir(cal.dir); len(entries) != 0 {
			t.Fatalf("files left after the receiver left: %v", entries)
		}
	})

	t.Run("sender's node goes", func(t *testing.T) {
		// The sender's node is killed mid-file: the receiver on C hears
		// the transfer was cancelled by the node, and keeps nothing.
		b := nodes[1]
		bea := transferClientAt(t, b.wsURL(), "bea")
		seesOnline(t, bea, "cat")
		path, _ := writeRandomFile(t, 40<<20)
		id, err := bea.SendFile(ctx, "cat", path)
		must(t, err)
		bea.expect(client.EventSendProgress, func(d any) bool { return d.(*datachannel.Progress).Sent > 1<<20 }, 30*time.Second)
		killNode(t, b)
		cl := cat.expect(client.EventNotifyCancelSend, forTask(id), 15*time.Second).(*datachannel.Cancelled)
		if cl.By != datachannel.CancelByNode || cl.Code != protocol.SendFail {
			t.Fatalf("cat on C: notifyCancelSend %+v", cl)
		}
		time.Sleep(100 * time.Millisecond)
		if entries, _ := os.ReadDir(cat.dir); len(entries) != 1 {
			t.Fatalf("files left after the sender's node went: %v", entries)
		}
		// A and C go on: another transfer between them.
		id, err = ann.SendCmd(ctx, "cat", []byte("still here"))
		must(t, err)
		if r := ann.expect(client.EventSendCmdRlst, forTask(id), 10*time.Second).(*datachannel.Result); r.Code != 0 {
			t.Fatalf("sendCmdRlst %+v", r)
		}
	})
}
