package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// SFUBench configures the SFU bench: crvnode's SFU against the baseline
// forwarder, each in its own process, one publisher and N subscribers on
// the load side.
type SFUBench struct {
	NodeBin string // the node binary (BuildNode)
	// NodeBinB is a second node binary, measured as server ServerCrvnodeB
	// in the same run as NodeBin: a change against the node before it.
	// Empty: $CRVLOAD_SFU_NODE_BIN_B.
	NodeBinB string
	// PaddingPercent is the share of the publisher's video packets that
	// are padding only (bandwidth probes, as browsers send), 0 to 50.
	// Zero: $CRVLOAD_SFU_PADDING_PERCENT, or none.
	PaddingPercent int
	// BaselineCmd starts the baseline server (crvload baseline-server);
	// the bench adds -http 127.0.0.1:0. BaselineEnv is added to its
	// environment.
	BaselineCmd []string
	BaselineEnv []string
	// LiveKitCmd runs one LiveKit measurement (the bench/livekit program
	// with its livekit-server flag); the bench adds the load's flags and
	// reads the result from its standard output (RunSFUTarget's, as JSON).
	LiveKitCmd  []string
	Counts      []int    // subscriber counts, one run per count and server
	Servers     []string // ServerCrvnode and/or ServerBaseline
	Bitrate     int      // video bits/s
	FPS         int
	Window      time.Duration                    // steady-state measurement
	Settle      time.Duration                    // after the publisher starts, and after every subscriber receives
	JoinTimeout time.Duration                    // for every subscriber's first video packet
	Concurrency int                              // subscribers joining at once
	TempDir     string                           // data directories
	PerfDir     string                           // if set, `perf record` each server during its window, into this directory
	Progress    func(format string, args ...any) `json:"-"`
}

func (b *SFUBench) defaults() error {
	if err := b.fill(); err != nil {
		return err
	}
	if len(b.Counts) == 0 || len(b.Servers) == 0 {
		return fmt.Errorf("%w: no subscriber counts or no servers", ErrConfig)
	}
	for _, s := range b.Servers {
		switch {
		case s == ServerCrvnode && b.NodeBin == "":
			return fmt.Errorf("%w: no node binary", ErrConfig)
		case s == ServerCrvnodeB && b.NodeBinB == "":
			return fmt.Errorf("%w: no second node binary (CRVLOAD_SFU_NODE_BIN_B)", ErrConfig)
		case s == ServerBaseline && len(b.BaselineCmd) == 0:
			return fmt.Errorf("%w: no baseline command", ErrConfig)
		case s == ServerLiveKit && len(b.LiveKitCmd) == 0:
			return fmt.Errorf("%w: no LiveKit command", ErrConfig)
		case s != ServerCrvnode && s != ServerCrvnodeB && s != ServerBaseline && s != ServerLiveKit:
			return fmt.Errorf("%w: unknown server %q", ErrConfig, s)
		}
	}
	return nil
}

// fill sets the load's defaults, for every server alike.
func (b *SFUBench) fill() error {
	if b.Bitrate <= 0 {
		b.Bitrate = 1_000_000
	}
	if b.FPS <= 0 {
		b.FPS = 30
	}
	if b.Window <= 0 {
		b.Window = 10 * time.Second
	}
	if b.Settle <= 0 {
		b.Settle = 2 * time.Second
	}
	if b.JoinTimeout <= 0 {
		b.JoinTimeout = 60 * time.Second
	}
	if b.Concurrency <= 0 {
		b.Concurrency = 8
	}
	if b.Progress == nil {
		b.Progress = func(string, ...any) {}
	}
	if b.NodeBinB == "" {
		b.NodeBinB = os.Getenv("CRVLOAD_SFU_NODE_BIN_B")
	}
	if v := os.Getenv("CRVLOAD_SFU_PADDING_PERCENT"); b.PaddingPercent == 0 && v != "" {
		p, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%w: CRVLOAD_SFU_PADDING_PERCENT: %w", ErrConfig, err)
		}
		b.PaddingPercent = p
	}
	if b.PaddingPercent < 0 || b.PaddingPercent > 50 {
		return fmt.Errorf("%w: padding %d %%: want 0 to 50", ErrConfig, b.PaddingPercent)
	}
	return nil
}

