package e2e

import (
	"testing"

	"github.com/crvnode/crvnode/node"
)

type playing struct {
	Width, Height int
	T0, T1        float64
}

// checkPlaying waits until the page's video object V shows moving video.
func checkPlaying(p *page, what string) playing {
	p.t.Helper()
	v := js[playing](p, `T.playing(V, 20000)`)
	if v.Width <= 0 || v.T1 <= v.T0 {
		p.t.Fatalf("%s: %s does not play: %+v", p.name, what, v)
	}
	return v
}

// Two browsers log in, see each other online, call, enter the meeting,
// open mic and camera and watch each other; then one camera closes.
func TestBrowserCallAndVideo(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{})
	site := webFor(t, n)
	b := startBrowser(t)
	alice, bob := b.sdkPage("alice", site), b.sdkPage("bob", site)

	// Presence: alice watches, bob logs in; bob asks for the list.
	alice.login(site, "alice")
	alice.run(`(() => {
		CRVideo_StartUserStatusNotify("watch");
		return T.wait("StartUserStatusNotifyRslt").then(([code, cookie]) => {
			if (code !== 0 || cookie !== "watch") throw new Error("StartUserStatusNotifyRslt " + code + " " + cookie);
		});
	})()`)
	bob.login(site, "bob")
	alice.run(`T.wait("NotifyUserStatus", (s, cookie) => s.userID === "bob" && s.userStatus === 1 && cookie === "watch")`)
	bob.run(`(() => {
		CRVideo_GetUserStatus("gs");
		return T.wait("GetUserStatusSuccess").then(([list, cookie]) => {
			const a = list.find((u) => u.userID === "alice");
			if (!a || a.userStatus !== 1 || cookie !== "gs") throw new Error("status list " + JSON.stringify(list));
		});
	})()`)

	// The vendor's call flow: create a meeting, call with it, accept, enter.
	alice.run(`(async () => {
		CRVideo_CreateMeeting("Call", 1, "cm");
		const [meet, cookie] = await T.wait("CreateMeetingSuccess");
		if (!meet.ID || !meet.pswd || cookie !== "cm") throw new Error(JSON.stringify(meet));
		window.meet = meet;
		window.callID = CRVideo_Call("bob", meet, "hello", "cc");
		const [id, c] = await T.wait("CallSuccess");
		if (id !== callID || c !== "cc") throw new Error("CallSuccess " + id);
	})()`)
	callID := js[string](alice, `callID`)
	bob.run(`(async () => {
		const [id, meet, caller, ext] = await T.wait("NotifyCallIn");
		if (id !== %s || caller !== "alice" || ext !== "hello" || !meet.ID) throw new Error("NotifyCallIn " + id + " " + caller);
		window.meet = meet;
		CRVideo_AcceptCall(id, meet, "ok", "ac");
		const [aid, cookie] = await T.wait("AcceptCallSuccess");
		if (aid !== id || cookie !== "ac") throw new Error("AcceptCallSuccess");
	})()`, callID)
	alice.run(`T.wait("NotifyCallAccepted", (id, meet, ext) => id === callID && ext === "ok")`)

	enter := `(async () => {
		CRVideo_EnterMeeting(meet.ID, meet.pswd, %s, "", "em");
		const [code, cookie] = await T.wait("EnterMeetingRslt");
		if (code !== 0 || cookie !== "em") throw new Error("EnterMeetingRslt " + code);
	})()`
	alice.run(enter, "alice")
	bob.run(enter, "bob")
	alice.run(`T.wait("UserEnterMeeting", (id) => id === "bob")`)
	for _, p := range []*page{alice, bob} {
		members := js[[]string](p, `CRVideo_GetAllMembers().map((m) => m.userID + ":" + m.nickName)`)
		if len(members) != 2 || members[0] != "alice:Nick alice" || members[1] != "bob:Nick bob" {
			t.Fatalf("%s: members %v", p.name, members)
		}
	}

	// Mic and camera.
	for _, p := range []*page{alice, bob} {
		p.run(`(async () => {
			CRVideo_OpenMic(%s);
			CRVideo_OpenVideo(%s);
			await T.wait("AudioStatusChanged", (u, o, n) => u === %[1]s && n === 3);
			await T.wait("VideoStatusChanged", (u, o, n) => u === %[1]s && n === 3);
		})()`, p.name, p.name)
	}
	watch := map[*page]string{alice: "bob", bob: "alice"}
	for p, other := range watch {
		p.run(`T.wait("VideoStatusChanged", (u, o, n) => u === %s && n === 3)`, other)
		if got := js[[]map[string]any](p, `CRVideo_GetWatchableVideos()`); len(got) != 1 || got[0]["userID"] != other {
			t.Fatalf("%s: watchable %v", p.name, got)
		}
		p.run(`window.V = T.video(%s, 1)`, other)
	}
	for p, other := range watch {
		v := checkPlaying(p, other+"'s camera")
		t.Logf("%s sees %s's camera at %dx%d", p.name, other, v.Width, v.Height)
	}
	// The speaking level of the other member comes through (the fake mic beeps).
	bob.run(`T.wait("MicEnergyUpdate", (u, o, n) => u === "alice" && n > 0)`)

	// Alice shares her screen; bob watches it beside her camera.
	alice.run(`(() => {
		CRVideo_StartScreenShare();
		return T.wait("StartScreenShareRslt").then(([code]) => { if (code !== 0) throw new Error("StartScreenShareRslt " + code); });
	})()`)
	bob.run(`(async () => {
		await T.wait("NotifyScreenShareStarted", (u) => u === "alice");
		const w = CRVideo_GetWatchableVideos().map((v) => v.userID + "/" + v.videoID).sort().join(",");
		if (w !== "alice/1,alice/2") throw new Error("watchable " + w);
		window.S = T.video("alice", 2);
	})()`)
	if v := js[playing](bob, `T.playing(S, 20000)`); v.Width <= 0 || v.T1 <= v.T0 {
		t.Fatalf("bob: alice's screen does not play: %+v", v)
	}
	alice.run(`(() => {
		CRVideo_StopScreenShare();
		return T.wait("StopScreenShareRslt").then(([code]) => { if (code !== 0) throw new Error("StopScreenShareRslt " + code); });
	})()`)
	bob.run(`(async () => {
		await T.wait("NotifyScreenShareStopped", (u) => u === "alice");
		await T.until(() => S.handler().querySelector("video").srcObject === null, 10000, "alice's screen to stop");
		S.clear();
	})()`)

	// Closing alice's camera stops it at bob's.
	alice.run(`CRVideo_CloseVideo("alice")`)
	bob.run(`(async () => {
		await T.wait("VideoStatusChanged", (u, o, n) => u === "alice" && o === 3 && n === 2);
		await T.until(() => V.handler().querySelector("video").srcObject === null && crvideo.remoteTrack("alice", "camera") === null, 10000, "alice's camera to stop");
		if (CRVideo_GetVideoStatus("alice") !== 2 || CRVideo_GetWatchableVideos().length !== 0) throw new Error("alice's camera still listed");
	})()`)
	// ... and not alice's mic: bob still receives it.
	if !js[bool](bob, `crvideo.remoteTrack("alice", "mic") !== null`) {
		t.Fatal("bob lost alice's mic with her camera")
	}

	// Hang up and leave.
	alice.run(`(() => {
		CRVideo_HungupCall(callID, "bye", "hc");
		return T.wait("HangupCallSuccess", (id, c) => id === callID && c === "hc");
	})()`)
	bob.run(`T.wait("NotifyCallHungup", (id, ext) => ext === "bye")`)
	alice.run(`CRVideo_ExitMeeting()`)
	bob.run(`T.wait("UserLeftMeeting", (id) => id === "alice").then(() => {
		if (CRVideo_IsUserInMeeting("alice") || !CRVideo_IsUserInMeeting("bob")) throw new Error("member list");
	})`)
}
