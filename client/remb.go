package client

import (
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// The client tells the node what its down link carries with REMB, the
// receiver-side estimate every browser also understands, so that the
// node picks simulcast layers that fit. The estimate is loss-based: it
// falls to what got through when more than a tenth is lost, and grows
// while almost nothing is.
const (
	rembInterval = 500 * time.Millisecond
	rembMin      = 50_000
	rembMax      = 50_000_000
)

type rembFactory struct{}

func (rembFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &rembInterceptor{streams: map[uint32]*rembStream{}, done: make(chan struct{})}, nil
}

// rembInterceptor measures the video a connection receives and sends REMB.
type rembInterceptor struct {
	interceptor.NoOp
	mu       sync.Mutex
	streams  map[uint32]*rembStream
	estimate float64
	once     sync.Once
	done     chan struct{}
	wg       sync.WaitGroup
}

type rembStream struct {
	bytes    int
	received int
	highest  uint16
	started  bool
	expected int
}

func (r *rembInterceptor) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	r.wg.Add(1)
	go r.loop(w)
	return w
}

func (r *rembInterceptor) BindRemoteStream(info *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	if info.MimeType == "" || info.MimeType[:5] != "video" {
		return reader
	}
	r.mu.Lock()
	st := &rembStream{}
	r.streams[info.SSRC] = st
	r.mu.Unlock()
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := reader.Read(b, a)
		if err == nil {
			var h rtp.Header
			if _, perr := h.Unmarshal(b[:n]); perr == nil {
				r.mu.Lock()
				st.add(h.SequenceNumber, n)
				r.mu.Unlock()
			}
		}
		return n, a, err
	})
}

func (r *rembInterceptor) UnbindRemoteStream(info *interceptor.StreamInfo) {
	r.mu.Lock()
	delete(r.streams, info.SSRC)
	r.mu.Unlock()
}

func (r *rembInterceptor) Close() error {
	r.once.Do(func() { close(r.done) })
	r.wg.Wait()
	return nil
}

func (s *rembStream) add(seq uint16, n int) {
	s.bytes += n
	s.received++
	if !s.started {
		s.started, s.highest, s.expected = true, seq, 1
		return
	}
	if d := seq - s.highest; d != 0 && d < 0x8000 {
		s.expected += int(d)
		s.highest = seq
	}
}

func (r *rembInterceptor) loop(w interceptor.RTCPWriter) {
	defer r.wg.Done()
	t := time.NewTicker(rembInterval)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
		}
		if pkt := r.update(); pkt != nil {
			_, _ = w.Write([]rtcp.Packet{pkt}, nil)
		}
	}
}

// update folds one interval's measurements into the estimate and returns
// the REMB to send, or nil when no video flows.
func (r *rembInterceptor) update() rtcp.Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	bytes, received, expected := 0, 0, 0
	ssrcs := make([]uint32, 0, len(r.streams))
	for ssrc, s := range r.streams {
		bytes, received, expected = bytes+s.bytes, received+s.received, expected+s.expected
		s.bytes, s.received, s.expected = 0, 0, 0
		ssrcs = append(ssrcs, ssrc)
	}
	if expected == 0 {
		return nil
	}
	rate := float64(bytes*8) / rembInterval.Seconds()
	loss := 1 - float64(received)/float64(expected)
	switch {
	case r.estimate == 0:
		r.estimate = rate * 1.5
	case loss > 0.1:
		r.estimate = rate * 0.85
	case loss < 0.02:
		r.estimate = max(r.estimate*1.15, rate*1.1)
	}
	r.estimate = min(max(r.estimate, rembMin), rembMax)
	return &rtcp.ReceiverEstimatedMaximumBitrate{SenderSSRC: 1, Bitrate: float32(r.estimate), SSRCs: ssrcs}
}
