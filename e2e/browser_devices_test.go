package e2e

import (
	"testing"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// The user switches camera and mic while they are open: the new devices
// are sent in place of the old (the watcher keeps receiving, with no new
// down offer), and a device that cannot be opened is reported while the
// open one stays. Chromium's fake devices give three cameras and mics; of
// the cameras, fake_device_1 delivers Y16 frames that no encoder takes,
// so the test switches to fake_device_2.
func TestBrowserSwitchDevices(t *testing.T) {
	br, gopher, tally, ctx := browserWithGopher(t, "devices", true, nil)
	br.run(`window.sent = (kind) => crvideo.peerConnections().up.getSenders().find((s) => s.track && s.track.kind === kind).track`)
	must(t, gopher.SetVideo(ctx, "web", protocol.VideoIDCamera, 0))
	waitTally(t, tally, "web/camera", 50, 15*time.Second)

	// Switch to the other camera and the other mic.
	br.run(`(async () => {
		const devs = await navigator.mediaDevices.enumerateDevices();
		const oldCam = sent("video"), oldMic = sent("audio");
		const cam = devs.find((d) => d.kind === "videoinput" && d.label === "fake_device_2");
		const mic = devs.find((d) => d.kind === "audioinput" && d.deviceId !== "default" && d.deviceId !== oldMic.getSettings().deviceId);
		if (cam && cam.deviceId === oldCam.getSettings().deviceId) throw new Error("already on " + cam.label);
		if (!cam || !mic) throw new Error("devices " + JSON.stringify(devs.map((d) => d.kind + ":" + d.label)));
		CRVideo_SetCamera(cam.deviceId);
		CRVideo_SetMic(mic.deviceId);
		await T.until(() => sent("video").getSettings().deviceId === cam.deviceId && sent("audio").getSettings().deviceId === mic.deviceId, 10000, "the new devices to be sent");
		if (oldCam.readyState !== "ended" || oldMic.readyState !== "ended") throw new Error("the old devices still capture");
		window.cam = cam.deviceId;
	})()`)
	waitMedia(t, tally, "web/camera", tally.mediaPackets("web/camera")+50)

	// A camera that does not exist: reported, and the open one stays.
	br.run(`(async () => {
		CRVideo_SetCamera("no-such-camera");
		const [code, source] = await T.wait("NotifyMediaError");
		if (code !== 8007 || source !== "camera") throw new Error("NotifyMediaError " + code + " " + source);
		const t = sent("video");
		if (t.readyState !== "live" || t.getSettings().deviceId !== cam) throw new Error("the open camera changed");
		if (CRVideo_GetVideoStatus("web") !== 3) throw new Error("video status " + CRVideo_GetVideoStatus("web"));
	})()`)
	waitMedia(t, tally, "web/camera", tally.mediaPackets("web/camera")+50)
}

// waitMedia waits until a track has brought n packets with media.
func waitMedia(t *testing.T, r *rtpTally, key string, n int) {
	t.Helper()
	waitCount(t, key+" packets with media", r.mediaPackets, key, n, 15*time.Second)
}
