package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The SFU bench runs the baseline as a child of its own executable:
	// in tests, this binary.
	if os.Getenv(mainEnv) == "1" {
		os.Exit(realMain(os.Args[1:]))
	}
	goleak.VerifyTestMain(m)
}

// runReport is the part of `crvload run -json` the smoke test checks.
type runReport struct {
	LoggedIn, Entered, Publishing, Receiving int
	LoginFailures, EnterFailures             int
	PublishFailures, SubscribeFailures       int
	NoMedia, CallsOK, CallsFailed            int
	Errors                                   []string
	FirstVideo                               struct{ Count int }
	E2E                                      struct{ Count int } `json:"e2eLatency"`
	Loss                                     float64
	RxBitrate                                struct{ Subscribers int } `json:"rxBitratePerSubscriber"`
}

// TestRunEmbeddedSmoke drives an in-process node with a few users: two
// meetings with one publisher and two watchers each, and one call pair.
// Every user must log in, enter and receive what it should.
func TestRunEmbeddedSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := dispatch(ctx, []string{"run", "-embedded", "-users", "8", "-meetings", "2", "-publishers", "1",
		"-calls", "1", "-calls-per-pair", "10", "-bitrate", "300000", "-duration", "2s", "-setup-timeout", "45s", "-json"},
		&stdout, &stderr)
	if err != nil {
		t.Fatalf("crvload run: %v\n%s\n%s", err, stdout.String(), tail(stderr.String(), 30))
	}
	var r runReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	t.Logf("report: %+v", r)
	switch {
	case r.LoggedIn != 8 || r.LoginFailures != 0:
		t.Errorf("logged in %d of 8, %d failures: %q", r.LoggedIn, r.LoginFailures, r.Errors)
	case r.Entered != 6 || r.EnterFailures != 0:
		t.Errorf("entered %d of 6, %d failures: %q", r.Entered, r.EnterFailures, r.Errors)
	case r.Publishing != 2 || r.PublishFailures != 0 || r.SubscribeFailures != 0:
		t.Errorf("publishing %d of 2, %d publish and %d subscribe failures: %q", r.Publishing, r.PublishFailures, r.SubscribeFailures, r.Errors)
	case r.Receiving != 4 || r.NoMedia != 0 || r.FirstVideo.Count != 4 || r.RxBitrate.Subscribers != 4:
		t.Errorf("receiving %d of 4 (%d without media, %d first videos)", r.Receiving, r.NoMedia, r.FirstVideo.Count)
	case r.E2E.Count == 0:
		t.Error("no latency samples")
	case r.CallsOK != 10 || r.CallsFailed != 0:
		t.Errorf("calls: %d ok, %d failed, want 10 ok", r.CallsOK, r.CallsFailed)
	}
	if !strings.Contains(stderr.String(), "steady") {
		t.Errorf("no progress lines on stderr:\n%s", tail(stderr.String(), 10))
	}
}

// sfuReport is the part of `crvload bench sfu -json` the test checks.
type sfuReport struct {
	Results []struct {
		Server         string
		Subscribers    int
		Packets        uint64
		CPUPerPacketUs float64
		Loss           float64
		Latency        struct{ Count int }
		Join           struct{ Count int }
	}
}

// TestBenchSFUForwards runs both servers of the SFU bench, each as a
// child process, with two subscribers: both must forward to both.
func TestBenchSFUForwards(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the node and runs two server processes")
	}
	t.Cleanup(func() { noChildren(t) })
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := dispatch(ctx, []string{"bench", "sfu", "-n", "2", "-window", "2s", "-settle", "1s", "-bitrate", "500000", "-json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("crvload bench sfu: %v\n%s\n%s", err, stdout.String(), tail(stderr.String(), 40))
	}
	var r sfuReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	seen := map[string]bool{}
	for _, res := range r.Results {
		t.Logf("%+v", res)
		seen[res.Server] = true
		// Two subscribers get about 2 × (60 video + 50 audio) packets a
		// second, on a quiet machine: a loaded one sends fewer (the
		// synthetic sources fall behind the clock, without loss), so the
		// floor only proves that both got media in the window.
		if res.Subscribers != 2 || res.Packets < 40 || res.Latency.Count == 0 || res.Join.Count != 2 || res.Loss > 0.05 {
			t.Errorf("%s did not forward: %+v", res.Server, res)
		}
	}
	if !seen["crvnode"] || !seen["baseline"] {
		t.Fatalf("servers measured: %v", seen)
	}
}

// noChildren fails if a process this test started is still running, and
// kills it.
func noChildren(t *testing.T) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		kids := children()
		if len(kids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range kids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Errorf("child processes left running: %v", kids)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// children lists this process's live child processes from /proc.
func children() []int {
	self := os.Getpid()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:]) // state, ppid, ...
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid == self {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			out = append(out, pid)
		}
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"256MiB": 256 << 20, "1GiB": 1 << 30, "512KiB": 512 << 10, "1000": 1000} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1", "1TB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
	if _, err := intList("10,x"); err == nil {
		t.Error("intList accepted a word")
	}
	if got, _ := intList("10, 50,100"); fmt.Sprint(got) != "[10 50 100]" {
		t.Errorf("intList: %v", got)
	}
}
