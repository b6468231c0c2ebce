package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crvnode/crvnode/internal/loadgen"
)

// nodeBinary returns the node binary to run: the -node-bin flag's, or one
// built from ./cmd/node into a temporary directory (removed by cleanup).
func nodeBinary(ctx context.Context, flagged string, progress func(string, ...any)) (path string, cleanup func(), err error) {
	if flagged != "" {
		return flagged, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "crvload-bin-")
	if err != nil {
		return "", nil, err
	}
	progress("building the node: go build ./cmd/node")
	path, err = loadgen.BuildNode(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return path, func() { os.RemoveAll(dir) }, nil
}

func benchSFUCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("crvload bench sfu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := addCommon(fs)
	counts := fs.String("n", "10,50,100", "subscriber counts, one run per count and server")
	servers := fs.String("servers", "crvnode,baseline", "servers to measure: crvnode, baseline, livekit (with -livekit)")
	nodeBin := fs.String("node-bin", "", "node binary (default: go build ./cmd/node)")
	perf := fs.String("perf", "", "directory: `perf record -g` each server process during its window")
	livekit := fs.String("livekit", "", "livekit-server binary (v1.13.5): measure LiveKit too, in the same run (bench/livekit)")
	livekitBench := fs.String("livekit-bench", "", "the bench/livekit program (default: go build in ./bench/livekit)")
	b := loadgen.SFUBench{}
	fs.IntVar(&b.Bitrate, "bitrate", 1_000_000, "the publisher's video bitrate, bits/s")
	fs.IntVar(&b.FPS, "fps", 30, "video frames per second")
	fs.DurationVar(&b.Window, "window", 10*time.Second, "steady-state measurement window, after every subscriber receives")
	fs.DurationVar(&b.Settle, "settle", 2*time.Second, "wait after the publisher starts and after the last subscriber receives")
	fs.IntVar(&b.Concurrency, "concurrency", 8, "subscribers joining at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if b.Counts, err = intList(*counts); err != nil {
		return err
	}
	b.Servers = strings.Split(*servers, ",")
	b.PerfDir = *perf
	b.Progress = progressf(stderr)
	if *livekit != "" {
		cleanup, err := addLiveKit(ctx, &b, *livekit, *livekitBench)
		if err != nil {
			return err
		}
		defer cleanup()
	}
	return c.withNode(ctx, *nodeBin, b.Progress, func(bin string) error {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		b.NodeBin = bin
		b.BaselineCmd, b.BaselineEnv = []string{self, "baseline-server"}, []string{mainEnv + "=1"}
		res, err := loadgen.RunSFUBench(ctx, b)
		if len(res) > 0 {
			if c.json {
				err = errors.Join(err, writeJSON(stdout, struct {
					Config  loadgen.SFUBench    `json:"config"`
					Results []loadgen.SFUResult `json:"results"`
				}{b, res}))
			} else {
				err = errors.Join(err, printSFU(stdout, b, res))
			}
		}
		return err
	})
}

// addLiveKit adds LiveKit to b's servers: livekit-server at server,
// measured by the bench/livekit program (bench, or one built now; cleanup
// removes it).
func addLiveKit(ctx context.Context, b *loadgen.SFUBench, server, bench string) (cleanup func(), err error) {
	cleanup = func() {}
	if bench == "" {
		dir, err := os.MkdirTemp("", "crvload-bin-")
		if err != nil {
			return nil, err
		}
		b.Progress("building the LiveKit bench: go build in ./bench/livekit")
		if bench, err = loadgen.BuildLiveKitBench(ctx, dir); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		cleanup = func() { os.RemoveAll(dir) }
	}
	b.LiveKitCmd = []string{bench, "-livekit-server", server}
	if !slices.Contains(b.Servers, loadgen.ServerLiveKit) {
		b.Servers = append(b.Servers, loadgen.ServerLiveKit)
	}
	return cleanup, nil
}

func printSFU(w io.Writer, b loadgen.SFUBench, res []loadgen.SFUResult) error {
	fmt.Fprintf(w, "crvload bench sfu: 1 publisher (synthetic VP8 %d kbit/s at %d fps + Opus-like audio), N subscribers; %v window; loopback\n\n",
		b.Bitrate/1000, b.FPS, b.Window)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\tserver\tCPU µs/pkt\tCPU s\tpackets\tRSS/sub\tRSS pub only\tlat p50\tlat p99\tloss\tjoin p50\tjoin p99\tkey p50\tkey p99\trx/sub\t")
	byKey := map[string]loadgen.SFUResult{}
	for _, r := range res {
		byKey[fmt.Sprint(r.Server, r.Subscribers)] = r
		fmt.Fprintf(tw, "%d\t%s\t%.2f\t%.2f\t%d\t%.0f KiB\t%s\t%s\t%s\t%.3f%%\t%s\t%s\t%s\t%s\t%s\t\n",
			r.Subscribers, r.Server, r.CPUPerPacketUs, r.CPUSeconds, r.Packets, r.RSSPerSubscriberBytes/1024,
			mib(r.RSSPublisherBytes), msf(r.Latency.P50), msf(r.Latency.P99), 100*r.Loss, msf(r.Join.P50), msf(r.Join.P99),
			msf(r.JoinKeyframe.P50), msf(r.JoinKeyframe.P99), kbps(r.RxBps))
	}
	for _, n := range b.Counts {
		for _, other := range []string{loadgen.ServerBaseline, loadgen.ServerLiveKit} {
			o, ok1 := byKey[fmt.Sprint(loadgen.ServerCrvnode, n)]
			p, ok2 := byKey[fmt.Sprint(other, n)]
			if ok1 && ok2 {
				printSFURatio(tw, n, loadgen.ServerCrvnode+"/"+other, o, p)
			}
		}
	}
	return tw.Flush()
}

// printSFURatio prints the row of o's figures over p's.
func printSFURatio(tw io.Writer, n int, name string, o, p loadgen.SFUResult) {
	fmt.Fprintf(tw, "%d\t%s\t%s\t\t\t%s\t\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\t\n", n, name,
		ratio(o.CPUPerPacketUs, p.CPUPerPacketUs), ratio(o.RSSPerSubscriberBytes, p.RSSPerSubscriberBytes),
		ratio(float64(o.Latency.P50), float64(p.Latency.P50)), ratio(float64(o.Latency.P99), float64(p.Latency.P99)),
		ratio(o.Loss, p.Loss), ratio(float64(o.Join.P50), float64(p.Join.P50)), ratio(float64(o.Join.P99), float64(p.Join.P99)),
		ratio(float64(o.JoinKeyframe.P50), float64(p.JoinKeyframe.P50)), ratio(float64(o.JoinKeyframe.P99), float64(p.JoinKeyframe.P99)))
}

func benchSignalingCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("crvload bench signaling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := addCommon(fs)
	sessions := fs.String("sessions", "1000,10000", "idle logged-in sessions, increasing")
	nodeBin := fs.String("node-bin", "", "node binary (default: go build ./cmd/node)")
	b := loadgen.SignalingBench{}
	fs.IntVar(&b.Calls, "calls", 2000, "call setups measured at each session count")
	fs.IntVar(&b.Pairs, "pairs", 4, "pairs calling at once")
	fs.IntVar(&b.Concurrency, "concurrency", 64, "idle sessions logging in at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if b.Sessions, err = intList(*sessions); err != nil {
		return err
	}
	b.Progress = progressf(stderr)
	return c.withNode(ctx, *nodeBin, b.Progress, func(bin string) error {
		b.NodeBin = bin
		res, err := loadgen.RunSignalingBench(ctx, b)
		if len(res) == 0 {
			return err
		}
		if c.json {
			return errors.Join(err, writeJSON(stdout, struct {
				Config  loadgen.SignalingBench    `json:"config"`
				Results []loadgen.SignalingResult `json:"results"`
			}{b, res}))
		}
		fmt.Fprintf(stdout, "crvload bench signaling: node process, %d pairs calling, %d calls per step\n\n", b.Pairs, b.Calls)
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "sessions\tlogin p50\tlogin p99\tcall setup p50\tcall setup p99\tfailed\trtt p50\trtt p99\tnode RSS\tRSS/session\t")
		for _, r := range res {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%.1f KiB\t\n", r.Sessions, msf(r.Login.P50), msf(r.Login.P99),
				msf(r.CallSetup.P50), msf(r.CallSetup.P99), r.CallsFailed, msf(r.RTT.P50), msf(r.RTT.P99), mib(r.RSSBytes), r.RSSPerSessionBytes/1024)
		}
		return errors.Join(err, tw.Flush())
	})
}

func baselineCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("crvload baseline-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("http", "127.0.0.1:0", "HTTP signaling address (POST /publish, POST /subscribe)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return loadgen.ServeBaseline(ctx, *addr, stderr)
}

func benchClusterCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("crvload bench cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := addCommon(fs)
	nodeBin := fs.String("node-bin", "", "node binary (default: go build ./cmd/node)")
	b := loadgen.ClusterBench{}
	fs.StringVar(&b.RedisBin, "redis-bin", "", "redis-server binary (default: the one on PATH)")
	fs.IntVar(&b.Nodes, "nodes", 3, "node processes in the cluster")
	fs.IntVar(&b.Calls, "calls", 1000, "call setups measured in each call row")
	fs.IntVar(&b.Pairs, "pairs", 4, "pairs calling at once")
	fs.IntVar(&b.Watchers, "watchers", 1000, "users watching the DND changes (startUserStatusNotify), spread evenly over the nodes")
	fs.IntVar(&b.Changes, "changes", 100, "DND changes, each after every watcher heard the previous one")
	fs.DurationVar(&b.ChangeTimeout, "change-timeout", 5*time.Second, "how long a change may take to reach every watcher before the next one")
	fs.IntVar(&b.Concurrency, "concurrency", 32, "watchers logging in at once")
	fs.IntVar(&b.Entries, "entries", 100, "meeting entries on the meeting's node, and as many moved from another node (negative: none)")
	fs.IntVar(&b.Files, "files", 3, "files sent to a user on the same node, and as many to one on another node (negative: none)")
	fileSize := fs.String("file-size", "8MiB", "size of each file")
	fs.IntVar(&b.Wakes, "wakes", 10, "commands to a receiver whose up connection is not open, on the same node and as many on another node (negative: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if b.FileSize, err = parseSize(*fileSize); err != nil {
		return err
	}
	b.Progress = progressf(stderr)
	return c.withNode(ctx, *nodeBin, b.Progress, func(bin string) error {
		b.NodeBin = bin
		res, err := loadgen.RunClusterBench(ctx, b)
		if len(res.Calls) == 0 && len(res.Presence) == 0 && len(res.Entries) == 0 && len(res.Transfers) == 0 {
			return err
		}
		if c.json {
			err = errors.Join(err, writeJSON(stdout, struct {
				Config  loadgen.ClusterBench  `json:"config"`
				Results loadgen.ClusterResult `json:"results"`
			}{b, res}))
		} else {
			err = errors.Join(err, printCluster(stdout, b, res))
		}
		if msg := res.Failed(); msg != "" && err == nil {
			err = fmt.Errorf("%w: %s", errFailures, msg)
		}
		return err
	})
}

