package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/protocol"
)

// The cluster bench's rows with media: the nodes run an SFU, so that a
// meeting's media is forwarded by one of them and a member entering it
// from another node has its session moved there
// (docs/protocol/resume.md#moving-to-another-node); and transfers between
// users of different nodes go over the link between their nodes
// (docs/protocol/transfers.md). Each is measured against the same thing
// on one node of the same cluster, in the same run.

// Setups of the rows with media.
const (
	ClusterEntrySame  = "same node" // the entering user on the meeting's node
	ClusterEntryMoved = "moved"     // on another node: its session moves to the meeting's node
)

// ClusterEntryRow is the meeting entry row of one setup: each entry is
// into a fresh meeting that a host on the first node created and entered
// first, so that the first node forwards its media; the entering user
// logs in just before, on the first node or on the second.
type ClusterEntryRow struct {
	Setup   string  `json:"setup"`
	Entries int     `json:"entries"`
	Enter   Summary `json:"enter"` // enterMeeting called → it returned, the move included
	Failed  int     `json:"failed"`
	// Moves is how many sessions the meeting's node took over
	// (crvnode_session_moves_total{outcome="taken"}) during the entries of
	// the moved row: one per entry. The same-node row's entries are made
	// between those of the moved row; none of them moves.
	Moves      int    `json:"moves"`
	FirstError string `json:"firstError,omitempty"`
}

// ClusterTransferRow is one setup's transfers: from a user on the first
// node to one on the same node, or to one on the last node (through the
// link between the two nodes).
type ClusterTransferRow struct {
	Setup string `json:"setup"` // ClusterSameNode or ClusterAcrossNodes
	Bytes int64  `json:"bytes"`
	// Seconds is each file's SendFile called → both the sender's
	// sendFileRlst and the receiver's notifyFileData; MiBps the median
	// file's throughput.
	Seconds []float64 `json:"seconds"`
	MiBps   float64   `json:"mibPerSecond"`
	// Wake is a small SendCmd to a receiver that just logged in without
	// opening its up connection (the node asks it to: upNeeded) → its
	// notifyCmdData; Warm, a second one to the same receiver, whose
	// connection is open by then.
	Wake Summary `json:"wake"`
	Warm Summary `json:"warm"`
	// LinkBytes is what the first node sent on its links to other nodes
	// during the row: about the files' bytes across nodes, 0 on one.
	LinkBytes  float64 `json:"linkBytes"`
	Failed     int     `json:"failed"`
	FirstError string  `json:"firstError,omitempty"`
}

func (r *ClusterTransferRow) fail(err error) {
	r.Failed++
	if r.FirstError == "" {
		r.FirstError = err.Error()
	}
}

// runMediaGroup starts a redis-server and b.Nodes nodes with media and
// measures the meeting entry and transfer rows into res.
func (b *ClusterBench) runMediaGroup(ctx context.Context, dir string, res *ClusterResult) (err error) {
	if b.Entries <= 0 && b.Files <= 0 && b.Wakes <= 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	g := &benchGroup{}
	defer func() { err = errors.Join(err, g.stop()) }()
	if err := g.start(ctx, b, dir, b.Nodes, true, true); err != nil {
		return err
	}
	if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
		return err
	}
	if b.Entries > 0 {
		rows, err := b.entryRows(ctx, g)
		res.Entries = append(res.Entries, rows...)
		if err != nil {
			return err
		}
	}
	if b.Files > 0 || b.Wakes > 0 {
		rows, err := b.transferRows(ctx, g, dir)
		res.Transfers = append(res.Transfers, rows...)
		if err != nil {
			return err
		}
	}
	return nil
}

// scrapeMetric reads one series of a node's /metrics, labels included in
// series (crvnode_session_moves_total{outcome="taken"}); 0 if absent.
func scrapeMetric(ctx context.Context, p *Proc, series string) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.Addr()+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrMetrics, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%w: GET %s/metrics: %s", ErrMetrics, p.Addr(), resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				return 0, fmt.Errorf("%w: %s: %w", ErrMetrics, series, err)
			}
			return v, nil
		}
	}
	return 0, sc.Err()
}

const movesTaken = `crvnode_session_moves_total{outcome="taken"}`

