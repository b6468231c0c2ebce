package e2e

import (
	"testing"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// A browser's camera goes up as simulcast layers, and the node gives a
// watcher the layer that fits the height it shows the video at: a small
// tile gets the quarter-size layer, a large one a full-size layer.
func TestBrowserSimulcast(t *testing.T) {
	br, gopher, tally, ctx := browserWithGopher(t, "simulcast", false, nil)
	// The SDK asks for three encodings, and the browser sends frames on
	// them. Chromium drops the top one while the machine's CPU is short
	// (qualityLimitationReason "cpu"), so two with frames is enough here;
	// the three must be configured.
	configured := js[[]string](br, `crvideo.peerConnections().up.getSenders().find((s) => s.track && s.track.kind === "video").getParameters().encodings.map((e) => e.rid).sort()`)
	if len(configured) != 3 || configured[0] != "f" || configured[1] != "h" || configured[2] != "q" {
		t.Fatalf("the camera's sender has encodings %v, want f, h and q", configured)
	}
	rids := js[[]string](br, `(async () => {
		const end = performance.now() + 20000;
		for (;;) {
			const stats = await crvideo.peerConnections().up.getStats();
			const rids = [];
			stats.forEach((s) => { if (s.type === "outbound-rtp" && s.kind === "video" && s.rid && s.framesEncoded > 0) rids.push(s.rid); });
			if (rids.length === 3 || performance.now() > end) return rids.sort();
			await T.sleep(200);
		}
	})()`)
	if len(rids) < 2 {
		t.Fatalf("browser sends frames on encodings %v, want at least two of f, h and q", rids)
	}
	if len(rids) < 3 {
		t.Logf("the browser sends frames on %v only (CPU-limited machine)", rids)
	}
	full := js[int](br, `crvideo.peerConnections().up.getSenders().find((s) => s.track && s.track.kind === "video").track.getSettings().height`)

	// A 120-line tile: the quarter-size layer.
	must(t, gopher.SetVideo(ctx, "web", protocol.VideoIDCamera, 120))
	small := waitKeyHeight(t, tally, "web/camera", func(h int) bool { return h > 0 && h <= full/4+1 })
	// A full-height view: a layer larger than that.
	must(t, gopher.SetVideo(ctx, "web", protocol.VideoIDCamera, 0))
	large := waitKeyHeight(t, tally, "web/camera", func(h int) bool { return h > full/4+1 })
	t.Logf("camera %d lines: a 120-line tile got %d, an unlimited view %d", full, small, large)
}

// waitKeyHeight waits for a keyframe of the track whose height ok accepts.
func waitKeyHeight(t *testing.T, r *rtpTally, key string, ok func(int) bool) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		h := r.lastHeight(key)
		if ok(h) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: last keyframe %d lines high", key, h)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