func printCluster(w io.Writer, b loadgen.ClusterBench, res loadgen.ClusterResult) error {
	fmt.Fprintf(w, "crvload bench cluster: node processes without media, then with; the cluster is %d nodes on one redis-server; loopback\n", b.Nodes)
	fmt.Fprintf(w, "call setup: %d calls by %d pairs at once; fan-out: %d watchers, %d DND changes one at a time\n\n", b.Calls, b.Pairs, b.Watchers, b.Changes)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "call setup\tnodes\tp50\tp99\tmax\tfailed\tnode CPU s\tredis CPU s\tnode RSS\t")
	for _, r := range res.Calls {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\t%.2f\t%s\t\n", r.Setup, r.Nodes, msn(r.CallSetup, r.CallSetup.P50),
			msn(r.CallSetup, r.CallSetup.P99), msn(r.CallSetup, r.CallSetup.Max), r.CallsFailed,
			cpuList(r.Procs.NodeCPUSeconds), r.Procs.RedisCPUSeconds, rssList(r.Procs.NodeRSSBytes))
	}
	if len(res.Calls) > 0 {
		one := res.Calls[0].CallSetup
		for _, r := range res.Calls[1:] {
			fmt.Fprintf(tw, "%s / %s\t\t%s\t%s\t\t\t\t\t\t\n", r.Setup, res.Calls[0].Setup,
				ratio(float64(r.CallSetup.P50), float64(one.P50)), ratio(float64(r.CallSetup.P99), float64(one.P99)))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "DND fan-out\tnodes\tlast p50\tlast p99\tlast max\tfirst p50\tduplicates\tmissed\tlate\tnode CPU s\tredis CPU s\tnode RSS\t")
	for _, r := range res.Presence {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%.2f\t%s\t\n", r.Setup, r.Nodes, msn(r.FanOut, r.FanOut.P50),
			msn(r.FanOut, r.FanOut.P99), msn(r.FanOut, r.FanOut.Max), msn(r.First, r.First.P50), r.Duplicates, r.Missed, r.TimedOut,
			cpuList(r.Procs.NodeCPUSeconds), r.Procs.RedisCPUSeconds, rssList(r.Procs.NodeRSSBytes))
	}
	if len(res.Presence) == 2 {
		one, clu := res.Presence[0], res.Presence[1]
		fmt.Fprintf(tw, "%s / %s\t\t%s\t%s\t\t%s\t\t\t\t\t\t\t\n", clu.Setup, one.Setup,
			ratio(float64(clu.FanOut.P50), float64(one.FanOut.P50)), ratio(float64(clu.FanOut.P99), float64(one.FanOut.P99)),
			ratio(float64(clu.First.P50), float64(one.First.P50)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(res.Entries) > 0 {
		fmt.Fprintf(w, "\nmeeting entry, %d nodes with media: each into a fresh meeting a host on the first node entered first; moved: the user logged in on the second node\n", b.Nodes)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "meeting entry\tentries\tp50\tp99\tmax\tfailed\tsessions moved\t")
		for _, r := range res.Entries {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%d\t\n", r.Setup, r.Entries, msn(r.Enter, r.Enter.P50), msn(r.Enter, r.Enter.P99),
				msn(r.Enter, r.Enter.Max), r.Failed, r.Moves)
		}
		if len(res.Entries) == 2 {
			fmt.Fprintf(tw, "%s / %s\t\t%s\t%s\t\t\t\t\n", res.Entries[1].Setup, res.Entries[0].Setup,
				times(res.EntryP50Ratio), times(res.EntryP99Ratio))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(res.Transfers) > 0 {
		fmt.Fprintf(w, "\ntransfers from a user on the first node: %d files of %s each way; %d commands to a receiver whose up connection is not open\n",
			max(b.Files, 0), mib(b.FileSize), max(b.Wakes, 0))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "transfer\tfiles s\tMiB/s (median)\tfirst cmd p50\tfirst cmd max\tnext cmd p50\tlink bytes\tfailed\t")
		for _, r := range res.Transfers {
			var secs []string
			for _, v := range r.Seconds {
				secs = append(secs, strconv.FormatFloat(v, 'f', 2, 64))
			}
			rate := "-"
			if r.MiBps > 0 {
				rate = strconv.FormatFloat(r.MiBps, 'f', 1, 64)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.Setup, strings.Join(secs, " "), rate,
				msn(r.Wake, r.Wake.P50), msn(r.Wake, r.Wake.Max), msn(r.Warm, r.Warm.P50), mib(int64(r.LinkBytes)), r.Failed)
		}
		if len(res.Transfers) == 2 {
			fmt.Fprintf(tw, "%s / %s\t\t%s\t%s\t\t\t\t\t\n", res.Transfers[1].Setup, res.Transfers[0].Setup,
				times(res.TransferRatio), times(res.WakeP50Ratio))
		}
		return tw.Flush()
	}
	return nil
}

// times prints a ratio computed already, or "-" when it is 0 (a side
// without samples).
func times(r float64) string {
	if r == 0 {
		return "-"
	}
	return ratio(r, 1)
}

// cpuList prints CPU seconds per node, "0.51+0.48+0.50".
func cpuList(s []float64) string {
	var parts []string
	for _, v := range s {
		parts = append(parts, strconv.FormatFloat(v, 'f', 2, 64))
	}
	return strings.Join(parts, "+")
}

// rssList prints RSS per node in MiB, "41/40/40 MiB".
func rssList(s []int64) string {
	var parts []string
	for _, v := range s {
		parts = append(parts, strconv.FormatInt(v>>20, 10))
	}
	return strings.Join(parts, "/") + " MiB"
}
