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
// spread over three. Then on three nodes with media: a user entering a
// meeting from another node than the one forwarding its media has its
// session moved there (the node counts it), and files and commands reach
// a user on the same node and one on another node, whose up connection
// the first command opens.
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
		Concurrency: 8, Entries: 4, Files: 1, FileSize: 1 << 20, Wakes: 2, Progress: t.Logf}
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
	wantEntries := []string{ClusterEntrySame, ClusterEntryMoved}
	if len(res.Entries) != len(wantEntries) {
		t.Fatalf("%d meeting entry rows, want %d", len(res.Entries), len(wantEntries))
	}
	for i, e := range res.Entries {
		moves := 0
		if i == 1 {
			moves = 4 // one per moved entry; Failed checks it too
		}
		if e.Setup != wantEntries[i] || e.Enter.Count != 4 || e.Failed != 0 || (i == 1 && e.Moves != moves) {
			t.Errorf("meeting entry row %d: %+v", i, e)
		}
	}
	wantTransfers := []string{ClusterSameNode, ClusterAcrossNodes}
	if len(res.Transfers) != len(wantTransfers) {
		t.Fatalf("%d transfer rows, want %d", len(res.Transfers), len(wantTransfers))
	}
	for i, x := range res.Transfers {
		if x.Setup != wantTransfers[i] || len(x.Seconds) != 1 || x.MiBps <= 0 || x.Wake.Count != 2 || x.Warm.Count != 2 || x.Failed != 0 {
			t.Errorf("transfer row %d: %+v", i, x)
		}
	}
	if same, across := res.Transfers[0], res.Transfers[1]; same.LinkBytes >= 1<<20 || across.LinkBytes < 1<<20 {
		t.Errorf("link bytes: %v on one node, %v across nodes for a 1 MiB file", same.LinkBytes, across.LinkBytes)
	}
	if !(res.CallP99SameRatio > 0 && res.CallP99AcrossRatio > 0 && res.FanOutP99Ratio > 0) {
		t.Errorf("ratios %v %v %v", res.CallP99SameRatio, res.CallP99AcrossRatio, res.FanOutP99Ratio)
	}
	if !(res.EntryP50Ratio > 0 && res.EntryP99Ratio > 0 && res.TransferRatio > 0 && res.WakeP50Ratio > 0) {
		t.Errorf("ratios with media %v %v %v %v", res.EntryP50Ratio, res.EntryP99Ratio, res.TransferRatio, res.WakeP50Ratio)
	}
}