// SFUResult is one server's run with one subscriber count.
type SFUResult struct {
	Server      string `json:"server"`
	Subscribers int    `json:"subscribers"`
	// Packets the subscribers received (audio and video, retransmissions
	// included) during the window, and the server's CPU time meanwhile.
	WindowSeconds  float64 `json:"windowSeconds"`
	Packets        uint64  `json:"packets"`
	CPUSeconds     float64 `json:"cpuSeconds"`
	CPUPerPacketUs float64 `json:"cpuPerPacketUs"`
	// RSS with the publisher alone, at the end of the window, and the
	// difference per subscriber.
	RSSPublisherBytes     int64   `json:"rssPublisherBytes"`
	RSSLoadedBytes        int64   `json:"rssLoadedBytes"`
	RSSPerSubscriberBytes float64 `json:"rssPerSubscriberBytes"`
	// Latency is receive time minus the synthetic send time of video
	// packets in the window; Join is subscribe → first video packet, and
	// JoinKeyframe subscribe → the first keyframe's first packet (the
	// first frame a subscriber can show).
	Latency      Summary `json:"latency"`
	Join         Summary `json:"join"`
	JoinKeyframe Summary `json:"joinKeyframe"`
	Loss         float64 `json:"loss"`
	Bad          uint64  `json:"badPayloads"`
	RxBps        float64 `json:"rxBitsPerSecondPerSubscriber"`
	PerfData     string  `json:"perfData,omitempty"`
}

