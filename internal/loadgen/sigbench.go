package loadgen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/protocol"
)

// SignalingBench configures the signaling bench: call setup latency while
// a node (its own process) holds many logged-in idle sessions, and the
// node's memory per idle session.
type SignalingBench struct {
	NodeBin     string
	TempDir     string
	Sessions    []int                            // idle sessions, increasing: the bench adds sessions between steps
	Calls       int                              // call setups measured at each step
	Pairs       int                              // pairs calling at once, each call after the previous
	Concurrency int                              // logins at once
	Progress    func(format string, args ...any) `json:"-"`
}

// SignalingResult is one step of the signaling bench.
type SignalingResult struct {
	Sessions           int     `json:"sessions"`
	Login              Summary `json:"login"`     // the idle sessions' login requests added at this step
	CallSetup          Summary `json:"callSetup"` // call → notifyCallAccepted
	CallsFailed        int     `json:"callsFailed"`
	RTT                Summary `json:"rtt"` // a request that does nothing (stopUserStatusNotify): the floor
	RSSBytes           int64   `json:"rssBytes"`
	RSSPerSessionBytes float64 `json:"rssPerSessionBytes"` // (RSS − RSS before any session) / sessions
	CallCPUSeconds     float64 `json:"callCpuSeconds"`     // the node's, while the calls ran
}

func (b *SignalingBench) defaults() error {
	if b.Calls <= 0 {
		b.Calls = 2000
	}
	if b.Pairs <= 0 {
		b.Pairs = 4
	}
	if b.Concurrency <= 0 {
		b.Concurrency = 64
	}
	if b.Progress == nil {
		b.Progress = func(string, ...any) {}
	}
	for i, n := range b.Sessions {
		if n <= 0 || (i > 0 && n < b.Sessions[i-1]) {
			return fmt.Errorf("%w: session counts must be positive and increasing", ErrConfig)
		}
	}
	if len(b.Sessions) == 0 || b.NodeBin == "" {
		return fmt.Errorf("%w: no session counts or no node binary", ErrConfig)
	}
	limit, err := RaiseFileLimit()
	if err != nil {
		return err
	}
	if need := uint64(b.Sessions[len(b.Sessions)-1] + 2*b.Pairs + 256); limit < need {
		return fmt.Errorf("%w: %d sessions need %d open files, the limit is %d", ErrConfig, b.Sessions[len(b.Sessions)-1], need, limit)
	}
	return nil
}

