package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
)

// rtpTally counts what a Go client receives of each remote track.
type rtpTally struct {
	mu        sync.Mutex
	packets   map[string]int
	codecs    map[string]string
	keyframes map[string]int
	heights   map[string]int // the height of the last VP8 keyframe
	media     map[string]int // packets with a payload (not padding alone)
}

func newRTPTally() *rtpTally {
	return &rtpTally{packets: map[string]int{}, codecs: map[string]string{}, keyframes: map[string]int{}, heights: map[string]int{}, media: map[string]int{}}
}

func (r *rtpTally) onTrack(rt *client.RemoteTrack) {
	key := rt.UserID + "/" + rt.Source
	mime := strings.ToLower(rt.Track.Codec().MimeType)
	r.mu.Lock()
	r.codecs[key] = mime
	r.mu.Unlock()
	for {
		pkt, _, err := rt.Track.ReadRTP()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.packets[key]++
		if len(pkt.Payload) > 0 {
			r.media[key]++
		}
		if mime == "video/vp8" && vp8KeyframeStart(pkt.Payload) {
			r.keyframes[key]++
			if _, h, ok := vp8KeyframeSize(pkt.Payload); ok {
				r.heights[key] = h
			}
		}
		r.mu.Unlock()
	}
}

func (r *rtpTally) get(key string) (packets, keyframes int, codec string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.packets[key], r.keyframes[key], r.codecs[key]
}

// mediaPackets counts a track's packets that carry media (a sender's
// bandwidth probes are padding alone).
func (r *rtpTally) mediaPackets(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.media[key]
}

// lastHeight is the height of the last VP8 keyframe of a track, 0 before one.
func (r *rtpTally) lastHeight(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.heights[key]
}

// vp8KeyframeSize reads the frame size of a VP8 keyframe's first packet
// (RFC 6386 9.1: after the 3-byte frame tag, the start code 9d 01 2a, then
// 14-bit width and height).
func vp8KeyframeSize(p []byte) (w, h int, ok bool) {
	i := vp8DescriptorLen(p)
	if i < 0 || len(p) < i+10 || p[i+3] != 0x9d || p[i+4] != 0x01 || p[i+5] != 0x2a {
		return 0, 0, false
	}
	w = int(p[i+6]) | int(p[i+7]&0x3f)<<8
	h = int(p[i+8]) | int(p[i+9]&0x3f)<<8
	return w, h, true
}

