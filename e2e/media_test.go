package e2e

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
)

// startMediaNode starts an in-process node with the SFU on loopback.
func startMediaNode(t testing.TB, fc node.FileConfig) *node.Node {
	t.Helper()
	if fc.Apps == nil {
		fc.Apps = testApps
	}
	n, err := node.Start(node.Config{HTTPAddr: "127.0.0.1:0", RTCAddr: "127.0.0.1:0", DataDir: t.TempDir(), File: fc,
		Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(ctxTimeout(t, 10*time.Second)) })
	return n
}

// trackStats is what one receiver saw of one remote track.
type trackStats struct {
	mu       sync.Mutex
	packets  int
	bad      int // payloads that fail ParseSynthetic
	gaps     int // missing sequence numbers
	lastSeq  uint16
	started  bool
	first    time.Time
	keyframe bool // the first video packet began a keyframe
	done     chan struct{}
	latency  []time.Duration
}

func (s *trackStats) add(pkt *rtp.Packet, video bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok := client.ParseSynthetic(pkt.Payload, video)
	if !ok {
		s.bad++
	} else {
		s.latency = append(s.latency, time.Since(info.Sent))
	}
	if s.started {
		if d := pkt.SequenceNumber - s.lastSeq; d > 1 && d < 0x8000 {
			s.gaps += int(d - 1)
		}
	} else {
		s.first = time.Now()
		s.keyframe = ok && info.Keyframe && info.Index == 0
	}
	if d := pkt.SequenceNumber - s.lastSeq; !s.started || d < 0x8000 {
		s.lastSeq = pkt.SequenceNumber
	}
	s.started = true
	s.packets++
}

func (s *trackStats) snapshot() (packets, bad, gaps int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.packets, s.bad, s.gaps
}

// mediaUser is a logged-in client that records every remote track it gets.
type mediaUser struct {
	*user
	mu     sync.Mutex
	tracks map[string]*trackStats // "userID/source"
}

func joinMedia(t testing.TB, n *node.Node, id string) *mediaUser {
	t.Helper()
	mu := &mediaUser{tracks: map[string]*trackStats{}}
	u := &user{t: t, events: make(chan client.Event, 4096)}
	c, err := client.Dial(ctxTimeout(t, eventWait), "ws://"+n.Addr()+"/ws", client.Options{
		Handler: func(ev client.Event) {
			if ev.Method == protocol.EventMicEnergyUpdate {
				return // too chatty for the tests' event order
			}
			select {
			case u.events <- ev:
			default:
			}
		},
		OnTrack: func(rt *client.RemoteTrack) { mu.record(rt) },
	})
	if err != nil {
		t.Fatal(err)
	}
	u.Client = c
	t.Cleanup(func() { _ = c.Close() })
	if _, err := c.Login(ctxTimeout(t, eventWait), protocol.LoginParams{AppID: "acme", AppSecret: md5hex("acme-secret"), UserID: id, NickName: id}); err != nil {
		t.Fatal(err)
	}
	mu.user = u
	return mu
}

func (m *mediaUser) record(rt *client.RemoteTrack) {
	key := rt.UserID + "/" + rt.Source
	s := &trackStats{done: make(chan struct{})}
	m.mu.Lock()
	m.tracks[key] = s
	m.mu.Unlock()
	video := rt.Source != protocol.SourceMic
	defer close(s.done)
	for {
		pkt, _, err := rt.Track.ReadRTP()
		if err != nil {
			return
		}
		s.add(pkt, video)
	}
}

func (m *mediaUser) stats(key string) *trackStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tracks[key]
}

// waitPackets waits until the track key has at least n packets.
func (m *mediaUser) waitPackets(t testing.TB, key string, n int, within time.Duration) *trackStats {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if s := m.stats(key); s != nil {
			if p, _, _ := s.snapshot(); p >= n {
				return s
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := m.stats(key)
	var p int
	if s != nil {
		p, _, _ = s.snapshot()
	}
	t.Fatalf("%s: %s has %d packets, want %d within %v", m.UserID(), key, p, n, within)
	return nil
}

func TestThreeMembersMedia(t *testing.T) {
	n := startMediaNode(t, node.FileConfig{})
	ctx := ctxTimeout(t, 30*time.Second)
	names := []string{"ann", "ben", "cat"}
	var us []*mediaUser
	for _, id := range names {
		u := joinMedia(t, n, id)
		u.SetMicSource(client.NewSyntheticAudio())
		u.SetCameraSource(client.NewSyntheticVideo(300_000, 30, false))
		us = append(us, u)
	}
	meet, err := us[0].CreateMeeting(ctx, "media", 0)
	must(t, err)
	for _, u := range us {
		_, err := u.EnterMeeting(ctx, meet.ID, "", "")
		must(t, err)
	}
	for _, u := range us {
		must(t, u.OpenMic(ctx, u.UserID()))
		must(t, u.OpenVideo(ctx, u.UserID()))
	}
	for _, u := range us {
		vids, err := u.GetWatchableVideos(ctx)
		must(t, err)
		if len(vids) != 2 {
			t.Fatalf("%s watchable %+v", u.UserID(), vids)
		}
		for _, v := range vids {
			must(t, u.SetVideo(ctx, v.UserID, v.VideoID, 0))
		}
	}
	for _, u := range us {
		for _, other := range names {
			if other == u.UserID() {
				continue
			}
			for _, src := range []string{"mic", "camera"} {
				key := other + "/" + src
				s := u.waitPackets(t, key, 60, 10*time.Second)
				p, bad, gaps := s.snapshot()
				if bad != 0 || gaps != 0 {
					t.Errorf("%s got %s: %d packets, %d bad, %d missing", u.UserID(), key, p, bad, gaps)
				}
				if src == "camera" && !s.keyframe {
					t.Errorf("%s: %s did not start on a keyframe", u.UserID(), key)
				}
			}
		}
	}
}
