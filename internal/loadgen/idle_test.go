package loadgen

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIdleSessions runs `crvload idle` small against a node process of
// its own: every session logs in and keeps its heartbeat, the figures per
// session are positive and finite, and once the sessions have logged out
// the node is back to its idle goroutines, with no session left.
func TestIdleSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the node and runs it as a process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, err := BuildNode(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	heap := t.TempDir()
	const n = 200
	rep, err := RunIdle(ctx, Idle{NodeBin: bin, TempDir: t.TempDir(), Sessions: n, SDKSessions: 2, Concurrency: 16,
		Hold: 3 * time.Second, Settle: 30 * time.Second, HeapDir: heap, Progress: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("per session: %.1f KiB RSS, %.1f KiB heap, %.2f goroutines, %.2f files; %d pings; failures %q",
		rep.RSSPerSession/1024, rep.HeapPerSession/1024, rep.GoroutinesPerSession, rep.FDsPerSession, rep.Pings, rep.Failures)
	if rep.LoggedIn != n || rep.LoginErrors != 0 || rep.Held.Sessions < n {
		t.Errorf("%d of %d logged in, %d errors %v; the node counted %d sessions", rep.LoggedIn, n, rep.LoginErrors, rep.LoginError, rep.Held.Sessions)
	}
	for name, v := range map[string]float64{"RSS": rep.RSSPerSession, "heap": rep.HeapPerSession, "goroutines": rep.GoroutinesPerSession,
		"open files": rep.FDsPerSession, "login rate": rep.LoginRate} {
		if !(v > 0) || math.IsInf(v, 0) {
			t.Errorf("%s per session %v, want positive and finite", name, v)
		}
	}
	if rep.RSSPerSession > 1<<20 || rep.GoroutinesPerSession > 10 || rep.FDsPerSession < 0.9 || rep.FDsPerSession > 1.5 {
		t.Errorf("per session: %.0f B RSS, %.2f goroutines, %.2f files: not an idle session", rep.RSSPerSession, rep.GoroutinesPerSession, rep.FDsPerSession)
	}
	if !rep.Held.GCForced {
		t.Error("the reading did not force a GC on a node started with -pprof")
	}
	if rep.Pings == 0 || rep.PingRTT.Count == 0 || rep.KeepaliveLost != 0 || len(rep.ClosedByNode) != 0 {
		t.Errorf("heartbeat: %d pings, %d answered, %d lost, ended by the node %v", rep.Pings, rep.PingRTT.Count, rep.KeepaliveLost, rep.ClosedByNode)
	}
	if rep.SDKSessions != 2 || len(rep.SDKDiffers) != 0 {
		t.Errorf("package client sessions: %d, differences %q", rep.SDKSessions, rep.SDKDiffers)
	}
	if !rep.Settled || rep.After.Sessions != 0 || rep.After.Goroutines > rep.Idle.Goroutines+idleGoroutineSlack {
		t.Errorf("after the logouts: %+v, idle %+v, settled %v", rep.After, rep.Idle, rep.Settled)
	}
	for _, f := range []string{"heap-idle.pb.gz", "heap-held.pb.gz", "heap-after.pb.gz"} {
		if st, err := os.Stat(filepath.Join(heap, f)); err != nil || st.Size() == 0 {
			t.Errorf("heap profile %s: %v", f, err)
		}
	}
}

// TestIdleVerdict checks what misses the goal and what fails the run.
func TestIdleVerdict(t *testing.T) {
	good := IdleReport{Sessions: 10, LoggedIn: 10, RSSPerSession: 30 << 10, GoroutinesPerSession: 3, Settled: true, ClosedByNode: map[string]int{}}
	for _, tc := range []struct {
		name   string
		change func(*IdleReport)
		fail   string // "" : passes
	}{
		{"within the goal", func(*IdleReport) {}, ""},
		{"memory", func(r *IdleReport) { r.RSSPerSession = 41 << 10 }, "RSS per idle session 41.0 KiB"},
		{"goroutines", func(r *IdleReport) { r.GoroutinesPerSession = 3.5 }, "3.50 goroutines per idle session"},
		{"logins", func(r *IdleReport) { r.LoggedIn = 9 }, "1 of 10 sessions did not log in"},
		{"heartbeat", func(r *IdleReport) { r.KeepaliveLost = 2 }, "2 times a session heard nothing"},
		{"ended", func(r *IdleReport) { r.ClosedByNode = map[string]int{"closed 1013": 1} }, "the node ended sessions"},
		{"package client", func(r *IdleReport) { r.SDKDiffers = []string{"x"} }, "x"},
		{"leak", func(r *IdleReport) { r.Settled = false }, "did not come back to its idle level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := good
			tc.change(&rep)
			(&idleRun{rep: &rep}).judge()
			got := strings.Join(rep.Failures, "\n")
			if tc.fail == "" && got != "" || tc.fail != "" && !strings.Contains(got, tc.fail) {
				t.Errorf("failures %q, want %q", got, tc.fail)
			}
		})
	}
}