// RunSignalingBench runs the signaling bench against one node process.
func RunSignalingBench(ctx context.Context, b SignalingBench) (out []SignalingResult, err error) {
	if err := b.defaults(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(b.TempDir, "crvload-node-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	proc, err := StartNode(ctx, b.NodeBin, dir, benchNodeConfig)
	if err != nil {
		return nil, err
	}
	url := "ws://" + proc.Addr() + "/ws"
	var idle []*idleSession
	var pairs []*callPeer
	defer func() {
		closeIdle(idle)
		for _, p := range pairs {
			if c := p.client(); c != nil {
				_ = c.Close()
			}
		}
		err = errors.Join(err, proc.Stop(10*time.Second))
	}()
	if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
		return nil, err
	}
	if pairs, err = b.connectPairs(ctx, url); err != nil {
		return nil, err
	}
	u0, err := proc.Usage() // the callers are not idle sessions
	if err != nil {
		return nil, err
	}
	for _, n := range b.Sessions {
		res := SignalingResult{Sessions: n}
		var added []*idleSession
		added, res.Login, err = b.addIdle(ctx, url, len(idle), n)
		idle = append(idle, added...)
		if err != nil {
			return out, err
		}
		if err := b.measure(ctx, proc, pairs, u0, &res); err != nil {
			return out, err
		}
		b.Progress("%d sessions: call setup p50 %v p99 %v (%d failed), rtt p50 %v; node RSS %d MiB, %.1f KiB/session",
			n, res.CallSetup.P50, res.CallSetup.P99, res.CallsFailed, res.RTT.P50, res.RSSBytes>>20, res.RSSPerSessionBytes/1024)
		out = append(out, res)
	}
	return out, nil
}

// connectPairs logs in the users that call each other.
func (b *SignalingBench) connectPairs(ctx context.Context, url string) ([]*callPeer, error) {
	var peers []*callPeer
	for i := 0; i < 2*b.Pairs; i++ {
		p := newCallPeer(ctx, func(error) {})
		c, err := client.Dial(ctx, url, client.Options{Handler: p.handle, SignalingOnly: true})
		if err != nil {
			return peers, err
		}
		p.setClient(c)
		peers = append(peers, p)
		id := fmt.Sprintf("caller-%03d", i)
		if _, err := c.Login(ctx, protocol.LoginParams{AppID: BenchApp, AppSecret: MD5Hex(BenchApp), UserID: id, NickName: id}); err != nil {
			return peers, err
		}
	}
	return peers, nil
}

// addIdle logs in idle sessions from, from+1, ... up to n in all.
func (b *SignalingBench) addIdle(ctx context.Context, url string, from, n int) ([]*idleSession, Summary, error) {
	b.Progress("logging in idle sessions %d to %d", from+1, n)
	d := idleDialer()
	sessions := make([]*idleSession, n-from)
	errs := make([]error, n-from)
	var mu sync.Mutex
	var logins Hist
	sem := make(chan struct{}, b.Concurrency)
	var wg sync.WaitGroup
	for i := range sessions {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			s, took, err := dialIdle(lctx, d, url, idleParams("b", from+i))
			sessions[i], errs[i] = s, err
			mu.Lock()
			logins.Record(took)
			mu.Unlock()
		}()
	}
	wg.Wait()
	var ok []*idleSession
	var first error
	failed := 0
	for i, s := range sessions {
		if s != nil {
			ok = append(ok, s)
		} else if failed++; first == nil {
			first = errs[i]
		}
	}
	if first != nil {
		return ok, logins.Summary(), fmt.Errorf("%d of %d idle logins failed, the first: %w", failed, len(sessions), first)
	}
	return ok, logins.Summary(), nil
}

func closeIdle(ss []*idleSession) {
	for _, s := range ss {
		_ = s.conn.Close()
	}
	for _, s := range ss {
		<-s.done
	}
}

// measure lets the node settle, reads its RSS and runs the calls.
func (b *SignalingBench) measure(ctx context.Context, proc *Proc, pairs []*callPeer, u0 Usage, res *SignalingResult) error {
	if err := sleepCtx(ctx, time.Second); err != nil {
		return err
	}
	u1, err := proc.Usage()
	if err != nil {
		return err
	}
	res.RSSBytes = u1.RSS
	res.RSSPerSessionBytes = float64(u1.RSS-u0.RSS) / float64(res.Sessions)
	b.Progress("%d sessions: %d calls over %d pairs", res.Sessions, b.Calls, b.Pairs)
	var mu sync.Mutex
	var setup, rtt Hist
	var wg sync.WaitGroup
	for k := 0; k < b.Pairs; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, c := pairs[2*k], pairs[2*k+1]
			for i := k; i < b.Calls && ctx.Err() == nil; i += b.Pairs {
				caller, callee := a, c
				if i%2 == 1 {
					caller, callee = c, a
				}
				t0 := time.Now()
				rerr := caller.client().StopUserStatusNotify(ctx)
				r := time.Since(t0)
				d, err := callOnce(ctx, caller, callee.client().UserID())
				mu.Lock()
				if rerr == nil {
					rtt.Record(r)
				}
				if err != nil {
					res.CallsFailed++
				} else {
					setup.Record(d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	u2, err := proc.Usage()
	if err != nil {
		return err
	}
	res.CallCPUSeconds = (u2.CPU - u1.CPU).Seconds()
	res.CallSetup, res.RTT = setup.Summary(), rtt.Summary()
	return ctx.Err()
}
