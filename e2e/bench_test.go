package e2e

import (
	"flag"
	"fmt"
	"github.com/crvnode/crvnode/client"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

var benchSessions = flag.Int("sessions", 1000, "logged-in idle clients for BenchmarkCallSetup")

// BenchmarkCallSetup measures call setup (call → notifyCallIn → acceptCall
// → notifyCallAccepted) between pairs of users while -sessions clients
// are logged in to a node running as its own process, and the node's RSS
// per idle session. The baseline, measured in the same run on the same
// connections, is the round trip of a request that does nothing
// (stopUserStatusNotify): call setup is two such trips plus the node's work.
//
//	go test ./e2e -run '^$' -bench CallSetup -benchtime 2000x -sessions 1000
func BenchmarkCallSetup(b *testing.B) {
	p := startProc(b, b.TempDir(), "-config", writeBenchConfig(b))
	ctx := ctxTimeout(b, 10*time.Minute)
	time.Sleep(200 * time.Millisecond) // let the node settle before the RSS baseline
	rss0, err := p.rssBytes()
	must(b, err)

	n := *benchSessions
	users := make([]*user, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 64)
	for i := range users {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			u := connectQuiet(b, p.wsURL())
			if _, err := u.Login(ctx, protocol.LoginParams{AppID: "bench", AppSecret: md5hex("bench"),
				UserID: fmt.Sprintf("u%05d", i), NickName: "bench user"}); err != nil {
				errs <- err
			}
			users[i] = u
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	rss1, err := p.rssBytes()
	must(b, err)

	var setup, rtt []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		caller, callee := users[(2*i)%n], users[(2*i+1)%n]
		t0 := time.Now()
		must(b, caller.StopUserStatusNotify(ctx))
		rtt = append(rtt, time.Since(t0))

		t0 = time.Now()
		callID, err := caller.Call(ctx, callee.UserID(), nil, "")
		must(b, err)
		callee.next(protocol.EventNotifyCallIn)
		must(b, callee.AcceptCall(ctx, callID, nil, ""))
		caller.next(protocol.EventNotifyCallAccepted)
		setup = append(setup, time.Since(t0))

		must(b, caller.HungupCall(ctx, callID, ""))
		callee.next(protocol.EventNotifyCallHungup)
	}
	b.StopTimer()
	perSession := float64(rss1-rss0) / float64(n)
	b.ReportMetric(ms(pct(setup, 50)), "setup-p50-ms")
	b.ReportMetric(ms(pct(setup, 99)), "setup-p99-ms")
	b.ReportMetric(ms(pct(rtt, 50)), "rtt-p50-ms")
	b.ReportMetric(float64(pct(setup, 50))/float64(pct(rtt, 50)), "setup/rtt-p50")
	b.ReportMetric(perSession/1024, "node-KiB/session")
	b.Logf("sessions=%d calls=%d setup p50=%v p99=%v; baseline rtt p50=%v p99=%v; node RSS %d→%d MiB (%.1f KiB/session); GOMAXPROCS=%d",
		n, len(setup), pct(setup, 50), pct(setup, 99), pct(rtt, 50), pct(rtt, 99), rss0>>20, rss1>>20, perSession/1024, runtime.GOMAXPROCS(0))
}

// connectQuiet is connect for idle load: signaling only, no media.
func connectQuiet(t testing.TB, url string) *user {
	t.Helper()
	u := &user{t: t, events: make(chan client.Event, 64)}
	c, err := client.Dial(ctxTimeout(t, eventWait), url, client.Options{SignalingOnly: true, Handler: func(ev client.Event) {
		select {
		case u.events <- ev:
		default:
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	u.Client = c
	t.Cleanup(func() { _ = c.Close() })
	return u
}

func writeBenchConfig(t testing.TB) string {
	path := t.TempDir() + "/bench.yaml"
	must(t, writeFile(path, "apps:\n  - id: bench\n    secret: bench\nlimits:\n  rate: 100000\n  burst: 100000\n"))
	return path
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
