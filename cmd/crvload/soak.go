package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/crvnode/crvnode/internal/loadgen"
)

// target is the node a soak or overload run drives: -url's, or a node
// process of its own started with a config written for the run.
type target struct {
	url, metrics, app, secret, nodeBin string
}

func addTarget(fs *flag.FlagSet, app string) *target {
	t := &target{}
	fs.StringVar(&t.url, "url", "", "the node's WebSocket endpoint (default: start a node process of its own, built from ./cmd/node or -node-bin)")
	fs.StringVar(&t.metrics, "metrics", "", "the node's /metrics URL (default: derived from -url)")
	fs.StringVar(&t.app, "app", app, "appID to log in to (with -url)")
	fs.StringVar(&t.secret, "secret", app, "the app's secret (with -url)")
	fs.StringVar(&t.nodeBin, "node-bin", "", "node binary (default: go build ./cmd/node)")
	return t
}

// with runs fn against the target, starting the node process (with
// config, whose app is t.app/t.app) when no -url was given.
func (t *target) with(ctx context.Context, c *common, config string, progress func(string, ...any), fn func(url, metrics string) error) error {
	if t.url != "" {
		return fn(t.url, t.metrics)
	}
	return c.withNode(ctx, t.nodeBin, progress, func(bin string) (err error) {
		dir, err := os.MkdirTemp("", "crvload-node-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		p, err := loadgen.StartNode(ctx, bin, dir, config)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, p.Stop(10*time.Second)) }()
		progress("node process %d on %s", p.Pid(), p.Addr())
		return fn("ws://"+p.Addr()+"/ws", "http://"+p.Addr()+"/metrics")
	})
}

// parseWithProgress adds -quiet to fs, parses args (no positional ones)
// and returns the progress printer -quiet asks for.
func parseWithProgress(fs *flag.FlagSet, args []string, stderr io.Writer) (func(string, ...any), error) {
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *quiet {
		return func(string, ...any) {}, nil
	}
	return progressf(stderr), nil
}

func soakCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("crvload soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := addCommon(fs)
	t := addTarget(fs, "soak")
	s := loadgen.Soak{}
	fs.DurationVar(&s.Duration, "duration", 10*time.Minute, "the load phase")
	fs.IntVar(&s.Workers, "workers", 4, "steps running at once")
	fs.DurationVar(&s.Sample, "sample", 10*time.Second, "how often the node's goroutines, open files and RSS are sampled")
	fs.DurationVar(&s.Settle, "settle", 90*time.Second, "bound on the wait for the node to come back to its idle level after the load (past its resume grace window)")
	grace := fs.Duration("grace", 20*time.Second, "the own node's resume grace window (limits.resumeGrace)")
	progress, err := parseWithProgress(fs, args, stderr)
	if err != nil {
		return err
	}
	s.Progress = progress
	config := fmt.Sprintf("apps:\n  - id: soak\n    secret: soak\nlimits:\n  rate: 10000\n  burst: 10000\n  resumeGrace: %s\n", *grace)
	var rep *loadgen.SoakReport
	err = t.with(ctx, c, config, s.Progress, func(url, metrics string) error {
		s.URL, s.MetricsURL, s.App, s.Secret = url, metrics, t.app, t.secret
		s.Loopback = isLoopbackURL(url)
		var err error
		rep, err = loadgen.RunSoak(ctx, s)
		return err
	})
	if rep == nil {
		return err
	}
	return verdict(stdout, c.json, err, rep, func(w io.Writer) error { return printSoak(w, rep) }, rep.Failures, "soak")
}

// verdict prints a run's report, as JSON or as a table, and makes its
// failed checks the command's failure.
func verdict(w io.Writer, asJSON bool, err error, rep any, table func(io.Writer) error, failures []string, what string) error {
	if asJSON {
		err = errors.Join(err, writeJSON(w, rep))
	} else {
		err = errors.Join(err, table(w))
	}
	if err == nil && len(failures) > 0 {
		err = fmt.Errorf("%w: %d %s checks failed", errFailures, len(failures), what)
	}
	return err
}

func printSoak(w io.Writer, r *loadgen.SoakReport) error {
	steps := 0
	for _, n := range r.Steps {
		steps += n
	}
	fmt.Fprintf(w, "crvload soak: %s: %.0f s of load, %d steps\n\n", r.URL, r.Duration, steps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	m := r.Max()
	fmt.Fprintln(tw, "node\tidle (before)\tmax (during)\tafter\t")
	fmt.Fprintf(tw, "goroutines\t%d\t%d\t%d\t\n", r.Idle.Goroutines, m.Goroutines, r.After.Goroutines)
	fmt.Fprintf(tw, "open files\t%d\t%d\t%d\t\n", r.Idle.OpenFDs, m.OpenFDs, r.After.OpenFDs)
	fmt.Fprintf(tw, "RSS\t%s\t%s\t%s\t\n", mib(r.Idle.RSS), mib(m.RSS), mib(r.After.RSS))
	fmt.Fprintf(tw, "sessions\t%d\t%d\t%d\t\n", r.Idle.Sessions, m.Sessions, r.After.Sessions)
	fmt.Fprintf(tw, "waiting for a resume\t%d\t%d\t%d\t\n", r.Idle.Waiting, m.Waiting, r.After.Waiting)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nRSS mean: second quarter %s, last quarter %s; settled in %.0f s: %v\n", mib(r.RSSEarly), mib(r.RSSLate), r.SettleTime, r.Settled)
	fmt.Fprintf(w, "steps: %s\n", sortedCounts(r.Steps))
	fmt.Fprintf(w, "error codes: %s\n", sortedCounts(r.Codes))
	printFailures(w, "", r.Failures)
	return nil
}

func sortedCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s ×%d", k, m[k])
	}
	return out
}

func overloadCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("crvload overload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := addCommon(fs)
	t := addTarget(fs, "overload")
	o := loadgen.Overload{}
	fs.DurationVar(&o.Phase, "phase", 10*time.Second, "each phase's length")
	fs.DurationVar(&o.ProbeEvery, "probe-every", 50*time.Millisecond, "the probe's request interval")
	fs.IntVar(&o.Connections, "connections", 600, "connections the flood opens (past the node's maxConnections)")
	maxConns := fs.Int("max-connections", 300, "the own node's limits.maxConnections")
	fs.IntVar(&o.RateUsers, "rate-users", 4, "users sending requests past the rate limit")
	fs.IntVar(&o.SlowReaders, "slow-readers", 20, "users who watch presence and never read")
	progress, err := parseWithProgress(fs, args, stderr)
	if err != nil {
		return err
	}
	o.Progress = progress
	if _, err := loadgen.RaiseFileLimit(); err != nil {
		return err
	}
	config := fmt.Sprintf("apps:\n  - id: overload\n    secret: overload\nlimits:\n  maxConnections: %d\n  sendQueue: 64\n", *maxConns)
	var rep *loadgen.OverloadReport
	err = t.with(ctx, c, config, o.Progress, func(url, _ string) error {
		o.URL, o.App, o.Secret = url, t.app, t.secret
		var err error
		rep, err = loadgen.RunOverload(ctx, o)
		return err
	})
	if rep == nil {
		return err
	}
	return verdict(stdout, c.json, err, rep, func(w io.Writer) error { return printOverload(w, rep) }, rep.Failures, "overload")
}

func printOverload(w io.Writer, r *loadgen.OverloadReport) error {
	fmt.Fprintf(w, "crvload overload: %s\n\n", r.URL)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\tprobe requests\tp50\tp99\tmax\tp99 / baseline\terrors\twhat the abuse met")
	var base time.Duration
	for i, ph := range r.Phases {
		if i == 0 {
			base = ph.Probe.P99
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%d\t%s\n", ph.Name, ph.Probe.Count, msf(ph.Probe.P50), msf(ph.Probe.P99), msf(ph.Probe.Max),
			ratio(float64(ph.Probe.P99), float64(base)), ph.ProbeErrors, sortedCounts(ph.Abuse))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	printFailures(w, "\n", r.Failures)
	return nil
}

// printFailures prints a run's verdict line after before, and the
// checks that failed.
func printFailures(w io.Writer, before string, failures []string) {
	if len(failures) == 0 {
		fmt.Fprintln(w, before+"verdict: pass")
		return
	}
	fmt.Fprintln(w, before+"verdict: FAIL")
	for _, f := range failures {
		fmt.Fprintln(w, "  ", f)
	}
}