// vp8DescriptorLen is the length of a VP8 payload descriptor (RFC 7741),
// or -1 if the packet is too short for it.
func vp8DescriptorLen(p []byte) int {
	if len(p) < 1 {
		return -1
	}
	i := 1
	if p[0]&0x80 != 0 {
		if len(p) < 2 {
			return -1
		}
		x := p[1]
		i = 2
		if x&0x80 != 0 {
			if len(p) > i && p[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 {
			i++
		}
		if x&0x30 != 0 {
			i++
		}
	}
	if len(p) < i {
		return -1
	}
	return i
}

// vp8KeyframeStart reports whether a VP8 RTP payload starts a keyframe
// (RFC 7741: S=1, PID=0, and the P bit of the payload header clear).
func vp8KeyframeStart(p []byte) bool {
	if len(p) < 1 || p[0]&0x10 == 0 || p[0]&0x07 != 0 {
		return false
	}
	i := vp8DescriptorLen(p)
	return i >= 0 && len(p) > i && p[i]&0x01 == 0
}

// browserWithGopher puts a browser page ("web") and a Go client
// ("gopher", its tracks counted in the tally) in a meeting the Go client
// creates, then opens the browser's camera, and its mic too if mic, and
// has the Go client watch the camera once it sees it open. setup runs on
// the Go client before it enters.
func browserWithGopher(t *testing.T, subject string, mic bool, setup func(*mediaUser)) (br *page, gopher *mediaUser, tally *rtpTally, ctx context.Context) {
	t.Helper()
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{})
	site := webFor(t, n)
	br = startBrowser(t).sdkPage("web", site)
	br.login(site, "web")

	tally = newRTPTally()
	gopher = joinMediaWith(t, n, "gopher", tally.onTrack)
	if setup != nil {
		setup(gopher)
	}
	ctx = ctxTimeout(t, browserTimeout)
	meet, err := gopher.CreateMeeting(ctx, subject, 0)
	must(t, err)
	_, err = gopher.EnterMeeting(ctx, meet.ID, "", "")
	must(t, err)

	br.run(`(async (mic) => {
		CRVideo_EnterMeeting(%s, "", "web", "Web", "");
		const [code] = await T.wait("EnterMeetingRslt");
		if (code !== 0) throw new Error("EnterMeetingRslt " + code);
		if (mic) CRVideo_OpenMic("web");
		CRVideo_OpenVideo("web");
		await T.wait("VideoStatusChanged", (u, o, n) => u === "web" && n === 3);
		if (mic) await T.wait("AudioStatusChanged", (u, o, n) => u === "web" && n === 3);
	})(%s)`, meet.ID, mic)
	gopher.waitData(protocol.EventVideoStatusChanged, func(d any) bool {
		e := d.(*protocol.StatusChanged)
		return e.UserID == "web" && e.NewStatus == protocol.VStatusOpen
	})
	return br, gopher, tally, ctx
}

// A browser and a Go client (synthetic camera and mic) in one meeting:
// the Go client receives the browser's real VP8 video and Opus audio, the
// browser receives the Go client's tracks, and both see each other's
// statuses, speaking levels and messages.
func TestBrowserGoClientInterop(t *testing.T) {
	br, gopher, tally, ctx := browserWithGopher(t, "interop", true, func(g *mediaUser) {
		g.SetMicSource(client.NewSyntheticAudio())
		g.SetCameraSource(client.NewSyntheticVideo(300_000, 30, false))
	})

	// The browser's camera and mic at the Go client.
	must(t, gopher.SetVideo(ctx, "web", protocol.VideoIDCamera, 0))
	waitTally(t, tally, "web/camera", 100, 15*time.Second)
	waitTally(t, tally, "web/mic", 50, 15*time.Second)
	p, keys, codec := tally.get("web/camera")
	if codec != "video/vp8" && codec != "video/h264" && codec != "video/vp9" && codec != "video/av1" {
		t.Fatalf("browser camera arrives as %q", codec)
	}
	if codec == "video/vp8" && keys == 0 {
		t.Fatalf("%d VP8 packets from the browser and no keyframe", p)
	}
	if _, _, c := tally.get("web/mic"); c != "audio/opus" {
		t.Fatalf("browser mic arrives as %q", c)
	}
	t.Logf("Go client got %d %s packets (%d keyframes) of the browser's camera", p, codec, keys)

	// The Go client's camera and mic at the browser: RTP arrives (the
	// synthetic payload is not decodable video, so no frame is expected).
	must(t, gopher.OpenMic(ctx, "gopher"))
	must(t, gopher.OpenVideo(ctx, "gopher"))
	br.run(`(async () => {
		await T.wait("VideoStatusChanged", (u, o, n) => u === "gopher" && n === 3);
		const w = CRVideo_GetWatchableVideos();
		if (w.length !== 1 || w[0].userID !== "gopher" || w[0].videoID !== 1) throw new Error("watchable " + JSON.stringify(w));
		window.V = T.video("gopher", 1);
		await T.until(() => crvideo.remoteTrack("gopher", "camera") && crvideo.remoteTrack("gopher", "mic"), 10000, "gopher's tracks");
		const inbound = async (kind) => {
			const stats = await crvideo.peerConnections().down.getStats();
			let n = 0;
			stats.forEach((s) => { if (s.type === "inbound-rtp" && s.kind === kind) n += s.packetsReceived; });
			return n;
		};
		const end = performance.now() + 15000;
		while ((await inbound("video")) < 100 || (await inbound("audio")) < 50) {
			if (performance.now() > end) throw new Error("inbound RTP: video " + (await inbound("video")) + ", audio " + (await inbound("audio")));
			await T.sleep(100);
		}
		// The synthetic mic speaks loudly (0 dBov): level 10.
		await T.wait("MicEnergyUpdate", (u, o, n) => u === "gopher" && n === 10);
	})()`)

	// Meeting messages both ways.
	br.run(`CRVideo_SendMeetingCustomMsg("from the browser", "m1")`)
	gopher.waitData(protocol.EventNotifyMeetingCustomMsg, func(d any) bool {
		e := d.(*protocol.NotifyMeetingCustomMsg)
		return e.UserID == "web" && e.Msg == "from the browser"
	})
	must(t, gopher.SendMeetingCustomMsg(ctx, "from Go"))
	br.run(`T.wait("NotifyMeetingCustomMsg", (u, m) => u === "gopher" && m === "from Go")`)

	// The Go client leaves: the browser stops receiving it.
	must(t, gopher.ExitMeeting(ctx))
	br.run(`(async () => {
		await T.wait("UserLeftMeeting", (u) => u === "gopher");
		await T.until(() => !crvideo.remoteTrack("gopher", "camera") && !crvideo.remoteTrack("gopher", "mic"), 10000, "gopher's tracks to end");
		if (CRVideo_GetAllMembers().length !== 1) throw new Error("members " + JSON.stringify(CRVideo_GetAllMembers()));
	})()`)
}

func waitTally(t *testing.T, r *rtpTally, key string, n int, within time.Duration) {
	t.Helper()
	waitCount(t, key+" packets", func(k string) int { p, _, _ := r.get(k); return p }, key, n, within)
}

// waitCount polls count(key) until it reaches n, for at most within.
func waitCount(t *testing.T, what string, count func(string) int, key string, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := count(key)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d, want %d within %v", what, got, n, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
