package loadgen

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestHistQuantiles(t *testing.T) {
	var h Hist
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Millisecond, 0.99: 990 * time.Millisecond, 1: time.Second} {
		got := h.Quantile(q)
		if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.04 {
			t.Errorf("q%.2f = %v, want %v ± 4%%", q, got, want)
		}
	}
	var o Hist
	o.Record(time.Hour) // beyond the last bucket: clamped, max kept
	h.Merge(&o)
	if h.Count() != 1001 || h.Summary().Max != time.Hour {
		t.Errorf("after merge: %+v", h.Summary())
	}
	for _, d := range []time.Duration{-1, 0, 63, 64, 1 << 20, 1 << 39} {
		if i := histIndex(d); i < 0 || i >= histBuckets {
			t.Errorf("histIndex(%d) = %d", d, i)
		}
		if d >= 64 {
			if v := histValue(histIndex(d)); math.Abs(float64(v-d))/float64(d) > 1.0/32 {
				t.Errorf("histValue(histIndex(%d)) = %d", d, v)
			}
		}
	}
}

func TestSequenceUnwrap(t *testing.T) {
	var tc trackCount
	seqs := []uint16{65530, 65531, 65533, 65535, 0, 1, 65534, 3} // wraps; 65532 and 2 lost; 65534 late
	for _, s := range seqs {
		tc.advance(s)
		tc.packets++
	}
	c := RecvCounts{Packets: tc.packets, Expected: tc.highExt - tc.firstExt + 1}
	if c.Expected != 10 || math.Abs(c.Loss()-0.2) > 1e-9 {
		t.Fatalf("expected %d, loss %v; want 10 and 0.2", c.Expected, c.Loss())
	}
}

func TestMetricsURL(t *testing.T) {
	for in, want := range map[string]string{
		"ws://127.0.0.1:8080/ws":     "http://127.0.0.1:8080/metrics",
		"wss://node.example.com/ws":  "https://node.example.com/metrics",
		"ws://[::1]:9/some/where/ws": "http://[::1]:9/metrics",
	} {
		if got := MetricsURL(in); got != want {
			t.Errorf("MetricsURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScrapeUsage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "# HELP x\nprocess_cpu_seconds_total 1.5\nprocess_resident_memory_bytes 4.2e+07\ngo_goroutines 7\n")
	}))
	defer srv.Close()
	u, err := ScrapeUsage(context.Background(), srv.Client(), srv.URL)
	if err != nil || u.CPU != 1500*time.Millisecond || u.RSS != 42_000_000 {
		t.Fatalf("usage %+v, %v", u, err)
	}
}

// TestBaselineForwards runs the baseline forwarder in-process with the
// bench's own load side: one publisher, two subscribers.
func TestBaselineForwards(t *testing.T) {
	b, err := NewBaseline(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b)
	defer func() {
		srv.Close()
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	}()
	api, err := defaultAPI(false)
	if err != nil {
		t.Fatal(err)
	}
	target := &baselineTarget{base: srv.URL, api: api, hc: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
	defer target.close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := target.publish(ctx, 300_000, 30); err != nil {
		t.Fatal(err)
	}
	var subs []io.Closer
	defer func() { closeAll(subs) }()
	recvs := []*Receiver{NewReceiver(), NewReceiver()}
	for i, r := range recvs {
		s, err := target.subscribe(ctx, i, r)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	for i, r := range recvs {
		select {
		case <-r.FirstVideo():
		case <-ctx.Done():
			t.Fatalf("subscriber %d got no video", i)
		}
	}
	time.Sleep(500 * time.Millisecond)
	for i, r := range recvs {
		c := r.Counts()
		var lat Hist
		r.AddLatency(&lat, false)
		if c.Tracks != 2 || c.VideoPackets == 0 || c.Bad != 0 || lat.Count() == 0 {
			t.Errorf("subscriber %d: %+v, %d latency samples", i, c, lat.Count())
		}
	}
}
