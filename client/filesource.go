package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// IVFFile publishes the frames of an IVF file (VP8, VP9 or AV1) at the
// file's frame rate, from the start again when it ends.
type IVFFile struct {
	path  string
	frame time.Duration
	track *webrtc.TrackLocalStaticSample
}

// NewIVFFile opens path to learn its codec and frame rate.
func NewIVFFile(path string) (*IVFFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	_, h, err := ivfreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("crvnode client: %s: %w", path, err)
	}
	mime := map[string]string{"VP80": webrtc.MimeTypeVP8, "VP90": webrtc.MimeTypeVP9, "AV01": webrtc.MimeTypeAV1}[h.FourCC]
	if mime == "" {
		return nil, fmt.Errorf("crvnode client: %s: unsupported codec %q", path, h.FourCC)
	}
	frame := time.Second / 30 // for a file whose time base is missing or absurd
	if h.TimebaseDenominator != 0 && h.TimebaseNumerator != 0 {
		if d := time.Duration(h.TimebaseNumerator) * time.Second / time.Duration(h.TimebaseDenominator); d > 0 && d <= time.Second {
			frame = d
		}
	}
	t, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000}, "camera", "crvnode")
	if err != nil {
		return nil, err
	}
	return &IVFFile{path: path, frame: frame, track: t}, nil
}

// Tracks is the one video track.
func (v *IVFFile) Tracks() []webrtc.TrackLocal { return []webrtc.TrackLocal{v.track} }

// Start plays the file in a loop until ctx ends.
func (v *IVFFile) Start(ctx context.Context, sender *webrtc.RTPSender, _ string) {
	go drainRTCP(sender, "", nil)
	playLoop(ctx, v.path, v.frame, func(f io.Reader) (func() ([]byte, time.Duration, error), error) {
		r, _, err := ivfreader.NewWith(f)
		if err != nil {
			return nil, err
		}
		return func() ([]byte, time.Duration, error) {
			frame, _, err := r.ParseNextFrame()
			return frame, v.frame, err
		}, nil
	}, v.track)
}

// OggFile publishes the Opus pages of an Ogg file, from the start again
// when it ends.
type OggFile struct {
	path  string
	track *webrtc.TrackLocalStaticSample
}

// NewOggFile checks that path is an Ogg Opus file.
func NewOggFile(path string) (*OggFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, _, err := oggreader.NewWith(f); err != nil {
		return nil, fmt.Errorf("crvnode client: %s: %w", path, err)
	}
	t, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "crvnode")
	if err != nil {
		return nil, err
	}
	return &OggFile{path: path, track: t}, nil
}

// Tracks is the one audio track.
func (a *OggFile) Tracks() []webrtc.TrackLocal { return []webrtc.TrackLocal{a.track} }

// Start plays the file in a loop until ctx ends; each page's duration
// comes from its granule position (48 kHz).
func (a *OggFile) Start(ctx context.Context, sender *webrtc.RTPSender, _ string) {
	go drainRTCP(sender, "", nil)
	playLoop(ctx, a.path, 20*time.Millisecond, func(f io.Reader) (func() ([]byte, time.Duration, error), error) {
		r, _, err := oggreader.NewWith(f)
		if err != nil {
			return nil, err
		}
		var last uint64
		return func() ([]byte, time.Duration, error) {
			page, h, err := r.ParseNextPage()
			if err != nil {
				return nil, 0, err
			}
			d := time.Duration(h.GranulePosition-last) * time.Second / 48000
			last = h.GranulePosition
			if d <= 0 || d > time.Second {
				d = 20 * time.Millisecond
			}
			return page, d, nil
		}, nil
	}, a.track)
}

// playLoop opens path, reads samples with the reader open makes and
// writes each after the previous one's duration, reopening at the end.
func playLoop(ctx context.Context, path string, first time.Duration, open func(io.Reader) (func() ([]byte, time.Duration, error), error), track *webrtc.TrackLocalStaticSample) {
	timer := time.NewTimer(first)
	defer timer.Stop()
	for ctx.Err() == nil {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		next, err := open(f)
		for err == nil {
			var data []byte
			var d time.Duration
			if data, d, err = next(); err != nil {
				break
			}
			select {
			case <-ctx.Done():
				f.Close()
				return
			case <-timer.C:
			}
			timer.Reset(d)
			if werr := track.WriteSample(pionmedia.Sample{Data: data, Duration: d}); werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
				err = werr
			}
		}
		f.Close()
		if !errors.Is(err, io.EOF) {
			return
		}
	}
}
