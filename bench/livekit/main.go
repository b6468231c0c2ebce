// Command livekit measures livekit-server in crvnode's SFU bench: it
// starts the given livekit-server binary on loopback with a config it
// writes, creates a room, connects one publisher (the bench's synthetic
// Opus-framed audio and VP8 video, the load crvnode and the baseline get)
// and N subscribers with LiveKit's Go SDK (server-sdk-go), and measures
// the server process as `crvload bench sfu` measures crvnode: CPU time
// and RSS from /proc, packets, loss and latency at the subscribers. It
// prints the result as JSON on standard output.
//
// It is a module of its own, so that LiveKit is no dependency of the
// node; `crvload bench sfu -livekit <livekit-server>` builds and runs it.
// livekit-server v1.13.5 builds with
//
//	go install github.com/livekit/livekit-server/cmd/server@v1.13.5
//
// (the binary is $(go env GOPATH)/bin/server).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"

	"github.com/livekit/protocol/livekit"
	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/internal/loadgen"
)

// The API key and secret the config gives the server and the clients.
const (
	apiKey    = "crvload"
	apiSecret = "crvloadcrvloadcrvloadcrvloadcrvload"
	roomName  = "sfu-bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "livekit bench:", err)
		os.Exit(1)
	}
}

func run() error {
	server := flag.String("livekit-server", "", "livekit-server binary (v1.13.5)")
	n := flag.Int("n", 100, "subscribers")
	b := loadgen.SFUBench{}
	flag.IntVar(&b.Bitrate, "bitrate", 1_000_000, "the publisher's video bitrate, bits/s")
	flag.IntVar(&b.FPS, "fps", 30, "video frames per second")
	flag.DurationVar(&b.Window, "window", 10*time.Second, "steady-state measurement window")
	flag.DurationVar(&b.Settle, "settle", 2*time.Second, "wait after the publisher starts and after the last subscriber receives")
	flag.DurationVar(&b.JoinTimeout, "join-timeout", 60*time.Second, "for every subscriber's first keyframe")
	flag.IntVar(&b.Concurrency, "concurrency", 8, "subscribers joining at once")
	flag.IntVar(&b.PaddingPercent, "padding", 0, "percent of the video packets that are padding only")
	verbose := flag.Bool("v", false, "the SDK's and pion's log lines on standard error")
	flag.Parse()
	if !*verbose {
		lksdk.SetLogger(protoLogger.GetDiscardLogger())
	}
	if *server == "" {
		return errors.New("no -livekit-server binary")
	}
	b.Progress = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "crvload-livekit-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	t := &target{bin: *server, dir: dir, padding: b.PaddingPercent}
	res, err := loadgen.RunSFUTarget(ctx, b, loadgen.ServerLiveKit, *n, t)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// target is livekit-server, driven by server-sdk-go.
type target struct {
	bin, dir string
	padding  int
	url      string
	pub      *lksdk.Room
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

var ready = regexp.MustCompile(`starting LiveKit server.*"portHttp": (\d+)`)

// freePorts returns a free TCP port and a free UDP port on loopback.
func freePorts() (tcp []int, udp int, err error) {
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, 0, err
		}
		defer l.Close()
		tcp = append(tcp, l.Addr().(*net.TCPAddr).Port)
	}
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	defer u.Close()
	return tcp, u.LocalAddr().(*net.UDPAddr).Port, nil
}

