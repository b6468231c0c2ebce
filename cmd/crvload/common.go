package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/crvnode/crvnode/internal/loadgen"
)

// common are the flags every command has.
type common struct {
	json       bool
	cpuprofile string
	memprofile string
}

func addCommon(fs *flag.FlagSet) *common {
	c := &common{}
	fs.BoolVar(&c.json, "json", false, "print the report as JSON on stdout instead of a table")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of crvload (the load side; an -embedded node included) to this file; profile a node process with its -pprof flag (go tool pprof http://<node>/debug/pprof/profile) or bench sfu -perf")
	fs.StringVar(&c.memprofile, "memprofile", "", "write a heap profile of crvload to this file at the end")
	return c
}

// profile starts what the flags ask for; the returned function stops it.
func (c *common) profile() (stop func() error, err error) {
	var f *os.File
	if c.cpuprofile != "" {
		if f, err = os.Create(c.cpuprofile); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
	}
	return func() error {
		var errs []error
		if f != nil {
			pprof.StopCPUProfile()
			errs = append(errs, f.Close())
		}
		if c.memprofile != "" {
			runtime.GC()
			m, err := os.Create(c.memprofile)
			if err != nil {
				return errors.Join(append(errs, err)...)
			}
			errs = append(errs, pprof.WriteHeapProfile(m), m.Close())
		}
		return errors.Join(errs...)
	}, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// intList parses "10,50,100".
func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad count %q in %q", f, s)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no counts in %q", s)
	}
	return out, nil
}

// msf prints a duration as milliseconds with two decimals.
func msf(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// msn prints a summary's quantile, or "-" when it has no samples.
func msn(s loadgen.Summary, d time.Duration) string {
	if s.Count == 0 {
		return "-"
	}
	return msf(d)
}

// mib prints bytes as MiB.
func mib(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

// kbps prints bits per second as kbit/s.
func kbps(bps float64) string { return strconv.FormatFloat(bps/1000, 'f', 0, 64) + " kbit/s" }

// ratio prints a/b, or "-" when b is zero.
func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "×"
}

// progressf returns a printer of progress lines to w.
func progressf(w io.Writer) func(format string, args ...any) {
	return func(format string, args ...any) {
		fmt.Fprintf(w, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
}

// withNode runs a bench with the node binary (built unless flagged) and
// the load side's profiles, and cleans both up after.
func (c *common) withNode(ctx context.Context, flagged string, progress func(string, ...any), run func(bin string) error) (err error) {
	stopProfile, err := c.profile()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopProfile()) }()
	bin, cleanup, err := nodeBinary(ctx, flagged, progress)
	if err != nil {
		return err
	}
	defer cleanup()
	return run(bin)
}
