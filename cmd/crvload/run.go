package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"text/tabwriter"
	"time"

	"github.com/crvnode/crvnode/internal/loadgen"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/signaling"
)

// runFlags are `crvload run`'s settings.
type runFlags struct {
	loadgen.Scenario
	embedded bool
	nodeLog  string
	quiet    bool
	*common
}

func parseRun(args []string, stderr io.Writer) (*runFlags, error) {
	fs := flag.NewFlagSet("crvload run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &runFlags{common: addCommon(fs)}
	s := &f.Scenario
	fs.StringVar(&s.URL, "url", "ws://127.0.0.1:8080/ws", "the node's WebSocket endpoint")
	fs.StringVar(&s.MetricsURL, "metrics", "", "the node's /metrics URL (default: derived from -url)")
	fs.StringVar(&s.App, "app", "demo", "appID to log in to")
	fs.StringVar(&s.Secret, "secret", "demo", "the app's secret (login sends its MD5)")
	fs.BoolVar(&f.embedded, "embedded", false, "start a node in this process (HTTP and RTC on 127.0.0.1:0, a temporary data directory) instead of using -url")
	fs.StringVar(&f.nodeLog, "node-log", "off", "the -embedded node's log level on stderr: debug, info, warn, error or off (pion reports every socket closed at shutdown)")
	fs.IntVar(&s.Users, "users", 10, "simulated users in all")
	fs.IntVar(&s.Meetings, "meetings", 2, "meetings the users (callers aside) are spread over")
	fs.IntVar(&s.Publishers, "publishers", 1, "publishers of synthetic audio and video per meeting; the other members watch them")
	fs.IntVar(&s.Bitrate, "bitrate", 500_000, "each publisher's video bitrate, bits/s")
	fs.IntVar(&s.FPS, "fps", 30, "video frames per second")
	fs.BoolVar(&s.Simulcast, "simulcast", false, "publish three simulcast layers (full, half, quarter bitrate)")
	fs.IntVar(&s.CallPairs, "calls", 0, "pairs of users calling each other repeatedly (call storm); they take 2×calls of the users")
	fs.IntVar(&s.CallsPerPair, "calls-per-pair", 0, "calls each pair places (0: until -duration ends)")
	fs.DurationVar(&s.Duration, "duration", 20*time.Second, "the measured steady phase, after setup")
	fs.DurationVar(&s.SetupTimeout, "setup-timeout", time.Minute, "bound on logging in, entering and the first media")
	fs.IntVar(&s.Concurrency, "concurrency", 32, "users connecting at once")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress lines on stderr")
	loopback := fs.String("loopback", "auto", "keep the users' PeerConnections on loopback: true, false, or auto (when the node is on loopback)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch *loopback {
	case "true":
		s.Loopback = true
	case "false":
	case "auto":
		s.Loopback = f.embedded || isLoopbackURL(s.URL)
	default:
		return nil, fmt.Errorf("-loopback %q: want true, false or auto", *loopback)
	}
	return f, nil
}

func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	f, err := parseRun(args, stderr)
	if err != nil {
		return err
	}
	stopProfile, err := f.profile()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopProfile()) }()
	if f.embedded {
		n, dir, err := startEmbedded(f.Scenario, f.nodeLog, stderr)
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = errors.Join(err, n.Shutdown(sctx), os.RemoveAll(dir))
		}()
		f.URL, f.MetricsURL = "ws://"+n.Addr()+"/ws", "http://"+n.Addr()+"/metrics"
	}
	if !f.quiet {
		f.Progress = func(p loadgen.Progress) { printProgress(stderr, p) }
	}
	rep, err := loadgen.Run(ctx, f.Scenario)
	if err != nil {
		return err
	}
	if f.json {
		err = writeJSON(stdout, struct {
			Embedded bool `json:"embedded"`
			*loadgen.Report
		}{f.embedded, rep})
	} else {
		err = printReport(stdout, rep, f.embedded)
	}
	if err == nil && rep.Failures() > 0 {
		err = fmt.Errorf("%w: %d failures", errFailures, rep.Failures())
	}
	return err
}