// entryRows makes b.Entries entries of each setup, taking turns: a
// same-node entry, then a moved one. For each, the host on the first
// node creates a meeting and enters it; the entering user logs in (its
// login is applied on its node after the host's entry), enters, and logs
// out.
func (b *ClusterBench) entryRows(ctx context.Context, g *benchGroup) ([]ClusterEntryRow, error) {
	same := ClusterEntryRow{Setup: ClusterEntrySame, Entries: b.Entries}
	moved := ClusterEntryRow{Setup: ClusterEntryMoved, Entries: b.Entries}
	rows := func() []ClusterEntryRow { return []ClusterEntryRow{same, moved} }
	host, err := loginClient(ctx, g.urls[0], "entry-host", nil)
	if err != nil {
		return rows(), err
	}
	defer closeClients([]*client.Client{host})
	takenA, err := scrapeMetric(ctx, g.nodes[0], movesTaken)
	if err != nil {
		return rows(), err
	}
	b.Progress("meeting entry: %d entries on the meeting's node, %d moved from another node", b.Entries, b.Entries)
	var hSame, hMoved Hist
	movesDone := 0
	for i := 0; i < b.Entries && ctx.Err() == nil; i++ {
		for _, r := range []*ClusterEntryRow{&same, &moved} {
			d, err := b.entryOnce(ctx, g, host, r == &moved, i)
			if err != nil {
				r.Failed++
				if r.FirstError == "" {
					r.FirstError = err.Error()
				}
				continue
			}
			if r == &same {
				hSame.Record(d)
			} else {
				hMoved.Record(d)
				movesDone++
			}
		}
	}
	t1, err := scrapeMetric(ctx, g.nodes[0], movesTaken)
	if err != nil {
		return rows(), err
	}
	moved.Moves = int(t1 - takenA)
	same.Enter, moved.Enter = hSame.Summary(), hMoved.Summary()
	b.Progress("meeting entry: same node p50 %v p99 %v; moved p50 %v p99 %v; %d sessions taken for %d moved entries; %d+%d failed",
		same.Enter.P50, same.Enter.P99, moved.Enter.P50, moved.Enter.P99, moved.Moves, movesDone, same.Failed, moved.Failed)
	return rows(), ctx.Err()
}

// entryOnce makes one entry, on the host's node or moved from the
// second, and returns how long enterMeeting took.
func (b *ClusterBench) entryOnce(ctx context.Context, g *benchGroup, host *client.Client, move bool, i int) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	meet, err := host.CreateMeeting(ctx, fmt.Sprintf("entry %d", i), 0)
	if err != nil {
		return 0, fmt.Errorf("createMeeting: %w", err)
	}
	defer func() { _ = host.DestroyMeeting(ctx, meet.ID) }()
	if _, err := host.EnterMeeting(ctx, meet.ID, "", ""); err != nil {
		return 0, fmt.Errorf("the host's enterMeeting: %w", err)
	}
	node, id := 0, fmt.Sprintf("entry-same-%04d", i)
	if move {
		node, id = 1, fmt.Sprintf("entry-moved-%04d", i)
	}
	c, err := loginClient(ctx, g.urls[node], id, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = c.Close() }()
	t0 := time.Now()
	res, err := c.EnterMeeting(ctx, meet.ID, "", "")
	d := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("%s: enterMeeting: %w", id, err)
	}
	if len(res.Members) != 2 {
		return 0, fmt.Errorf("%s entered with %d members, want 2", id, len(res.Members))
	}
	return d, nil
}

// txPeer is a user of the transfer rows with its events.
type txPeer struct {
	c      *client.Client
	dir    string
	events chan client.Event
	cmdAt  chan time.Time // when each notifyCmdData reached the handler
}

// dialTxPeer logs id in on url with its up connection open (warm) or not.
func dialTxPeer(ctx context.Context, url, id, dir string, warm bool) (*txPeer, error) {
	p := &txPeer{dir: dir, events: make(chan client.Event, 4096), cmdAt: make(chan time.Time, 16)}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.Dial(lctx, url, client.Options{TransferDir: dir, SettingEngine: LoopbackSettings(),
		Handler: func(ev client.Event) {
			if ev.Method == client.EventNotifyCmdData {
				select {
				case p.cmdAt <- time.Now():
				default:
				}
			}
			select {
			case p.events <- ev:
			case <-ctx.Done():
			}
		}})
	if err != nil {
		return nil, err
	}
	p.c = c
	if _, err := c.Login(lctx, protocol.LoginParams{AppID: BenchApp, AppSecret: MD5Hex(BenchApp), UserID: protocol.UserID(id), NickName: id}); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("login %s: %w", id, err)
	}
	if warm {
		// A command to nobody returns once the up connection is open.
		if _, err := c.SendCmd(lctx, "nobody", []byte("warm-up")); err != nil && protocol.CodeOf(err) != protocol.SendDataTargetInvalid {
			_ = c.Close()
			return nil, fmt.Errorf("%s: transfer channel: %w", id, err)
		}
	}
	return p, nil
}