// RunSFUBench runs every count against every server, alternating which
// server goes first so that drift on a shared machine hits both alike.
func RunSFUBench(ctx context.Context, b SFUBench) ([]SFUResult, error) {
	if err := b.defaults(); err != nil {
		return nil, err
	}
	var out []SFUResult
	for i, n := range b.Counts {
		order := b.Servers
		if i%2 == 1 {
			order = reversed(order)
		}
		for _, server := range order {
			b.Progress("%s: %d subscribers", server, n)
			res, err := b.runOne(ctx, server, n)
			if err != nil {
				return out, fmt.Errorf("%s with %d subscribers: %w", server, n, err)
			}
			b.Progress("%s: %d subscribers: %.2f µs/packet, %.0f KiB/subscriber, latency p50 %v p99 %v, loss %.3f%%",
				server, n, res.CPUPerPacketUs, res.RSSPerSubscriberBytes/1024, res.Latency.P50, res.Latency.P99, 100*res.Loss)
			out = append(out, res)
		}
	}
	return out, nil
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func (b *SFUBench) target(server string) (sfuTarget, error) {
	if server == ServerBaseline {
		return &baselineTarget{argv: b.BaselineCmd, env: b.BaselineEnv, padding: b.PaddingPercent}, nil
	}
	dir, err := os.MkdirTemp(b.TempDir, "crvload-node-")
	if err != nil {
		return nil, err
	}
	bin := b.NodeBin
	if server == ServerCrvnodeB {
		bin = b.NodeBinB
	}
	return &nodeTarget{bin: bin, dataDir: dir, padding: b.PaddingPercent}, nil
}

// runOne measures one server with n subscribers, in a fresh process.
func (b *SFUBench) runOne(ctx context.Context, server string, n int) (SFUResult, error) {
	if server == ServerLiveKit {
		return b.runLiveKit(ctx, n)
	}
	t, err := b.target(server)
	if err != nil {
		return SFUResult{Server: server, Subscribers: n}, err
	}
	if nt, ok := t.(*nodeTarget); ok {
		defer os.RemoveAll(nt.dataDir)
	}
	return b.runTarget(ctx, server, n, t)
}

// runTarget measures t with n subscribers: it starts the server, the
// publisher, then the subscribers, and measures the window.
func (b *SFUBench) runTarget(ctx context.Context, server string, n int, t sfuTarget) (res SFUResult, err error) {
	res = SFUResult{Server: server, Subscribers: n}
	proc, err := t.start(ctx)
	if err != nil {
		return res, err
	}
	var subs []io.Closer
	defer func() {
		closeAll(subs)
		t.close()
		err = errors.Join(err, proc.Stop(10*time.Second))
	}()
	if err := t.publish(ctx, b.Bitrate, b.FPS); err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	if err := sleepCtx(ctx, b.Settle); err != nil {
		return res, err
	}
	u0, err := proc.Usage()
	if err != nil {
		return res, err
	}
	res.RSSPublisherBytes = u0.RSS
	recvs := make([]*Receiver, n)
	subs, res.Join, res.JoinKeyframe, err = b.join(ctx, t, recvs)
	if errors.Is(err, ErrNoMedia) {
		return res, fmt.Errorf("%w\nthe server's last lines:\n%s", err, proc.Logs())
	}
	if err != nil {
		return res, err
	}
	if err := sleepCtx(ctx, b.Settle); err != nil {
		return res, err
	}
	return b.window(ctx, proc, recvs, res)
}

// join subscribes every receiver and waits for each one's first keyframe;
// it returns the subscriptions and the join times (to the first packet
// and to the first keyframe).
func (b *SFUBench) join(ctx context.Context, t sfuTarget, recvs []*Receiver) ([]io.Closer, Summary, Summary, error) {
	subs := make([]io.Closer, len(recvs))
	starts := make([]time.Time, len(recvs))
	errs := make([]error, len(recvs))
	sem := make(chan struct{}, b.Concurrency)
	var wg sync.WaitGroup
	for i := range recvs {
		recvs[i] = NewReceiver()
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			starts[i] = time.Now()
			subs[i], errs[i] = t.subscribe(ctx, i, recvs[i])
		}()
	}
	wg.Wait()
	var closers []io.Closer
	for _, s := range subs {
		if s != nil {
			closers = append(closers, s)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return closers, Summary{}, Summary{}, err
	}
	var first, key Hist
	deadline := time.NewTimer(b.JoinTimeout)
	defer deadline.Stop()
	for i, r := range recvs {
		select {
		case <-r.FirstKeyframe():
			first.Record(r.FirstVideoAt().Sub(starts[i]))
			key.Record(r.FirstKeyframeAt().Sub(starts[i]))
		case <-deadline.C:
			states := make([]any, len(subs))
			for j, s := range subs {
				states[j] = s
			}
			return closers, Summary{}, Summary{}, fmt.Errorf("%w: subscriber %d of %d within %v; %s",
				ErrNoMedia, i, len(recvs), b.JoinTimeout, describeMissing(states, recvs))
		case <-ctx.Done():
			return closers, Summary{}, Summary{}, ctx.Err()
		}
	}
	return closers, first.Summary(), key.Summary(), nil
}

// window measures the steady state: the server's CPU time against the
// packets its subscribers received, latency and loss.
func (b *SFUBench) window(ctx context.Context, proc *Proc, recvs []*Receiver, res SFUResult) (SFUResult, error) {
	var perf *exec.Cmd
	if b.PerfDir != "" {
		res.PerfData = filepath.Join(b.PerfDir, fmt.Sprintf("perf-%s-%d.data", res.Server, res.Subscribers))
		perf = exec.CommandContext(ctx, "perf", "record", "-F", "499", "-g", "-p", strconv.Itoa(proc.Pid()),
			"-o", res.PerfData, "--", "sleep", strconv.FormatFloat(b.Window.Seconds(), 'f', 1, 64))
		if err := perf.Start(); err != nil {
			return res, fmt.Errorf("perf: %w", err)
		}
	}
	var c0 RecvCounts
	for _, r := range recvs {
		r.AddLatency(nil, true)
		c0 = c0.Add(r.Counts())
	}
	u0, err := proc.Usage()
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := sleepCtx(ctx, b.Window); err != nil {
		return res, err
	}
	u1, err := proc.Usage()
	if err != nil {
		return res, err
	}
	elapsed := time.Since(start)
	var c1 RecvCounts
	var lat Hist
	for _, r := range recvs {
		r.AddLatency(&lat, false)
		c1 = c1.Add(r.Counts())
	}
	if perf != nil {
		if err := perf.Wait(); err != nil {
			return res, fmt.Errorf("perf: %w", err)
		}
	}
	d := c1.Sub(c0)
	res.WindowSeconds = elapsed.Seconds()
	res.Packets, res.Bad, res.Loss = d.Packets, d.Bad, d.Loss()
	res.CPUSeconds = (u1.CPU - u0.CPU).Seconds()
	if d.Packets > 0 {
		res.CPUPerPacketUs = res.CPUSeconds * 1e6 / float64(d.Packets)
	}
	res.RSSLoadedBytes = u1.RSS
	res.RSSPerSubscriberBytes = float64(u1.RSS-res.RSSPublisherBytes) / float64(len(recvs))
	res.Latency = lat.Summary()
	res.RxBps = float64(d.Bytes*8) / elapsed.Seconds() / float64(len(recvs))
	if d.VideoPackets == 0 {
		return res, fmt.Errorf("%w: no video in the window", ErrNoMedia)
	}
	return res, nil
}

// closeAll closes connections in parallel: each may wait for its peer.
func closeAll(cs []io.Closer) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Close()
		}()
	}
	wg.Wait()
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
