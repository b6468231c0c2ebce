package signaling

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memLog is a cluster's log in memory, for tests of several Servers in
// one process: the Redis one (package cluster) keeps the same promise of
// one order for all, and is tested with a real redis-server there and in
// e2e.
type memLog struct {
	mu      sync.Mutex
	entries [][]byte
	grew    chan struct{} // closed and replaced at every append
	down    atomic.Bool   // Append fails, as with Redis unreachable
}

func newMemLog() *memLog { return &memLog{grew: make(chan struct{})} }

var memNodes atomic.Uint64

// node returns a member of the log with a new node ID.
func (l *memLog) node() *memNode {
	return &memNode{log: l, id: fmt.Sprintf("n%d", memNodes.Add(1))}
}

type memNode struct {
	log *memLog
	id  string
}

func (n *memNode) NodeID() string { return n.id }

func (n *memNode) Append(ctx context.Context, entry []byte) error {
	l := n.log
	if l.down.Load() {
		return fmt.Errorf("memlog: down")
	}
	l.mu.Lock()
	l.entries = append(l.entries, append([]byte(nil), entry...))
	close(l.grew)
	l.grew = make(chan struct{})
	l.mu.Unlock()
	return nil
}

func (n *memNode) Follow(ctx context.Context, fn func(entry []byte)) error {
	l := n.log
	for i := 0; ; {
		l.mu.Lock()
		next := l.entries[i:]
		grew := l.grew
		l.mu.Unlock()
		for _, e := range next {
			fn(e)
			i++
		}
		if len(next) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-grew:
		}
	}
}

// clusterOfOneEnv, set, runs every test's node as a cluster of one on a
// memLog: every change then goes through the log's encoding, as between
// nodes (TestSuiteAsClusterOfOne).
const clusterOfOneEnv = "CRVNODE_TEST_CLUSTER_OF_ONE"

// skipInCluster skips a test of what a node on its own keeps in its
// store: in a cluster, the log is the store.
func skipInCluster(t *testing.T) {
	if os.Getenv(clusterOfOneEnv) != "" {
		t.Skip("a cluster keeps no store of its own")
	}
}

// The whole suite again, each node a cluster of one: every change goes
// through the log's encoding and back, and must behave as on one node.
func TestSuiteAsClusterOfOne(t *testing.T) {
	if os.Getenv(clusterOfOneEnv) != "" {
		t.Skip("already in it")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.count=1", "-test.timeout=4m")
	cmd.Env = append(os.Environ(), clusterOfOneEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the suite as a cluster of one: %v\n%s", err, out)
	}
}