// wait returns the first event named method whose data is for task id.
func (p *txPeer) wait(ctx context.Context, method, id string) (any, error) {
	for {
		select {
		case ev := <-p.events:
			if ev.Method != method {
				continue
			}
			var task string
			switch d := ev.Data.(type) {
			case *datachannel.Result:
				task = string(d.TaskID)
			case *datachannel.FileData:
				task = string(d.TaskID)
			case *datachannel.CmdData:
				task = string(d.TaskID)
			}
			if task == id {
				return ev.Data, nil
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("%s waiting for %s: %w", p.c.UserID(), method, ctx.Err())
		}
	}
}

// seesOnline waits until who is online in c's node's getUserStatus: the
// sender's node knows where a receiver logged in on another node is.
func seesOnline(ctx context.Context, c *client.Client, who protocol.UserID) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		all, err := c.GetUserStatus(ctx)
		if err == nil {
			for _, st := range all {
				if st.UserID == who && st.UserStatus != protocol.UserOffline {
					return nil
				}
			}
		}
		if err := sleepCtx(ctx, 10*time.Millisecond); err != nil {
			return fmt.Errorf("%s does not see %s online: %w", c.UserID(), who, err)
		}
	}
}

// transferRows sends b.Files files of b.FileSize bytes from a user on the
// first node to one on the same node and to one on the last node, taking
// turns, then makes b.Wakes commands to cold receivers of each setup.
func (b *ClusterBench) transferRows(ctx context.Context, g *benchGroup, dir string) (rows []ClusterTransferRow, err error) {
	same := &ClusterTransferRow{Setup: ClusterSameNode, Bytes: b.FileSize}
	across := &ClusterTransferRow{Setup: ClusterAcrossNodes, Bytes: b.FileSize}
	defer func() { rows = []ClusterTransferRow{*same, *across} }()
	a, c := 0, len(g.nodes)-1
	src := filepath.Join(dir, "content.bin")
	if b.Files > 0 {
		b.Progress("transfers: writing %d MiB of random bytes", b.FileSize>>20)
		if err := writeRandom(src, b.FileSize); err != nil {
			return nil, err
		}
		defer os.Remove(src)
	}
	var peers []*txPeer
	defer func() {
		var cs []*client.Client
		for _, p := range peers {
			cs = append(cs, p.c)
		}
		closeClients(cs)
	}()
	peer := func(node int, id string, warm bool) (*txPeer, error) {
		d, err := os.MkdirTemp(dir, id+"-")
		if err != nil {
			return nil, err
		}
		p, err := dialTxPeer(ctx, g.urls[node], id, d, warm)
		if err != nil {
			return nil, err
		}
		peers = append(peers, p)
		return p, nil
	}
	tx, err := peer(a, "tx-sender", true)
	if err != nil {
		return nil, err
	}
	rxSame, err := peer(a, "rx-same", true)
	if err != nil {
		return nil, err
	}
	rxAcross, err := peer(c, "rx-across", true)
	if err != nil {
		return nil, err
	}
	for _, p := range []*txPeer{rxSame, rxAcross} {
		if err := seesOnline(ctx, tx.c, p.c.UserID()); err != nil {
			return nil, err
		}
	}
	linkOut := `crvnode_cluster_link_bytes_total{direction="out"}`
	var linkBytes [2]float64
	measureLink := func(i int, f func()) {
		l0, err0 := scrapeMetric(ctx, g.nodes[a], linkOut)
		f()
		l1, err1 := scrapeMetric(ctx, g.nodes[a], linkOut)
		if err0 == nil && err1 == nil {
			linkBytes[i] += l1 - l0
		}
	}
	if b.Files > 0 {
		b.Progress("transfers: %d files of %d MiB to a user on the same node and to one on another node", b.Files, b.FileSize>>20)
	}
	for k := 0; k < b.Files && ctx.Err() == nil; k++ {
		for i, r := range []*ClusterTransferRow{same, across} {
			rx := rxSame
			if r == across {
				rx = rxAcross
			}
			measureLink(i, func() {
				d, err := b.sendFileOnce(ctx, tx, rx, src)
				if err != nil {
					r.fail(err)
					return
				}
				r.Seconds = append(r.Seconds, d.Seconds())
			})
		}
	}
	for _, r := range []*ClusterTransferRow{same, across} {
		r.MiBps = medianMiBps(r.Seconds, b.FileSize)
	}
	if b.Files > 0 {
		b.Progress("transfers: %.1f MiB/s on one node, %.1f MiB/s across nodes", same.MiBps, across.MiBps)
	}
	if b.Wakes > 0 {
		b.Progress("transfers: %d commands to a receiver on the same node whose up connection is not open, %d to one on another node", b.Wakes, b.Wakes)
	}
	var wake, warm [2]Hist
	for k := 0; k < b.Wakes && ctx.Err() == nil; k++ {
		for i, r := range []*ClusterTransferRow{same, across} {
			node, id := a, fmt.Sprintf("wake-same-%03d", k)
			if r == across {
				node, id = c, fmt.Sprintf("wake-across-%03d", k)
			}
			measureLink(i, func() {
				dWake, dWarm, err := wakeOnce(ctx, tx, g.urls[node], id, dir)
				if err != nil {
					r.fail(err)
					return
				}
				wake[i].Record(dWake)
				warm[i].Record(dWarm)
			})
		}
	}
	same.Wake, same.Warm = wake[0].Summary(), warm[0].Summary()
	across.Wake, across.Warm = wake[1].Summary(), warm[1].Summary()
	same.LinkBytes, across.LinkBytes = linkBytes[0], linkBytes[1]
	if b.Wakes > 0 {
		b.Progress("transfers: the first command to a cold receiver p50 %v on one node, %v across nodes", same.Wake.P50, across.Wake.P50)
	}
	return nil, ctx.Err()
}

