package e2e

import (
	"context"
	"fmt"
	"net"
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
	return startMediaNodeOn(t, fc, nil)
}

// startMediaNodeOn is startMediaNode with the SFU's socket given.
func startMediaNodeOn(t testing.TB, fc node.FileConfig, conn net.PacketConn) *node.Node {
	t.Helper()
	if fc.Apps == nil {
		fc.Apps = testApps
	}
	n, err := node.Start(node.Config{HTTPAddr: "127.0.0.1:0", RTCAddr: "127.0.0.1:0", RTCConn: conn, DataDir: t.TempDir(), File: fc,
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
	bad      int                 // payloads that fail ParseSynthetic
	seqs     map[uint32]struct{} // extended sequence numbers received
	last     uint32              // highest extended sequence number
	first    time.Time
	firstKey time.Time // when the first keyframe began
	lowest   uint32    // lowest extended sequence number received
	lowKey   bool      // the packet with that number began a keyframe
	firstPkt string
	lastAt   time.Time
	count    int // packets per frame of the latest frame: tells simulcast layers apart
	maxJump  uint32
	latency  []time.Duration
}

func newTrackStats() *trackStats { return &trackStats{seqs: map[uint32]struct{}{}} }

func (s *trackStats) add(pkt *rtp.Packet, video bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok := client.ParseSynthetic(pkt.Payload, video)
	if !ok {
		s.bad++
	} else {
		s.latency = append(s.latency, time.Since(info.Sent))
		s.count = info.Count
	}
	if ok && info.Keyframe && info.Index == 0 && s.firstKey.IsZero() {
		s.firstKey = time.Now()
	}
	ext := uint32(pkt.SequenceNumber)
	if s.packets == 0 {
		s.first = time.Now()
		s.firstPkt = fmt.Sprintf("seq %d %+v", pkt.SequenceNumber, info)
		ext += 1 << 16 // room to unwrap backwards
	} else {
		// The extended number closest to the highest one so far.
		base := s.last &^ 0xffff
		ext = base | uint32(pkt.SequenceNumber)
		if int64(ext)-int64(s.last) > 0x8000 {
			ext -= 1 << 16
		} else if int64(s.last)-int64(ext) > 0x8000 {
			ext += 1 << 16
		}
	}
	if s.packets == 0 || ext < s.lowest {
		// The stream must begin with a keyframe; a lost first packet is
		// resent later, so judge by the lowest number, not the first arrival.
		s.lowest, s.lowKey = ext, ok && info.Keyframe && info.Index == 0
		s.firstPkt = fmt.Sprintf("seq %d %+v", pkt.SequenceNumber, info)
	}
	if s.packets > 0 && ext > s.last {
		s.maxJump = max(s.maxJump, ext-s.last)
	}
	if ext > s.last || s.packets == 0 {
		s.last = ext
	}
	s.seqs[ext] = struct{}{}
	s.lastAt = time.Now()
	s.packets++
}

// snapshot returns packets received, bad payloads and sequence numbers
// missing between the first and the highest received.
func (s *trackStats) snapshot() (packets, bad, missing int) {
	return s.settled(0)
}

// settled is snapshot leaving out the newest tail sequence numbers, whose
// repairs may still be on their way.
func (s *trackStats) settled(tail uint32) (packets, bad, missing int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seqs) == 0 {
		return 0, s.bad, 0
	}
	lo, hi := s.last, s.last-min(tail, s.last)
	got := 0
	for k := range s.seqs {
		lo = min(lo, k)
		if k <= hi {
			got++
		}
	}
	if hi < lo {
		return got, s.bad, 0
	}
	return got, s.bad, int(hi-lo+1) - got
}

func (s *trackStats) latest() (count int, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count, s.lastAt
}

// mediaUser is a logged-in client that records every remote track it gets.
type mediaUser struct {
	*user
	mu     sync.Mutex
	tracks map[string]*trackStats // "userID/source"
	energy map[string]int         // last micEnergyUpdate level by member
}

func joinMedia(t testing.TB, n *node.Node, id string) *mediaUser {
	return joinMediaWith(t, n, id, nil)
}

// joinMediaWith is joinMedia with another OnTrack (nil: record every track).
func joinMediaWith(t testing.TB, n *node.Node, id string, onTrack func(*client.RemoteTrack)) *mediaUser {
	return joinMediaAt(t, "ws://"+n.Addr()+"/ws", id, client.Options{OnTrack: onTrack})
}

// joinMediaAt logs id in at url with opts (Handler is the test's; a nil
// OnTrack records every track).
func joinMediaAt(t testing.TB, url, id string, opts client.Options) *mediaUser {
	t.Helper()
	mu := &mediaUser{tracks: map[string]*trackStats{}, energy: map[string]int{}}
	u := &user{t: t, events: make(chan client.Event, 4096)}
	if opts.OnTrack == nil {
		opts.OnTrack = mu.record
	}
	opts.Handler = func(ev client.Event) {
		if e, ok := ev.Data.(*protocol.MicEnergy); ok {
			mu.mu.Lock()
			mu.energy[e.UserID] = e.NewLevel
			mu.mu.Unlock()
			return // too chatty for the tests' event order
		}
		select {
		case u.events <- ev:
		default:
		}
	}
	c, err := client.Dial(ctxTimeout(t, eventWait), url, opts)
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
	s := newTrackStats()
	m.mu.Lock()
	m.tracks[key] = s
	m.mu.Unlock()
	video := rt.Source != protocol.SourceMic
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
				if s.mu.Lock(); src == "camera" && !s.lowKey {
					t.Errorf("%s: %s did not start on a keyframe: %s", u.UserID(), key, s.firstPkt)
				}
				s.mu.Unlock()
			}
			if e := u.energyOf(other); e != 10 {
				t.Errorf("%s sees %s speaking at %d, want 10", u.UserID(), other, e)
			}
			if m, ok := u.Member(other); !ok || m.AudioStatus != protocol.AStatusOpen || m.VideoStatus != protocol.VStatusOpen {
				t.Errorf("%s's member info of %s: %+v", u.UserID(), other, m)
			}
		}
	}

	// Closing a camera stops its video everywhere.
	must(t, us[0].CloseVideo(ctx, "ann"))
	for _, u := range us[1:] {
		u.waitData(protocol.EventVideoStatusChanged, func(d any) bool {
			e := d.(*protocol.StatusChanged)
			return e.UserID == "ann" && e.NewStatus == protocol.VStatusClosed
		})
	}
	us[1].stopped(t, "ann/camera")
	us[2].stopped(t, "ann/camera")
	// The creator closes another member's mic; a member cannot.
	if err := us[1].CloseMic(ctx, "cat"); protocol.CodeOf(err) != protocol.APINoPermission {
		t.Fatalf("ben closing cat's mic: %v", err)
	}
	must(t, us[0].CloseMic(ctx, "cat"))
	us[1].stopped(t, "cat/mic")
	// Leaving removes the member's tracks.
	must(t, us[1].ExitMeeting(ctx))
	us[0].stopped(t, "ben/camera")
	us[0].stopped(t, "ben/mic")
	us[2].stopped(t, "ben/mic")
	// Coming back opens a new down connection, and media flows again.
	us[1].forget("cat/camera")
	_, err = us[1].EnterMeeting(ctx, meet.ID, "", "")
	must(t, err)
	must(t, us[1].SetVideo(ctx, "cat", protocol.VideoIDCamera, 0))
	us[1].waitPackets(t, "cat/camera", 30, 10*time.Second)
}

