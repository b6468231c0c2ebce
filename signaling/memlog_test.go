package signaling

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
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
	snapPos int           // the entries the snapshot includes
	snap    []byte
	snaps   int // snapshots saved
	trimmed int // entries dropped from the front, as the Redis log trims
	times   []time.Time
	late    atomic.Int64 // nanoseconds added to the time the log takes an entry at
	epoch   int          // bumped when the log is lost
	trims   bool         // a snapshot trims the log before the previous one, as Redis's does
}

// lose forgets the whole log and its snapshot, as a Redis that restarts
// without its data.
func (l *memLog) lose() {
	l.mu.Lock()
	l.entries, l.times, l.snap, l.snapPos, l.trimmed = nil, nil, nil, 0, 0
	l.epoch++
	close(l.grew)
	l.grew = make(chan struct{})
	l.mu.Unlock()
}

// errMemTrimmed is what the Redis log's Follow returns for a position
// trimmed away.
type errMemTrimmed struct{}

func (errMemTrimmed) Error() string { return "memlog: trimmed" }
func (errMemTrimmed) LogTrimmed()   {}

func newMemLog() *memLog { return &memLog{grew: make(chan struct{})} }

var memNodes atomic.Uint64

// node returns a member of the log with a new node ID.
func (l *memLog) node() *memNode {
	return &memNode{log: l, id: fmt.Sprintf("n%d", memNodes.Add(1))}
}

type memNode struct {
	log    *memLog
	id     string
	from   atomic.Value // the position its Follow began after
	paused atomic.Pointer[chan struct{}]
}

// pause stops the node's Follow before its next entry until the returned
// func is called: the node lags, as one on a stalled machine.
func (n *memNode) pause() (resume func()) {
	ch := make(chan struct{})
	n.paused.Store(&ch)
	return func() { n.paused.Store(nil); close(ch) }
}

func (n *memNode) NodeID() string { return n.id }

func (n *memNode) Append(ctx context.Context, entry []byte) error {
	l := n.log
	if l.down.Load() {
		return fmt.Errorf("memlog: down")
	}
	l.mu.Lock()
	l.entries = append(l.entries, append([]byte(nil), entry...))
	l.times = append(l.times, time.Now().Add(time.Duration(l.late.Load())))
	close(l.grew)
	l.grew = make(chan struct{})
	l.mu.Unlock()
	return nil
}

// A position is the number of entries up to and including it.
func (n *memNode) Follow(ctx context.Context, after string, fn func(pos string, at time.Time, entry []byte)) error {
	l := n.log
	n.from.Store(after)
	l.mu.Lock()
	epoch := l.epoch
	l.mu.Unlock()
	i := 0
	if after != "" {
		var err error
		if i, err = strconv.Atoi(after); err != nil {
			return err
		}
	}
	for {
		if p := n.paused.Load(); p != nil {
			select {
			case <-*p:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		l.mu.Lock()
		if i < l.trimmed || l.epoch != epoch || i > len(l.entries) {
			l.mu.Unlock()
			return errMemTrimmed{}
		}
		next, times := l.entries[i:], l.times[i:]
		grew := l.grew
		l.mu.Unlock()
		for k, e := range next {
			if n.paused.Load() != nil {
				break
			}
			i++
			fn(strconv.Itoa(i), times[k], e)
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

func (n *memNode) Snapshot(ctx context.Context) (string, []byte, error) {
	l := n.log
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.snap == nil {
		return "", nil, nil
	}
	return strconv.Itoa(l.snapPos), l.snap, nil
}

func (n *memNode) SaveSnapshot(ctx context.Context, pos string, state []byte) error {
	l := n.log
	i, err := strconv.Atoi(pos)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if i > l.snapPos {
		if l.trims { // the log keeps the entries from the previous snapshot on
			l.trimmed = l.snapPos
		}
		l.snapPos, l.snap = i, state
		l.snaps++
	}
	return nil
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
