package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/internal/loadgen"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
	"github.com/crvnode/crvnode/signaling"
)

// TestCrowdJoinEverySubscriberGetsMedia joins 50 subscribers to a
// publisher's meeting, 8 at a time, as a room fills at the start of a
// class: every one must receive a keyframe of the camera and the
// publisher's audio. The camera sends keyframes only when asked, as
// browsers do, so a subscriber whose down connection or keyframe request
// goes astray gets nothing and fails the test, with the state of its
// down connection.
func TestCrowdJoinEverySubscriberGetsMedia(t *testing.T) {
	const subscribers, batch = 50, 8
	n := startMediaNode(t, node.FileConfig{Limits: signaling.Limits{MaxMembers: subscribers + 1, Rate: 1000, Burst: 1000}})
	ctx := ctxTimeout(t, 3*time.Minute)
	url := "ws://" + n.Addr() + "/ws"
	dial := func(id string, onTrack func(*client.RemoteTrack)) *client.Client {
		c, err := client.Dial(ctx, url, client.Options{OnTrack: onTrack, SettingEngine: loadgen.LoopbackSettings(), SignalingOnly: onTrack != nil})
		must(t, err)
		t.Cleanup(func() { _ = c.Close() })
		_, err = c.Login(ctx, protocol.LoginParams{AppID: "acme", AppSecret: md5hex("acme-secret"), UserID: id, NickName: id})
		must(t, err)
		return c
	}

	pub := dial("pub", nil)
	meet, err := pub.CreateMeeting(ctx, "crowd", 0)
	must(t, err)
	_, err = pub.EnterMeeting(ctx, meet.ID, meet.Pswd, "")
	must(t, err)
	cam := client.NewSyntheticVideo(300_000, 15, false)
	cam.KeyframeInterval = time.Hour // keyframes only on request
	pub.SetCameraSource(cam)
	pub.SetMicSource(client.NewSyntheticAudio())
	must(t, pub.OpenMic(ctx, "pub"))
	must(t, pub.OpenVideo(ctx, "pub"))

	recvs := make([]*loadgen.Receiver, subscribers)
	subs := make([]*client.Client, subscribers)
	sem := make(chan struct{}, batch)
	var wg sync.WaitGroup
	errs := make(chan error, subscribers)
	for i := range subs {
		recvs[i] = loadgen.NewReceiver()
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := client.Dial(ctx, url, client.Options{OnTrack: func(rt *client.RemoteTrack) { recvs[i].Consume(rt.Track) },
				SettingEngine: loadgen.LoopbackSettings(), SignalingOnly: true})
			if err != nil {
				errs <- err
				return
			}
			subs[i] = c
			id := fmt.Sprintf("sub%02d", i)
			if _, err := c.Login(ctx, protocol.LoginParams{AppID: "acme", AppSecret: md5hex("acme-secret"), UserID: id, NickName: id}); err != nil {
				errs <- fmt.Errorf("%s: login: %w", id, err)
				return
			}
			if _, err := c.EnterMeeting(ctx, meet.ID, meet.Pswd, ""); err != nil {
				errs <- fmt.Errorf("%s: enter: %w", id, err)
				return
			}
			if err := c.SetVideo(ctx, "pub", protocol.VideoIDCamera, 0); err != nil {
				errs <- fmt.Errorf("%s: setVideo: %w", id, err)
			}
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range subs {
			if c != nil {
				_ = c.Close()
			}
		}
	})
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Generous for the race detector on two cores; a healthy run takes
	// well under a second per batch.
	deadline := time.Now().Add(30 * time.Second)
	var missing []string
	for i, r := range recvs {
		wait := time.NewTimer(max(time.Until(deadline), 0))
		select {
		case <-r.FirstKeyframe():
			wait.Stop()
			continue
		case <-wait.C:
		}
		_, down := subs[i].Connections()
		c := r.Counts()
		missing = append(missing, fmt.Sprintf("sub%02d: %s; received %d tracks, %d video packets", i, loadgen.StateOf(down), c.Tracks, c.VideoPackets))
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d subscribers had no keyframe:\n%s", len(missing), subscribers, strings.Join(missing, "\n"))
	}
	// And the audio: every subscriber has two tracks with packets.
	waitUntil := time.Now().Add(10 * time.Second)
	for i, r := range recvs {
		for r.Counts().Tracks < 2 && time.Now().Before(waitUntil) {
			time.Sleep(20 * time.Millisecond)
		}
		if c := r.Counts(); c.Tracks < 2 || c.Packets == c.VideoPackets {
			t.Errorf("sub%02d: %d tracks, %d packets of which %d video: no audio", i, c.Tracks, c.Packets, c.VideoPackets)
		}
	}
}
