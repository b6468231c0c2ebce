package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crvnode/crvnode/internal/loadgen"
)

func idleCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("crvload idle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := addCommon(fs)
	b := loadgen.Idle{}
	addr := fs.String("addr", "", "host:port of a running node to measure (default: start a node process of its own, built from ./cmd/node or -node-bin); run it with -pprof so that readings follow a forced GC")
	apps := fs.String("app", "", "with -addr: the apps to log in to, comma-separated (default for the own node: idle1,…,idle4)")
	secrets := fs.String("secret", "", "with -addr: their secrets, comma-separated, in the same order (default: each app's ID)")
	nodeBin := fs.String("node-bin", "", "node binary (default: go build ./cmd/node)")
	check := fs.Bool("check", false, "exit 1 if the goal (≤ 40 KiB and ≤ 3 goroutines per idle session) or a check is missed")
	fs.IntVar(&b.Sessions, "n", 10000, "idle browser-style sessions")
	fs.IntVar(&b.SDKSessions, "sdk", 2, "more sessions by package client (signaling only), to compare; -1: none")
	fs.IntVar(&b.Concurrency, "concurrency", 32, "logins at once")
	fs.DurationVar(&b.Hold, "hold", 10*time.Second, "how long the sessions are held before the reading")
	fs.DurationVar(&b.Heartbeat, "heartbeat", 2*time.Second, "a session pings after this long without traffic, as the browser SDK does; negative: no pings")
	fs.DurationVar(&b.Settle, "settle", 30*time.Second, "bound on the wait for the node to come back to idle after the logouts")
	fs.StringVar(&b.HeapDir, "heap-profiles", "", "directory for the node's heap profiles at idle, with the sessions held and after (go tool pprof -base heap-idle.pb.gz heap-held.pb.gz)")
	progress, err := parseWithProgress(fs, args, stderr)
	if err != nil {
		return err
	}
	b.Progress = progress
	if *addr != "" {
		b.URL = "ws://" + *addr + "/ws"
		ids := strings.Split(*apps, ",")
		if *apps == "" {
			return fmt.Errorf("-addr needs -app (and -secret unless each secret is its app's ID)")
		}
		sec := strings.Split(*secrets, ",")
		if *secrets != "" && len(sec) != len(ids) {
			return fmt.Errorf("-app names %d apps, -secret %d secrets", len(ids), len(sec))
		}
		for i, id := range ids {
			a := loadgen.IdleApp{ID: strings.TrimSpace(id), Secret: strings.TrimSpace(id)}
			if *secrets != "" {
				a.Secret = strings.TrimSpace(sec[i])
			}
			b.Apps = append(b.Apps, a)
		}
	}
	var rep *loadgen.IdleReport
	run := func(bin string) error {
		b.NodeBin = bin
		var err error
		rep, err = loadgen.RunIdle(ctx, b)
		return err
	}
	if *addr != "" {
		stop, perr := c.profile()
		if perr != nil {
			return perr
		}
		err = run("")
		if serr := stop(); err == nil {
			err = serr
		}
	} else {
		err = c.withNode(ctx, *nodeBin, progress, run)
	}
	if rep == nil {
		return err
	}
	failures := rep.Failures
	if !*check {
		failures = nil
	}
	if err != nil { // a run cut short measured nothing to judge
		rep.Failures = append(rep.Failures, "the run did not finish: "+err.Error())
	}
	return verdict(stdout, c.json, err, rep, func(w io.Writer) error { return printIdle(w, rep) }, failures, "idle")
}

func printIdle(w io.Writer, r *loadgen.IdleReport) error {
	node := "a running node"
	if r.NodePID != 0 {
		node = fmt.Sprintf("node process %d", r.NodePID)
	}
	fmt.Fprintf(w, "crvload idle: %s, %s; %d browser-style sessions over %d apps (%s), heartbeat ping after %gs without traffic; open-file limit %d\n\n",
		r.URL, node, r.Sessions, len(r.Apps), strings.Join(r.Apps, ","), r.Heartbeat, r.FileLimit)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "node\tidle\theld\tafter\tper session\t")
	fmt.Fprintf(tw, "RSS\t%s\t%s\t%s\t%.1f KiB\t\n", mib(r.Idle.RSS), mib(r.Held.RSS), mib(r.After.RSS), r.RSSPerSession/1024)
	fmt.Fprintf(tw, "Go heap in use\t%s\t%s\t%s\t%.1f KiB\t\n", mib(r.Idle.HeapInuse), mib(r.Held.HeapInuse), mib(r.After.HeapInuse), r.HeapPerSession/1024)
	fmt.Fprintf(tw, "goroutine stacks\t%s\t%s\t%s\t%.1f KiB\t\n", mib(r.Idle.StackInuse), mib(r.Held.StackInuse), mib(r.After.StackInuse), r.StackPerSession/1024)
	fmt.Fprintf(tw, "goroutines\t%d\t%d\t%d\t%.2f\t\n", r.Idle.Goroutines, r.Held.Goroutines, r.After.Goroutines, r.GoroutinesPerSession)
	fmt.Fprintf(tw, "open files\t%d\t%d\t%d\t%.2f\t\n", r.Idle.OpenFDs, r.Held.OpenFDs, r.After.OpenFDs, r.FDsPerSession)
	fmt.Fprintf(tw, "sessions\t%d\t%d\t%d\t\t\n", r.Idle.Sessions, r.Held.Sessions, r.After.Sessions)
	if err := tw.Flush(); err != nil {
		return err
	}
	how := "after a forced GC (the node's /debug/pprof/heap?gc=1)"
	if !r.Held.GCForced {
		how = "the last of samples that agreed (the node serves no profiles, so no GC was forced)"
	}
	fmt.Fprintf(w, "\nreadings: %s; RSS from %s\n", how, map[bool]string{true: "/proc/<pid>/status VmRSS", false: "/metrics process_resident_memory_bytes"}[r.NodePID != 0])
	fmt.Fprintf(w, "logins: %d of %d in %.2f s, %.0f/s, %d at a time; login p50 %s p99 %s; errors %d %s\n", r.LoggedIn, r.Sessions,
		r.LoginSeconds, r.LoginRate, r.Concurrency, msn(r.Login, r.Login.P50), msn(r.Login, r.Login.P99), r.LoginErrors, sortedCounts(r.LoginError))
	fmt.Fprintf(w, "held: node CPU %.2f cores; %d pings, rtt p50 %s p99 %s; keepalive lost %d; events %s; ended by the node %s\n",
		r.HoldCPU, r.Pings, msn(r.PingRTT, r.PingRTT.P50), msn(r.PingRTT, r.PingRTT.P99), r.KeepaliveLost, sortedCounts(r.Events), sortedCounts(r.ClosedByNode))
	fmt.Fprintf(w, "crvload's own RSS per session: %.1f KiB\n", r.LoadRSSPerSession/1024)
	if r.SDKSessions > 0 {
		fmt.Fprintf(w, "package client sessions: %d, %.1f goroutines each at the node; events %s\n", r.SDKSessions, r.SDKGoroutinesPerSession, sortedCounts(r.SDKEvents))
	}
	fmt.Fprintf(w, "after the logouts: back to idle %v in %.1f s\n", r.Settled, r.SettleSeconds)
	fmt.Fprintf(w, "goal: ≤ %d KiB and ≤ %d goroutines per idle session\n", loadgen.IdleGoalRSSPerSession>>10, loadgen.IdleGoalGoroutinesPerSession)
	printFailures(w, "", r.Failures)
	return nil
}
