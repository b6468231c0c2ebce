package loadgen

import (
	"encoding/json"
	"math"
	"math/bits"
	"time"
)

// Hist is a latency histogram: log-linear buckets (32 per power of two,
// so about 3 % resolution) from 1 ns to about 18 minutes, in fixed memory
// whatever the number of samples. It is not safe for concurrent use; the
// recorders that share one hold a lock.
type Hist struct {
	counts [histBuckets]uint64
	n      uint64
	sum    time.Duration
	max    time.Duration
}

const (
	histSubBits = 5
	histSub     = 1 << histSubBits // buckets per power of two
	histBuckets = 36 * histSub     // up to 2^40 ns
)

func histIndex(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < 2*histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1
	i := (shift+1)*histSub + int(v>>shift) - histSub
	return min(i, histBuckets-1)
}

// histValue is the middle of bucket i.
func histValue(i int) time.Duration {
	if i < 2*histSub {
		return time.Duration(i)
	}
	shift := i/histSub - 1
	m := uint64(i%histSub + histSub)
	lo := m << shift
	return time.Duration(lo + (uint64(1)<<shift)/2)
}

// Record adds one sample.
func (h *Hist) Record(d time.Duration) {
	h.counts[histIndex(d)]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

// Merge adds o's samples to h.
func (h *Hist) Merge(o *Hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Reset forgets every sample.
func (h *Hist) Reset() { *h = Hist{} }

// Count is the number of samples.
func (h *Hist) Count() uint64 { return h.n }

// Quantile returns the sample at quantile q (0 to 1), to the bucket's
// resolution (and never above the largest sample); 0 without samples.
func (h *Hist) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	// Nearest rank: the smallest sample with at least q of them at or
	// below it, so that p99 of a few samples is their largest.
	rank := max(uint64(math.Ceil(q*float64(h.n))), 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(histValue(i), h.max)
		}
	}
	return h.max
}

// Summary condenses the histogram for reports.
func (h *Hist) Summary() Summary {
	s := Summary{Count: h.n, P50: h.Quantile(0.5), P99: h.Quantile(0.99), Max: h.max}
	if h.n > 0 {
		s.Mean = h.sum / time.Duration(h.n)
	}
	return s
}

// Summary is a latency distribution as reports print it.
type Summary struct {
	Count uint64
	Mean  time.Duration
	P50   time.Duration
	P99   time.Duration
	Max   time.Duration
}

// MarshalJSON writes durations as milliseconds, which is what readers of
// a benchmark want.
func (s Summary) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Count  uint64  `json:"count"`
		MeanMs float64 `json:"meanMs"`
		P50Ms  float64 `json:"p50Ms"`
		P99Ms  float64 `json:"p99Ms"`
		MaxMs  float64 `json:"maxMs"`
	}{s.Count, ms(s.Mean), ms(s.P50), ms(s.P99), ms(s.Max)})
}

// ms converts a duration to fractional milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
