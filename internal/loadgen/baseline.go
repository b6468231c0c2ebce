package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// Baseline is the SFU bench's reference: the smallest forwarder pion's
// own examples teach (examples/broadcast). One PeerConnection per peer,
// with pion's default interceptors, each on its own UDP socket (no mux);
// the publisher's read loop writes every packet to a TrackLocalStaticRTP
// that fans it out to every subscriber; a PLI to the publisher every 3 s
// instead of forwarding subscribers' requests. Signaling is one HTTP
// request per peer exchanging complete SDP (ICE gathered first):
// POST /publish and POST /subscribe with a JSON RTCSessionDescription.
type Baseline struct {
	pubAPI, subAPI *webrtc.API
	log            *slog.Logger

	mu        sync.Mutex
	publisher *webrtc.PeerConnection
	want      int                           // tracks the publisher offered
	tracks    []*webrtc.TrackLocalStaticRTP // what arrived of them
	changed   chan struct{}                 // closed and replaced when tracks change
	pcs       map[*webrtc.PeerConnection]struct{}
	closed    bool
	wg        sync.WaitGroup // read loops
}

// NewBaseline builds the baseline forwarder; log may be nil.
func NewBaseline(log *slog.Logger) (*Baseline, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pub, err := defaultAPI(true)
	if err != nil {
		return nil, err
	}
	sub, err := defaultAPI(false)
	if err != nil {
		return nil, err
	}
	return &Baseline{pubAPI: pub, subAPI: sub, log: log, changed: make(chan struct{}),
		pcs: map[*webrtc.PeerConnection]struct{}{}}, nil
}

// ServeHTTP serves the baseline's signaling.
func (b *Baseline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/healthz":
		_, _ = io.WriteString(w, "ok\n")
	case r.Method == http.MethodPost && r.URL.Path == "/publish":
		b.exchange(w, r, b.publish)
	case r.Method == http.MethodPost && r.URL.Path == "/subscribe":
		b.exchange(w, r, b.subscribe)
	default:
		http.NotFound(w, r)
	}
}

// exchange decodes an offer, lets f answer it and writes the answer.
func (b *Baseline) exchange(w http.ResponseWriter, r *http.Request, f func(context.Context, webrtc.SessionDescription) (*webrtc.SessionDescription, error)) {
	var offer webrtc.SessionDescription
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&offer); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	answer, err := f(r.Context(), offer)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

func (b *Baseline) publish(ctx context.Context, offer webrtc.SessionDescription) (*webrtc.SessionDescription, error) {
	b.mu.Lock()
	busy := b.publisher != nil || b.closed
	b.mu.Unlock()
	if busy {
		return nil, errors.New("baseline: there is a publisher already")
	}
	pc, err := b.pubAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	pc.OnTrack(b.forward)
	answer, err := b.answer(ctx, pc, offer)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	b.mu.Lock()
	b.publisher, b.want = pc, len(pc.GetTransceivers())
	b.mu.Unlock()
	b.adopt(pc)
	return answer, nil
}

// forward is the publisher's read loop for one track: every packet goes
// to the local track, which writes it to every subscriber.
func (b *Baseline) forward(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	local, err := webrtc.NewTrackLocalStaticRTP(remote.Codec().RTPCodecCapability, remote.Kind().String(), "pion")
	if err != nil {
		b.log.Error("baseline: local track", "err", err)
		return
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.tracks = append(b.tracks, local)
	close(b.changed)
	b.changed = make(chan struct{})
	b.wg.Add(1)
	b.mu.Unlock()
	defer b.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		// ErrClosedPipe: nobody subscribes yet.
		if _, err := local.Write(buf[:n]); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			b.log.Debug("baseline: write", "err", err)
		}
	}
}

// publishedTracks waits until every track the publisher offered has
// arrived (its first packet came).
func (b *Baseline) publishedTracks(ctx context.Context) ([]*webrtc.TrackLocalStaticRTP, error) {
	for {
		b.mu.Lock()
		tracks, want, changed := b.tracks, b.want, b.changed
		b.mu.Unlock()
		if want > 0 && len(tracks) >= want {
			return tracks, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("baseline: the publisher's tracks: %w", ctx.Err())
		}
	}
}

func (b *Baseline) subscribe(ctx context.Context, offer webrtc.SessionDescription) (*webrtc.SessionDescription, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tracks, err := b.publishedTracks(ctx)
	if err != nil {
		return nil, err
	}
	pc, err := b.subAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	for _, t := range tracks {
		sender, err := pc.AddTrack(t)
		if err != nil {
			_ = pc.Close()
			return nil, err
		}
		b.wg.Add(1)
		go b.readRTCP(sender) // the interceptors (NACK, reports) act only on what is read
	}
	answer, err := b.answer(ctx, pc, offer)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	b.adopt(pc)
	return answer, nil
}

func (b *Baseline) readRTCP(s *webrtc.RTPSender) {
	defer b.wg.Done()
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}

// answer applies an offer and returns the answer with every candidate.
func (b *Baseline) answer(ctx context.Context, pc *webrtc.PeerConnection, offer webrtc.SessionDescription) (*webrtc.SessionDescription, error) {
	if err := pc.SetRemoteDescription(offer); err != nil {
		return nil, err
	}
	return describe(ctx, pc, false)
}

// adopt tracks a connection until it fails or closes, so Close ends it.
func (b *Baseline) adopt(pc *webrtc.PeerConnection) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		_ = pc.Close()
		return
	}
	b.pcs[pc] = struct{}{}
	b.mu.Unlock()
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s != webrtc.PeerConnectionStateFailed && s != webrtc.PeerConnectionStateClosed {
			return
		}
		b.mu.Lock()
		delete(b.pcs, pc)
		if pc == b.publisher {
			b.publisher, b.tracks, b.want = nil, nil, 0
		}
		b.mu.Unlock()
		go pc.Close() // not from pion's callback goroutine
	})
}

// Close ends every connection and waits for the read loops.
func (b *Baseline) Close() error {
	b.mu.Lock()
	b.closed = true
	pcs := make([]*webrtc.PeerConnection, 0, len(b.pcs))
	for pc := range b.pcs {
		pcs = append(pcs, pc)
	}
	b.pcs = map[*webrtc.PeerConnection]struct{}{}
	b.mu.Unlock()
	var errs []error
	for _, pc := range pcs {
		errs = append(errs, pc.Close())
	}
	b.wg.Wait()
	return errors.Join(errs...)
}

// ServeBaseline runs the baseline on addr until ctx ends. It writes
// "baseline listening http=<addr>" to logw once it accepts requests.
func ServeBaseline(ctx context.Context, addr string, logw io.Writer) error {
	b, err := NewBaseline(slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(logw, "baseline listening http=%s\n", ln.Addr())
	select {
	case <-ctx.Done():
	case err := <-served:
		_ = b.Close()
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	<-served
	return errors.Join(err, b.Close())
}
