package loadgen

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/protocol"
)

// sfuTarget is one server of the SFU bench, as the load side sees it:
// everything but signaling (the synthetic sources, the Receivers, the
// pion settings) is the same code for both.
type sfuTarget interface {
	// start runs the server process.
	start(ctx context.Context) (*Proc, error)
	// publish connects the publisher: synthetic audio and video.
	publish(ctx context.Context, bitrate, fps int) error
	// subscribe connects subscriber i, whose tracks r records.
	subscribe(ctx context.Context, i int, r *Receiver) (io.Closer, error)
	// close disconnects the publisher.
	close()
}

// Server names in reports.
const (
	ServerCrvnode  = "crvnode"
	ServerCrvnodeB = "crvnode-b" // SFUBench.NodeBinB
	ServerBaseline = "baseline"
)

// BenchApp is the app the benches log in to; its secret is the same word.
const BenchApp = "bench"

// benchNodeConfig lets the bench's members into one meeting and keeps the
// per-connection rate limits out of the measurements.
const benchNodeConfig = `apps:
  - id: bench
    secret: bench
limits:
  maxMembers: 100000
  rate: 100000
  burst: 100000
  sendQueue: 65536
`

// MD5Hex is the lower-case hex MD5 that login sends as appSecret.
func MD5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// nodeTarget is crvnode: the node binary, driven by package client.
type nodeTarget struct {
	bin, dataDir string
	padding      int // percent of the publisher's video packets that are padding only
	url          string
	pub          *client.Client
	meet         protocol.MeetInfo
}

func (t *nodeTarget) start(ctx context.Context) (*Proc, error) {
	p, err := StartNode(ctx, t.bin, t.dataDir, benchNodeConfig)
	if err != nil {
		return nil, err
	}
	t.url = "ws://" + p.Addr() + "/ws"
	return p, nil
}

// login connects a user; subscribers (onTrack set) are SignalingOnly: they
// receive on the down connection and, like the baseline's subscribers,
// have no up connection.
func (t *nodeTarget) login(ctx context.Context, user string, onTrack func(*client.RemoteTrack)) (*client.Client, error) {
	c, err := client.Dial(ctx, t.url, client.Options{OnTrack: onTrack, SettingEngine: LoopbackSettings(), SignalingOnly: onTrack != nil})
	if err != nil {
		return nil, err
	}
	if _, err := c.Login(ctx, protocol.LoginParams{AppID: BenchApp, AppSecret: MD5Hex(BenchApp), UserID: user, NickName: user}); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("login %s: %w", user, err)
	}
	return c, nil
}

func (t *nodeTarget) publish(ctx context.Context, bitrate, fps int) error {
	c, err := t.login(ctx, "pub", nil)
	if err != nil {
		return err
	}
	t.pub = c
	if t.meet, err = c.CreateMeeting(ctx, "sfu bench", 0); err != nil {
		return err
	}
	if _, err := c.EnterMeeting(ctx, t.meet.ID, t.meet.Pswd, ""); err != nil {
		return err
	}
	c.SetMicSource(client.NewSyntheticAudio())
	c.SetCameraSource(withPadding(client.NewSyntheticVideo(bitrate, fps, false), t.padding))
	if err := c.OpenMic(ctx, "pub"); err != nil {
		return err
	}
	return c.OpenVideo(ctx, "pub")
}

