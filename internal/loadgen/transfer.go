package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/protocol"
)

// Transfer modes.
const (
	TransferRelay  = "relay"  // SendFile: client A → node → client B
	TransferDirect = "direct" // one pion data channel between two PeerConnections
)

// TransferBench configures the transfer bench: a file relayed by the node
// (its own process) against the same bytes over a direct data channel.
type TransferBench struct {
	NodeBin  string
	TempDir  string
	Size     int64
	Modes    []string
	Progress func(format string, args ...any) `json:"-"`
}

// TransferResult is one mode's transfer.
type TransferResult struct {
	Mode           string  `json:"mode"`
	Bytes          int64   `json:"bytes"`
	Seconds        float64 `json:"seconds"`
	MiBps          float64 `json:"mibPerSecond"`
	NodeRSSBefore  int64   `json:"nodeRssBeforeBytes,omitempty"`
	NodeRSSMax     int64   `json:"nodeRssMaxBytes,omitempty"`
	NodeRSSGrowth  int64   `json:"nodeRssGrowthBytes,omitempty"`
	NodeCPUSeconds float64 `json:"nodeCpuSeconds,omitempty"`
}

// RunTransferBench writes a file of Size random bytes and sends it in
// every mode.
func RunTransferBench(ctx context.Context, b TransferBench) ([]TransferResult, error) {
	if b.Size <= 0 || len(b.Modes) == 0 {
		return nil, fmt.Errorf("%w: no size or no modes", ErrConfig)
	}
	if b.Progress == nil {
		b.Progress = func(string, ...any) {}
	}
	dir, err := os.MkdirTemp(b.TempDir, "crvload-transfer-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "content.bin")
	b.Progress("writing %d MiB of random bytes", b.Size>>20)
	if err := writeRandom(src, b.Size); err != nil {
		return nil, err
	}
	var out []TransferResult
	for _, mode := range b.Modes {
		recvDir, err := os.MkdirTemp(dir, "recv-")
		if err != nil {
			return out, err
		}
		b.Progress("%s: sending %d MiB", mode, b.Size>>20)
		var res TransferResult
		switch mode {
		case TransferRelay:
			res, err = b.relay(ctx, src, recvDir)
		case TransferDirect:
			res, err = directTransfer(ctx, src, b.Size, recvDir)
		default:
			err = fmt.Errorf("%w: unknown transfer mode %q", ErrConfig, mode)
		}
		_ = os.RemoveAll(recvDir)
		if err != nil {
			return out, fmt.Errorf("%s: %w", mode, err)
		}
		res.Mode, res.Bytes = mode, b.Size
		res.MiBps = float64(b.Size) / (1 << 20) / res.Seconds
		b.Progress("%s: %.1f MiB/s", mode, res.MiBps)
		out = append(out, res)
	}
	return out, nil
}

func writeRandom(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.NewChaCha8([32]byte{'c', 'r', 'v'})
	_, err = io.CopyN(w, r, size)
	return errors.Join(err, w.Flush(), f.Close())
}

// transferPeer is a client of the relay transfer with its events.
type transferPeer struct {
	c      *client.Client
	events chan client.Event
}

func (b *TransferBench) peer(ctx context.Context, url, id, dir string) (*transferPeer, error) {
	p := &transferPeer{events: make(chan client.Event, 4096)}
	c, err := client.Dial(ctx, url, client.Options{TransferDir: dir, SettingEngine: LoopbackSettings(),
		Handler: func(ev client.Event) {
			select {
			case p.events <- ev:
			case <-ctx.Done():
			}
		}})
	if err != nil {
		return nil, err
	}
	p.c = c
	if _, err := c.Login(ctx, protocol.LoginParams{AppID: BenchApp, AppSecret: MD5Hex(BenchApp), UserID: id, NickName: id}); err != nil {
		_ = c.Close()
		return nil, err
	}
	// A command to nobody returns once the transfer channel is open.
	if _, err := c.SendCmd(ctx, "nobody", []byte("warm-up")); err != nil && protocol.CodeOf(err) != protocol.SendDataTargetInvalid {
		_ = c.Close()
		return nil, fmt.Errorf("%s: transfer channel: %w", id, err)
	}
	return p, nil
}

// wait returns the data of the first event named method for task id.
func (p *transferPeer) wait(ctx context.Context, method, id string) (any, error) {
	for {
		select {
		case ev := <-p.events:
			if ev.Method != method {
				continue
			}
			switch d := ev.Data.(type) {
			case *datachannel.Result:
				if string(d.TaskID) == id {
					return d, nil
				}
			case *datachannel.FileData:
				if string(d.TaskID) == id {
					return d, nil
				}
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w", method, ctx.Err())
		}
	}
}

// relay sends the file from A to B through a node process, sampling the
// node's RSS every 50 ms.
func (b *TransferBench) relay(ctx context.Context, src, recvDir string) (res TransferResult, err error) {
	dataDir, err := os.MkdirTemp(b.TempDir, "crvload-node-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dataDir)
	proc, err := StartNode(ctx, b.NodeBin, dataDir, benchNodeConfig)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, proc.Stop(10*time.Second)) }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	url := "ws://" + proc.Addr() + "/ws"
	sender, err := b.peer(ctx, url, "tx-a", filepath.Dir(src))
	if err != nil {
		return res, err
	}
	defer sender.c.Close()
	receiver, err := b.peer(ctx, url, "tx-b", recvDir)
	if err != nil {
		return res, err
	}
	defer receiver.c.Close()
	u0, err := proc.Usage()
	if err != nil {
		return res, err
	}
	stopSampling, maxRSS := sampleRSS(proc, 50*time.Millisecond)
	t0 := time.Now()
	id, err := sender.c.SendFile(ctx, "tx-b", src)
	if err == nil {
		err = b.finish(ctx, sender, receiver, id)
	}
	elapsed := time.Since(t0)
	stopSampling()
	if err != nil {
		return res, err
	}
	u1, err := proc.Usage()
	if err != nil {
		return res, err
	}
	res.Seconds, res.NodeCPUSeconds = elapsed.Seconds(), (u1.CPU - u0.CPU).Seconds()
	res.NodeRSSBefore, res.NodeRSSMax = u0.RSS, max(*maxRSS, u1.RSS)
	res.NodeRSSGrowth = res.NodeRSSMax - u0.RSS
	return res, nil
}

// finish waits for the sender's result and the receiver's file.
func (b *TransferBench) finish(ctx context.Context, sender, receiver *transferPeer, id string) error {
	d, err := sender.wait(ctx, client.EventSendFileRlst, id)
	if err != nil {
		return err
	}
	if r := d.(*datachannel.Result); r.Code != protocol.NoErr {
		return fmt.Errorf("sendFileRlst: code %d", r.Code)
	}
	d, err = receiver.wait(ctx, client.EventNotifyFileData, id)
	if err != nil {
		return err
	}
	st, err := os.Stat(d.(*datachannel.FileData).Path)
	if err != nil {
		return err
	}
	if st.Size() != b.Size {
		return fmt.Errorf("received %d bytes, sent %d", st.Size(), b.Size)
	}
	return nil
}

// sampleRSS reads proc's RSS every interval until stop is called; *max
// is the largest seen, readable after stop.
func sampleRSS(proc *Proc, interval time.Duration) (stop func(), maxRSS *int64) {
	var peak int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if u, err := proc.Usage(); err == nil {
				peak = max(peak, u.RSS)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }, &peak
}