func (t *target) Start(ctx context.Context) (*loadgen.Proc, error) {
	tcp, udp, err := freePorts()
	if err != nil {
		return nil, err
	}
	// One UDP port for every peer (LiveKit's UDP mux), loopback only, no
	// STUN lookup of an external address; keys instead of --dev (which
	// would log at debug level).
	config := fmt.Sprintf(`port: %d
bind_addresses: ["127.0.0.1"]
rtc:
  udp_port: %d
  tcp_port: %d
  node_ip: 127.0.0.1
  use_external_ip: false
  enable_loopback_candidate: true
  interfaces:
    includes: [lo]
keys:
  %s: %s
logging:
  level: info
`, tcp[0], udp, tcp[1], apiKey, apiSecret)
	path := filepath.Join(t.dir, "livekit.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		return nil, err
	}
	p, err := loadgen.StartProc(ctx, loadgen.ProcSpec{Path: t.bin, Args: []string{"--config", path}, Ready: ready})
	if err != nil {
		return nil, err
	}
	t.url = "ws://127.0.0.1:" + p.Addr()
	rooms := lksdk.NewRoomServiceClient("http://127.0.0.1:"+p.Addr(), apiKey, apiSecret)
	if _, err := rooms.CreateRoom(ctx, &livekit.CreateRoomRequest{Name: roomName, MaxParticipants: 0}); err != nil {
		_ = p.Stop(10 * time.Second)
		return nil, fmt.Errorf("create room: %w", err)
	}
	return p, nil
}

func (t *target) connect(user string, cb *lksdk.RoomCallback) (*lksdk.Room, error) {
	return lksdk.ConnectToRoom(t.url, lksdk.ConnectInfo{APIKey: apiKey, APISecret: apiSecret, RoomName: roomName,
		ParticipantIdentity: user}, cb, lksdk.WithDisableRegionDiscovery(), lksdk.WithConnectTimeout(30*time.Second))
}

func (t *target) Publish(ctx context.Context, bitrate, fps int) error {
	room, err := t.connect("pub", lksdk.NewRoomCallback())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	t.pub = room
	sources := loadgen.NewSFUSources(bitrate, fps, t.padding)
	opts := []*lksdk.TrackPublicationOptions{
		{Name: "mic", Source: livekit.TrackSource_MICROPHONE},
		{Name: "camera", Source: livekit.TrackSource_CAMERA, VideoWidth: 1280, VideoHeight: 720},
	}
	tracks := make([]webrtc.TrackLocal, len(sources))
	for i, src := range sources {
		tracks[i] = src.Tracks()[0]
		if _, err := room.LocalParticipant.PublishTrack(tracks[i], opts[i]); err != nil {
			return fmt.Errorf("publish %s: %w", opts[i].Name, err)
		}
	}
	// The SDK reads each sender's RTCP too; the sources see the keyframe
	// requests that reach their reader, and send one every 2 s anyway.
	pc := room.LocalParticipant.GetPublisherPeerConnection()
	sctx, cancel := context.WithCancel(context.Background())
	t.stop = cancel
	for i, src := range sources {
		tr := transceiverOf(pc, tracks[i])
		if tr == nil {
			return fmt.Errorf("publish %s: no transceiver", opts[i].Name)
		}
		t.wg.Add(1)
		go func(src client.MediaSource) {
			defer t.wg.Done()
			src.Start(sctx, tr.Sender(), tr.Mid())
		}(src)
	}
	return ctx.Err()
}

func transceiverOf(pc *webrtc.PeerConnection, track webrtc.TrackLocal) *webrtc.RTPTransceiver {
	if pc == nil {
		return nil
	}
	for _, tr := range pc.GetTransceivers() {
		if s := tr.Sender(); s != nil && s.Track() == track {
			return tr
		}
	}
	return nil
}

// Subscribe joins as a subscriber that publishes nothing and subscribes
// to everything (the SDK's default, autoSubscribe).
func (t *target) Subscribe(ctx context.Context, i int, r *loadgen.Receiver) (io.Closer, error) {
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
		go r.Consume(track)
	}
	room, err := t.connect(fmt.Sprintf("sub%05d", i), cb)
	if err != nil {
		return nil, fmt.Errorf("connect subscriber %d: %w", i, err)
	}
	return roomCloser{room}, ctx.Err()
}

type roomCloser struct{ r *lksdk.Room }

func (c roomCloser) Close() error {
	c.r.Disconnect()
	return nil
}

func (t *target) Close() {
	if t.stop != nil {
		t.stop()
	}
	if t.pub != nil {
		t.pub.Disconnect()
	}
	t.wg.Wait()
}