func (t *nodeTarget) subscribe(ctx context.Context, i int, r *Receiver) (io.Closer, error) {
	c, err := t.login(ctx, fmt.Sprintf("sub%05d", i), func(rt *client.RemoteTrack) { r.Consume(rt.Track) })
	if err != nil {
		return nil, err
	}
	if _, err := c.EnterMeeting(ctx, t.meet.ID, t.meet.Pswd, ""); err != nil {
		_ = c.Close()
		return nil, err
	}
	if err := c.SetVideo(ctx, "pub", protocol.VideoIDCamera, 0); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

func (t *nodeTarget) close() {
	if t.pub != nil {
		_ = t.pub.Close()
	}
}

// baselineTarget is the pion broadcast forwarder, run as `crvload
// baseline-server` in its own process, with raw pion PeerConnections on
// the load side.
type baselineTarget struct {
	argv    []string // the baseline server's command line, without -http
	env     []string
	padding int
	base    string // http://host:port
	api     *webrtc.API
	hc      *http.Client
	pub     *webrtc.PeerConnection
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

var baselineReady = regexp.MustCompile(`baseline listening http=(\S+)`)

func (t *baselineTarget) start(ctx context.Context) (*Proc, error) {
	api, err := defaultAPI(false)
	if err != nil {
		return nil, err
	}
	t.api = api
	t.hc = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	p, err := StartProc(ctx, ProcSpec{Path: t.argv[0], Args: append(t.argv[1:len(t.argv):len(t.argv)], "-http", "127.0.0.1:0"),
		Env: t.env, Ready: baselineReady})
	if err != nil {
		return nil, err
	}
	t.base = "http://" + p.Addr()
	return p, nil
}

func (t *baselineTarget) publish(ctx context.Context, bitrate, fps int) error {
	pc, err := t.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	t.pub = pc
	sources := []client.MediaSource{client.NewSyntheticAudio(), withPadding(client.NewSyntheticVideo(bitrate, fps, false), t.padding)}
	var senders []*webrtc.RTPTransceiver
	for _, src := range sources {
		tr, err := pc.AddTransceiverFromTrack(src.Tracks()[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return err
		}
		senders = append(senders, tr)
	}
	if err := t.negotiate(ctx, pc, "/publish"); err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(context.Background())
	t.stop = cancel
	for i, src := range sources {
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			src.Start(sctx, senders[i].Sender(), senders[i].Mid())
		}()
	}
	return nil
}

func (t *baselineTarget) subscribe(ctx context.Context, _ int, r *Receiver) (io.Closer, error) {
	pc, err := t.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			_ = pc.Close()
			return nil, err
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { r.Consume(tr) })
	if err := t.negotiate(ctx, pc, "/subscribe"); err != nil {
		_ = pc.Close()
		return nil, err
	}
	return pc, nil
}

// negotiate offers pc's state to the baseline with every candidate and
// applies its answer.
func (t *baselineTarget) negotiate(ctx context.Context, pc *webrtc.PeerConnection, path string) error {
	offer, err := describe(ctx, pc, true)
	if err != nil {
		return err
	}
	body, err := json.Marshal(offer)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignaling, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%w: POST %s: %s: %s", ErrSignaling, path, resp.Status, bytes.TrimSpace(msg))
	}
	var answer webrtc.SessionDescription
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return fmt.Errorf("%w: POST %s: %w", ErrSignaling, path, err)
	}
	return pc.SetRemoteDescription(answer)
}

func (t *baselineTarget) close() {
	if t.stop != nil {
		t.stop()
	}
	if t.pub != nil {
		_ = t.pub.Close()
	}
	t.wg.Wait()
	if t.hc != nil {
		t.hc.CloseIdleConnections()
	}
}

// withPadding makes percent of src's packets padding only, as a browser's
// bandwidth probes are: after every (100-percent)/percent media packets
// (rounded) of each track, one padding-only packet of 255 bytes with the
// last packet's timestamp. Sequence numbers are renumbered to take it.
func withPadding(src client.MediaSource, percent int) client.MediaSource {
	if percent <= 0 {
		return src
	}
	every := max((100-percent+percent/2)/percent, 1)
	p := &paddedSource{MediaSource: src}
	for _, t := range src.Tracks() {
		p.tracks = append(p.tracks, &paddedTrack{TrackLocal: t, every: every})
	}
	return p
}

type paddedSource struct {
	client.MediaSource
	tracks []webrtc.TrackLocal
}

func (p *paddedSource) Tracks() []webrtc.TrackLocal { return p.tracks }

// paddedTrack is a TrackLocal whose every binding writes through a
// paddedWriter.
type paddedTrack struct {
	webrtc.TrackLocal
	every int
}

func (t *paddedTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	return t.TrackLocal.Bind(paddedContext{TrackLocalContext: ctx, w: &paddedWriter{w: ctx.WriteStream(), every: t.every}})
}

type paddedContext struct {
	webrtc.TrackLocalContext
	w *paddedWriter
}

func (c paddedContext) WriteStream() webrtc.TrackLocalWriter { return c.w }

type paddedWriter struct {
	w     webrtc.TrackLocalWriter
	every int
	mu    sync.Mutex
	seq   uint16
	n     int
}

func (w *paddedWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := *h
	out.SequenceNumber = w.seq
	w.seq++
	n, err := w.w.WriteRTP(&out, payload)
	if err != nil {
		return n, err
	}
	if w.n++; w.n%w.every == 0 {
		pad := rtp.Header{Version: 2, Padding: true, PaddingSize: 255, PayloadType: h.PayloadType, SSRC: h.SSRC,
			Timestamp: h.Timestamp, SequenceNumber: w.seq}
		w.seq++
		if _, err := w.w.WriteRTP(&pad, nil); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (w *paddedWriter) Write(b []byte) (int, error) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return 0, err
	}
	return w.WriteRTP(&p.Header, p.Payload)
}