// medianMiBps is the throughput of the median file, 0 without any.
func medianMiBps(seconds []float64, size int64) float64 {
	if len(seconds) == 0 {
		return 0
	}
	s := slices.Clone(seconds)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + m) / 2
	}
	return float64(size) / (1 << 20) / m
}

// sendFileOnce sends src from tx to rx and returns the time until both
// ends had their result; the received file is checked for size and
// removed.
func (b *ClusterBench) sendFileOnce(ctx context.Context, tx, rx *txPeer, src string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	t0 := time.Now()
	id, err := tx.c.SendFile(ctx, rx.c.UserID(), src)
	if err != nil {
		return 0, fmt.Errorf("sendFile: %w", err)
	}
	var wg sync.WaitGroup
	var fd any
	var errRx error
	wg.Add(1)
	go func() {
		defer wg.Done()
		fd, errRx = rx.wait(ctx, client.EventNotifyFileData, id)
	}()
	d, err := tx.wait(ctx, client.EventSendFileRlst, id)
	if err != nil {
		cancel()
	} else if r := d.(*datachannel.Result); r.Code != protocol.NoErr {
		err = fmt.Errorf("sendFileRlst to %s: code %d", rx.c.UserID(), r.Code)
		cancel()
	}
	wg.Wait()
	took := time.Since(t0)
	if err != nil {
		return 0, err
	}
	if errRx != nil {
		return 0, errRx
	}
	path := fd.(*datachannel.FileData).Path
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	_ = os.Remove(path)
	if st.Size() != b.FileSize {
		return 0, fmt.Errorf("%s received %d bytes, %d were sent", rx.c.UserID(), st.Size(), b.FileSize)
	}
	return took, nil
}

// wakeOnce logs in a receiver on url without opening its up connection,
// waits until the sender's node knows it, and sends it two small
// commands one after the other: the first wakes it (the node asks it to
// open its up connection), the second finds it open. It returns each
// one's SendCmd called → the receiver's notifyCmdData. The receiver logs
// out after.
func wakeOnce(ctx context.Context, tx *txPeer, url, id, dir string) (wake, warm time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rxDir, err := os.MkdirTemp(dir, id+"-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(rxDir)
	rx, err := dialTxPeer(ctx, url, id, rxDir, false)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = rx.c.Close() }()
	if err := seesOnline(ctx, tx.c, rx.c.UserID()); err != nil {
		return 0, 0, err
	}
	send := func(text string) (time.Duration, error) {
		t0 := time.Now()
		task, err := tx.c.SendCmd(ctx, rx.c.UserID(), []byte(text))
		if err != nil {
			return 0, fmt.Errorf("sendCmd to %s: %w", id, err)
		}
		var at time.Time
		select {
		case at = <-rx.cmdAt:
		case <-ctx.Done():
			return 0, fmt.Errorf("%s: no notifyCmdData: %w", id, ctx.Err())
		}
		d, err := tx.wait(ctx, client.EventSendCmdRlst, task)
		if err != nil {
			return 0, err
		}
		if r := d.(*datachannel.Result); r.Code != protocol.NoErr {
			return 0, fmt.Errorf("sendCmdRlst to %s: code %d", id, r.Code)
		}
		return at.Sub(t0), nil
	}
	if wake, err = send("wake up"); err != nil {
		return 0, 0, err
	}
	if warm, err = send("again"); err != nil {
		return 0, 0, err
	}
	return wake, warm, nil
}