// startEmbedded starts a node in this process with the scenario's app,
// limits that let every user into one meeting, and no rate limiting.
func startEmbedded(s loadgen.Scenario, level string, stderr io.Writer) (*node.Node, string, error) {
	log := slog.New(slog.DiscardHandler)
	if level != "off" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(level)); err != nil {
			return nil, "", fmt.Errorf("-node-log: %w", err)
		}
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: l}))
	}
	dir, err := os.MkdirTemp("", "crvload-embedded-")
	if err != nil {
		return nil, "", err
	}
	n, err := node.Start(node.Config{
		HTTPAddr: "127.0.0.1:0", RTCAddr: "127.0.0.1:0", DataDir: dir,
		File: node.FileConfig{
			Apps:   []signaling.AppConfig{{ID: s.App, Secret: s.Secret}},
			Limits: signaling.Limits{MaxMembers: max(s.Users, 50), Rate: 100_000, Burst: 100_000},
		},
		Logger: log,
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	return n, dir, nil
}

func printProgress(w io.Writer, p loadgen.Progress) {
	node := "node n/a"
	if p.NodeErr == nil {
		node = fmt.Sprintf("node cpu %3.0f%% rss %s", 100*p.NodeCPU, mib(p.Node.RSS))
	}
	calls := ""
	if p.CallsOK+p.CallsFail > 0 {
		calls = fmt.Sprintf(" | calls %d ok %d failed, setup p99 %s", p.CallsOK, p.CallsFail, msf(p.CallSetup.P99))
	}
	fmt.Fprintf(w, "[%5.1fs] %-9s users %d/%d entered %d publishing %d receiving %d failures %d | rx %s loss %.3f%% e2e p50 %s p99 %s%s | %s\n",
		p.Elapsed.Seconds(), p.Phase, p.LoggedIn, p.Users, p.Entered, p.Publishing, p.Receiving, p.Failures,
		kbps(p.RxBps), 100*p.Loss, msf(p.E2E.P50), msf(p.E2E.P99), calls, node)
}

func printReport(w io.Writer, r *loadgen.Report, embedded bool) error {
	fmt.Fprintf(w, "crvload run: %s: %d users, %d meetings × %d publishers, %d call pairs; steady phase %.1f s of %.1f s\n\n",
		r.URL, r.Users, r.Meetings, r.PublishersPerMeeting, r.CallPairs, r.SteadySeconds, r.TotalSeconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "latency\tcount\tp50\tp99\tmax\t")
	for _, row := range []struct {
		name string
		s    loadgen.Summary
	}{
		{"login", r.Login}, {"call setup", r.CallSetup}, {"enterMeeting → first video", r.FirstVideo},
		{"enterMeeting → first keyframe", r.FirstKey}, {"end-to-end media", r.E2E},
	} {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\n", row.name, row.s.Count, msn(row.s, row.s.P50), msn(row.s, row.s.P99), msn(row.s, row.s.Max))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b := r.RxBitrate
	fmt.Fprintf(w, "\nloss (steady phase, all tracks)       %.3f%%\n", 100*r.Loss)
	fmt.Fprintf(w, "received bitrate per subscriber       mean %s, min %s, p50 %s, max %s (%d subscribers)\n",
		kbps(b.Mean), kbps(b.Min), kbps(b.P50), kbps(b.Max), b.Subscribers)
	who := "node"
	if embedded {
		who = "node (embedded: the whole crvload process)"
	}
	nu := r.Node
	fmt.Fprintf(w, "%s CPU %.2f s over the run, %.2f s in the steady phase (%.0f%% of a core); RSS start %s, end %s, max %s\n",
		who, nu.CPUSeconds, nu.SteadyCPUSeconds, nu.SteadyCPUPercent, mib(nu.RSSStartBytes), mib(nu.RSSEndBytes), mib(nu.RSSMaxBytes))
	if nu.Error != "" {
		fmt.Fprintf(w, "  (metrics: %s)\n", nu.Error)
	}
	fmt.Fprintf(w, "users: %d logged in, %d entered, %d publishing, %d receiving all they should\n",
		r.LoggedIn, r.Entered, r.Publishing, r.Receiving)
	fmt.Fprintf(w, "failures: login %d, enter %d, publish %d, subscribe %d, missing media %d, calls %d (of %d)\n",
		r.LoginFailures, r.EnterFailures, r.PublishFailures, r.SubscribeFailures, r.NoMedia, r.CallsFailed, r.CallsOK+r.CallsFailed)
	for _, e := range r.Errors {
		fmt.Fprintln(w, "  ", e)
	}
	return nil
}