func (m *mediaUser) forget(key string) {
	m.mu.Lock()
	delete(m.tracks, key)
	m.mu.Unlock()
}

func TestLateJoinerGetsKeyframeFast(t *testing.T) {
	n := startMediaNode(t, node.FileConfig{})
	ctx := ctxTimeout(t, 30*time.Second)
	pub, late := joinMedia(t, n, "pub"), joinMedia(t, n, "late")
	cam := client.NewSyntheticVideo(500_000, 30, false)
	cam.KeyframeInterval = time.Minute // only a PLI brings a keyframe in time
	pub.SetCameraSource(cam)
	meet, err := pub.CreateMeeting(ctx, "late", 0)
	must(t, err)
	_, err = pub.EnterMeeting(ctx, meet.ID, "", "")
	must(t, err)
	must(t, pub.OpenVideo(ctx, "pub"))
	time.Sleep(1500 * time.Millisecond) // well past the first keyframe
	_, err = late.EnterMeeting(ctx, meet.ID, "", "")
	must(t, err)
	start := time.Now()
	must(t, late.SetVideo(ctx, "pub", protocol.VideoIDCamera, 0))
	s := late.waitPackets(t, "pub/camera", 1, 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		firstKey, key, first := s.firstKey, s.lowKey, s.firstPkt
		s.mu.Unlock()
		if !firstKey.IsZero() {
			if !key {
				t.Fatalf("the stream began with no keyframe: %s", first)
			}
			took := firstKey.Sub(start)
			t.Logf("keyframe %v after setVideo", took)
			if took > time.Second {
				t.Fatalf("keyframe after %v, want within 1s", took)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no keyframe start")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSlowSubscriberDoesNotAffectOthers(t *testing.T) {
	n := startMediaNode(t, node.FileConfig{})
	ctx := ctxTimeout(t, 30*time.Second)
	fast := joinMedia(t, n, "fast")
	slow := joinMediaWith(t, n, "slow", func(*client.RemoteTrack) {}) // never reads
	cameraMeeting(t, ctx, n, client.NewSyntheticVideo(1_000_000, 30, false), slow, fast)
	s := fast.waitPackets(t, "pub/camera", 400, 15*time.Second)
	if p, bad, missing := s.snapshot(); bad != 0 || missing != 0 {
		t.Fatalf("fast subscriber: %d packets, %d bad, %d missing", p, bad, missing)
	}
}

// stopped checks that track key receives nothing more (what was in flight aside).
func (m *mediaUser) stopped(t testing.TB, key string) {
	t.Helper()
	time.Sleep(200 * time.Millisecond)
	p0, _, _ := m.stats(key).snapshot()
	time.Sleep(500 * time.Millisecond)
	if p1, _, _ := m.stats(key).snapshot(); p1 != p0 {
		t.Errorf("%s: %s still flows (%d more packets)", m.UserID(), key, p1-p0)
	}
}

func (m *mediaUser) energyOf(id string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.energy[id]
}

// TestNackRepairsPublisherLoss loses 5 % of the publisher's packets on
// their way into the node: the node's NACKs get them resent, and the
// subscriber's stream is whole but for a fraction of a percent.
func TestNackRepairsPublisherLoss(t *testing.T) {
	lossy, err := newLossyConn(0.05)
	must(t, err)
	n := startMediaNodeOn(t, node.FileConfig{}, lossy)
	ctx := ctxTimeout(t, 30*time.Second)
	sub := joinMedia(t, n, "sub")
	cameraMeeting(t, ctx, n, client.NewSyntheticVideo(2_000_000, 30, false), sub)
	s := sub.waitPackets(t, "pub/camera", 1000, 20*time.Second)
	p, bad, missing := s.settled(60) // the newest repairs may still be on their way
	rate := float64(missing) / float64(p+missing)
	t.Logf("dropped %d packets on the way in; subscriber got %d, %d bad, %d missing (%.2f%%)", lossy.droppedPackets(), p, bad, missing, 100*rate)
	if lossy.droppedPackets() < 20 {
		t.Fatalf("the lossy link dropped only %d packets", lossy.droppedPackets())
	}
	if bad != 0 || rate >= 0.005 {
		t.Fatalf("delivered loss %.2f%% (%d missing of %d), %d bad payloads; want < 0.5%%", 100*rate, missing, p+missing, bad)
	}
}

// TestSimulcastFollowsTheLink narrows the node's link to a subscriber of a
// three-layer camera: the node moves it to a lower layer, and back to the
// top one when the link widens again, with one continuous sequence space.
func TestSimulcastFollowsTheLink(t *testing.T) {
	link, err := newThrottledConn()
	must(t, err)
	n := startMediaNodeOn(t, node.FileConfig{}, link)
	ctx := ctxTimeout(t, 60*time.Second)
	sub := joinMedia(t, n, "sub")
	// Layers: f 1.2 Mbps (5 packets a frame), h 600 kbps (3), q 300 kbps (2).
	cameraMeeting(t, ctx, n, client.NewSyntheticVideo(1_200_000, 30, true), sub)
	s := sub.waitPackets(t, "pub/camera", 100, 10*time.Second)
	layer := func(want func(int) bool, within time.Duration) int {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			count, _ := s.latest()
			if want(count) || time.Now().After(deadline) {
				return count
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if c := layer(func(c int) bool { return c == 5 }, 5*time.Second); c != 5 {
		t.Fatalf("unlimited link: receiving the %d-packet layer, want the top one (5)", c)
	}
	link.setRate(700_000)
	if c := layer(func(c int) bool { return c < 5 }, 10*time.Second); c >= 5 {
		t.Fatalf("700 kbps link: still receiving the top layer")
	}
	t.Logf("700 kbps link: moved to the %d-packet layer", s.count)
	link.setRate(0)
	if c := layer(func(c int) bool { return c == 5 }, 15*time.Second); c != 5 {
		t.Fatalf("link restored: receiving the %d-packet layer, want the top one (5)", c)
	}
	// One continuous stream: whatever the narrow link lost, the sequence
	// numbers never jumped across layer switches (the layers' own numbers
	// are hundreds apart by now), and after it widened nothing is missing.
	s.mu.Lock()
	jump := s.maxJump
	s.seqs, s.packets = map[uint32]struct{}{}, 0
	s.mu.Unlock()
	if jump > 64 {
		t.Fatalf("sequence numbers jumped by %d", jump)
	}
	sub.waitPackets(t, "pub/camera", 300, 10*time.Second)
	if p, bad, missing := s.settled(60); bad != 0 || missing != 0 {
		t.Fatalf("after the switches: %d packets, %d bad, %d missing", p, bad, missing)
	}
}

// cameraMeeting logs in "pub", which publishes cam in a new meeting that
// every subscriber enters and watches.
func cameraMeeting(t *testing.T, ctx context.Context, n *node.Node, cam *client.SyntheticVideo, subs ...*mediaUser) *mediaUser {
	t.Helper()
	pub := joinMedia(t, n, "pub")
	pub.SetCameraSource(cam)
	meet, err := pub.CreateMeeting(ctx, "camera", 0)
	must(t, err)
	for _, u := range append([]*mediaUser{pub}, subs...) {
		_, err := u.EnterMeeting(ctx, meet.ID, "", "")
		must(t, err)
	}
	must(t, pub.OpenVideo(ctx, "pub"))
	for _, u := range subs {
		must(t, u.SetVideo(ctx, "pub", protocol.VideoIDCamera, 0))
	}
	return pub
}
