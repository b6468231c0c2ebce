package loadgen

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// The direct transfer's flow control, as pion's
// examples/data-channels-flow-control does it: send while the channel
// buffers less than directHigh, then wait for OnBufferedAmountLow.
const (
	directChunk = 16 << 10 // the relay's chunk size
	directHigh  = 1 << 20
	directLow   = 512 << 10
)

// directTransfer sends the file at src over one data channel between two
// PeerConnections of this process, on loopback. Both ends do the relay's
// endpoints' work: the sender reads the file and hashes it, the receiver
// writes and hashes what it gets; only the node in between is missing.
func directTransfer(ctx context.Context, src string, size int64, dir string) (TransferResult, error) {
	var res TransferResult
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	api := webrtc.NewAPI(webrtc.WithSettingEngine(*LoopbackSettings()))
	a, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return res, err
	}
	defer a.Close()
	b, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return res, err
	}
	defer b.Close()
	sink, err := newFileSink(filepath.Join(dir, "direct.bin"), size)
	if err != nil {
		return res, err
	}
	defer sink.close()
	b.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) { sink.write(m.Data) })
	})
	dc, err := a.CreateDataChannel("bench", nil) // reliable and ordered, like the transfer channel
	if err != nil {
		return res, err
	}
	opened := make(chan struct{})
	dc.OnOpen(func() { close(opened) })
	if err := connectDirect(ctx, a, b); err != nil {
		return res, err
	}
	select {
	case <-opened:
	case <-ctx.Done():
		return res, ctx.Err()
	}
	t0 := time.Now()
	if err := sendFile(ctx, dc, src); err != nil {
		return res, err
	}
	select {
	case <-sink.done:
	case <-ctx.Done():
		return res, ctx.Err()
	}
	res.Seconds = time.Since(t0).Seconds()
	return res, sink.err
}

// connectDirect exchanges offer and answer, every candidate included.
func connectDirect(ctx context.Context, a, b *webrtc.PeerConnection) error {
	offer, err := describe(ctx, a, true)
	if err != nil {
		return err
	}
	if err := b.SetRemoteDescription(*offer); err != nil {
		return err
	}
	answer, err := describe(ctx, b, false)
	if err != nil {
		return err
	}
	return a.SetRemoteDescription(*answer)
}

// sendFile reads src in chunks and sends them, hashing as it goes.
func sendFile(ctx context.Context, dc *webrtc.DataChannel, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	low := make(chan struct{}, 1)
	dc.SetBufferedAmountLowThreshold(directLow)
	dc.OnBufferedAmountLow(func() {
		select {
		case low <- struct{}{}:
		default:
		}
	})
	h := sha256.New()
	r := bufio.NewReaderSize(f, 1<<20)
	buf := make([]byte, directChunk)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			h.Write(buf[:n])
			if serr := dc.Send(buf[:n]); serr != nil {
				return serr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return err
		}
		for dc.BufferedAmount() > directHigh {
			select {
			case <-low:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// fileSink writes what arrives to a file and hashes it; done closes once
// size bytes have been written.
type fileSink struct {
	f    *os.File
	w    *bufio.Writer
	h    hash.Hash
	size int64

	mu   sync.Mutex
	got  int64
	err  error
	done chan struct{}
	once sync.Once
}

func newFileSink(path string, size int64) (*fileSink, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &fileSink{f: f, w: bufio.NewWriterSize(f, 1<<20), h: sha256.New(), size: size, done: make(chan struct{})}, nil
}

func (s *fileSink) write(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || s.got >= s.size {
		return
	}
	s.h.Write(p)
	if _, err := s.w.Write(p); err != nil {
		s.err = err
	}
	s.got += int64(len(p))
	if s.got >= s.size || s.err != nil {
		if err := s.w.Flush(); err != nil && s.err == nil {
			s.err = err
		}
		if s.got > s.size {
			s.err = fmt.Errorf("received %d bytes, sent %d", s.got, s.size)
		}
		s.once.Do(func() { close(s.done) })
	}
}

func (s *fileSink) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.f.Close()
}
