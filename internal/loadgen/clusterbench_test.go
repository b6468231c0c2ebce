package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/crvnode/crvnode/internal/redistest"
)

// TestClusterBench runs `crvload bench cluster` tiny: one node on its
// own, then a redis-server and three node processes. Every call is set
// up, on one node, on the same node of the cluster and across its nodes,
// and every watcher hears each DND change exactly once, on one node and
// spread over three.
func TestClusterBench(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the node and runs it, and redis-server, as processes")
	}
	redis := redistest.Binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin, err := BuildNode(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := ClusterBench{NodeBin: bin, RedisBin: redis, TempDir: t.TempDir(), Calls: 20, Pairs: 2, Watchers: 30, Changes: 5,
		Concurrency: 8, Progress: t.Logf}
	res, err := RunClusterBench(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if msg := res.Failed(); msg != "" {
		t.Error(msg)
	}
	wantCalls := []string{ClusterOneNode, ClusterSameNode, ClusterAcrossNodes}
	if len(res.Calls) != len(wantCalls) {
		t.Fatalf("%d call rows, want %d", len(res.Calls), len(wantCalls))
	}
	for i, c := range res.Calls {
		nodes := 3
		if i == 0 {
			nodes = 1
		}
		if c.Setup != wantCalls[i] || c.Nodes != nodes || c.CallSetup.Count != 20 || len(c.Procs.NodeCPUSeconds) != nodes {
			t.Errorf("call row %d: %+v", i, c)
		}
		if (i > 0) != (c.Procs.RedisRSSBytes > 0) {
			t.Errorf("call row %s: redis RSS %d", c.Setup, c.Procs.RedisRSSBytes)
		}
	}
	if len(res.Presence) != 2 {
		t.Fatalf("%d presence rows, want 2", len(res.Presence))
	}
	for _, p := range res.Presence {
		if p.FanOut.Count != 5 || p.First.Count != 5 || p.FanOut.P50 < p.First.P50 {
			t.Errorf("presence row %s: fan-out %+v, first watcher %+v", p.Setup, p.FanOut, p.First)
		}
	}
	if !(res.CallP99SameRatio > 0 && res.CallP99AcrossRatio > 0 && res.FanOutP99Ratio > 0) {
		t.Errorf("ratios %v %v %v", res.CallP99SameRatio, res.CallP99AcrossRatio, res.FanOutP99Ratio)
	}
}
