package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/crvnode/crvnode/node"
)

// An app written against the vendor's current web SDK generation, using
// only its calls: CRVideo_Init().then, login, CreateMeeting2 and
// EnterMeeting3 (no subject, no password, the login's user and
// nickname), SetVideoCfg applied to the camera and its sender, the device
// queries, a nickname change, and a video object's savePicToBase64 giving
// a data URL of a real frame.
func TestBrowserGen2Meeting(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{})
	site := webFor(t, n)
	b := startBrowser(t)
	alice, bob := b.sdkPage("alice", site), b.sdkPage("bob", site)

	for _, p := range []*page{alice, bob} {
		p.run(`(async () => {
			const p = CRVideo_Init({ MSProtocol: 0 });
			if (!(p instanceof Promise) || !(p == CRVideo_NOERR) || CRVideo_Init() != CRVideo_NOERR) throw new Error("CRVideo_Init: " + p);
			const v = await p;
			if (v !== 0) throw new Error("CRVideo_Init resolved with " + v);
			if (CRVideo_GetSDKVersion() !== crvideo.version) throw new Error("CRVideo_GetSDKVersion " + CRVideo_GetSDKVersion());
			CRVideo_SetSDKParams({ MSProtocol: 2 });
			CRVideo_WriteLog("init done");
		})()`)
	}
	alice.login(site, "alice")
	bob.login(site, "bob")

	alice.run(`(async () => {
		CRVideo_CreateMeeting2("cm2");
		const [meet, cookie] = await T.wait("CreateMeetingSuccess");
		if (cookie !== "cm2" || !meet.ID || meet.pswd !== "" || meet.subject !== "Nick alice") throw new Error(JSON.stringify(meet) + " " + cookie);
		window.meet = meet;
		CRVideo_EnterMeeting3(meet.ID, "em3");
		const [code, k] = await T.wait("EnterMeetingRslt");
		if (code !== 0 || k !== "em3") throw new Error("EnterMeetingRslt " + code + " " + k);
		const me = CRVideo_GetMemberInfo("alice");
		if (!me || me.nickName !== "Nick alice") throw new Error(JSON.stringify(me));
	})()`)
	meetID := js[int](alice, `meet.ID`)
	bob.run(`(async () => {
		CRVideo_EnterMeeting3(%s, "b");
		const [code] = await T.wait("EnterMeetingRslt");
		if (code !== 0) throw new Error("EnterMeetingRslt " + code);
	})()`, meetID)
	alice.run(`T.wait("UserEnterMeeting", (u) => u === "bob").then((args) => {
		if (args.length !== 1 || args[0] !== "bob") throw new Error("UserEnterMeeting(" + args.join(", ") + ")");
	})`)

	// Devices and settings, synchronous as in the vendor SDK.
	alice.run(`(async () => {
		const cams = CRVideo_GetAllVideoInfo("alice");
		if (cams.length < 1 || cams[0].videoID !== 1 || cams[0].userID !== "alice") throw new Error("GetAllVideoInfo " + JSON.stringify(cams));
		if (CRVideo_GetDefaultVideo("alice") !== 1) throw new Error("GetDefaultVideo " + CRVideo_GetDefaultVideo("alice"));
		if (CRVideo_GetAudioMicNames().length < 1) throw new Error("GetAudioMicNames " + JSON.stringify(CRVideo_GetAudioMicNames()));
		if (!Array.isArray(CRVideo_GetAudioSpkNames())) throw new Error("GetAudioSpkNames");
		CRVideo_SetAudioCfg({ agc: 0 });
		const ac = CRVideo_GetAudioCfg();
		if (ac.agc !== 0 || ac.aec !== 1) throw new Error("GetAudioCfg " + JSON.stringify(ac));
		CRVideo_SetVideoCfg({ size: "640*360", fps: 15, maxbps: 400000 });
		const vc = CRVideo_GetVideoCfg();
		if (vc.size !== "640*360" || vc.width !== 640 || vc.height !== 360 || vc.fps !== 15 || vc.maxbps !== 400000) throw new Error("GetVideoCfg " + JSON.stringify(vc));
		CRVideo_OpenVideo("alice");
		CRVideo_OpenMic("alice");
		await T.wait("VideoStatusChanged", (u, o, s) => u === "alice" && s === 3);
		const sender = crvideo.peerConnections().up.getSenders().find((s) => s.track && s.track.kind === "video");
		const st = sender.track.getSettings();
		if (st.height !== 360 || st.width !== 640) throw new Error("camera " + st.width + "x" + st.height);
		const enc = sender.getParameters().encodings;
		const top = enc.reduce((a, e) => (e.maxBitrate || 0) > (a.maxBitrate || 0) ? e : a, enc[0]);
		if (top.maxBitrate !== 400000 || enc.some((e) => e.maxFramerate !== 15)) throw new Error("encodings " + JSON.stringify(enc));
		// A change while the camera is open: the sender follows, no renegotiation.
		CRVideo_SetVideoCfg({ maxbps: 800000 });
		await T.until(() => sender.getParameters().encodings.some((e) => e.maxBitrate === 800000), 5000, "maxbps applied");
		// A device that cannot be opened: OpenVideoFailed and OpenMicFailed
		// with NotifyMediaError; the open ones stay.
		await T.wait("AudioStatusChanged", (u, o, s) => u === "alice" && s === 3);
		CRVideo_SetCamera("no-such-camera");
		const [vc1, vd1, vid] = await T.wait("OpenVideoFailed");
		if (vc1 !== CRVIDEOSDK_MEDIA_OPEN_FAILED || typeof vd1 !== "string" || vid !== 1) throw new Error("OpenVideoFailed " + vc1 + " " + vd1 + " " + vid);
		await T.wait("NotifyMediaError", (c, src) => c === vc1 && src === "camera");
		CRVideo_SetMic("no-such-mic");
		const [mc] = await T.wait("OpenMicFailed");
		if (mc !== CRVIDEOSDK_MEDIA_OPEN_FAILED) throw new Error("OpenMicFailed " + mc);
		await T.wait("NotifyMediaError", (c, src) => c === mc && src === "mic");
		CRVideo_SetCamera("");
		CRVideo_SetMic("");
		if (sender.track.readyState !== "live" || CRVideo_GetVideoStatus("alice") !== 3) throw new Error("the open camera was lost");
	})()`)

	// bob watches alice's camera and takes a picture of it.
	pic := js[string](bob, `(async () => {
		await T.wait("VideoStatusChanged", (u, o, s) => u === "alice" && s === 3);
		const o = window.V = T.video("alice");
		await T.playing(o, 20000);
		const url = o.savePicToBase64("jpg");
		if (!url.startsWith("data:image/jpeg;base64,")) throw new Error("savePicToBase64: " + url.slice(0, 40));
		const png = o.savePicToBase64();
		if (!png.startsWith("data:image/png;base64,")) throw new Error("savePicToBase64(): " + png.slice(0, 40));
		// The picture is the frame shown: its size, and not one flat colour.
		const v = o.handler().querySelector("video");
		const img = new Image();
		img.src = url;
		await img.decode();
		if (img.naturalWidth !== v.videoWidth || img.naturalHeight !== v.videoHeight) throw new Error("picture " + img.naturalWidth + "x" + img.naturalHeight + ", video " + v.videoWidth + "x" + v.videoHeight);
		const c = document.createElement("canvas");
		c.width = img.naturalWidth;
		c.height = img.naturalHeight;
		const g = c.getContext("2d");
		g.drawImage(img, 0, 0);
		const d = g.getImageData(0, 0, c.width, c.height).data;
		let lo = 255, hi = 0;
		for (let i = 0; i < d.length; i += 4 * 97) { lo = Math.min(lo, d[i + 1]); hi = Math.max(hi, d[i + 1]); }
		if (hi - lo < 30) throw new Error("a flat picture: green " + lo + "-" + hi);
		o.destroy();
		if (o.handler().parentNode || o.savePicToBase64() !== "") throw new Error("destroy");
		const empty = CRVideo_CreatVideoObj();
		if (empty.savePicToBase64() !== "") throw new Error("a picture of nothing");
		return url;
	})()`)
	if len(pic) < 800 { // the smallest layer (160x90) gives some 1900
		t.Errorf("the picture is only %d characters", len(pic))
	}

	// Nicknames: the change reaches the user and the meeting.
	bob.run(`(async () => {
		CRVideo_SetNickName("bob", "Robert");
		const [u, o, nw] = await T.wait("NotifyNickNameChanged");
		if (u !== "bob" || o !== "Nick bob" || nw !== "Robert" || CRVideo_GetMemberNickName("bob") !== "Robert") throw new Error("NotifyNickNameChanged " + u + " " + o + " " + nw);
	})()`)
	alice.run(`T.wait("NotifyNickNameChanged", (u, o, nw) => u === "bob" && nw === "Robert").then(() => {
		if (CRVideo_GetMemberNickName("bob") !== "Robert") throw new Error(CRVideo_GetMemberNickName("bob"));
	})`)

	// A screen share object shows a sharer's screen.
	alice.run(`(() => {
		const o = CRVideo_CreatScreenShareObj({ poster: "" });
		o.id("share");
		document.body.appendChild(o.handler());
		o.setVideo("bob");
		if (o.getVideoID() !== 2 || o.getUserID() !== "bob" || o.id() !== "share") throw new Error("screen share object " + o.getVideoID());
		o.destroy();
	})()`)

	// The session ends; the token functions answer 12 after logout.
	alice.run(`(async () => {
		CRVideo_Logout();
		CRVideo_UpdateToken("x", "ut");
		const [code, k] = await T.wait("UpdateTokenRslt");
		if (code !== 12 || k !== "ut") throw new Error("UpdateTokenRslt " + code);
	})()`)
}

// An app calling a name crvnode does not implement gets the failure in
// its callback, and one console warning per name, never an exception;
// and CRVideo_Init rejects with 8004 where the browser lacks WebRTC.
func TestBrowserGen2NotImplemented(t *testing.T) {
	needChromium(t)
	n := startNode(t, "", node.FileConfig{})
	site := webFor(t, n)
	b := startBrowser(t)
	p := b.sdkPage("web", site)

	warns := js[[]string](p, `(async () => {
		const warns = [];
		const w = console.warn;
		console.warn = (...a) => { warns.push(a.join(" ")); w.apply(console, a); };
		try {
			const id = CRVideo_CreateCloudMixer({ mode: 0 });
			const id2 = CRVideo_CreateCloudMixer({ mode: 0 });
			if (typeof id !== "string" || !id || id === id2) throw new Error("mixerID " + id);
			const [fid, code] = await T.wait("CreateCloudMixerFailed", (m) => m === id);
			if (fid !== id || code !== CRVIDEOSDK_NOT_IMPLEMENTED || code !== 8100) throw new Error("CreateCloudMixerFailed " + fid + " " + code);
			await T.wait("CreateCloudMixerFailed", (m) => m === id2);
			if (CRVideo_UpdateCloudMixerContent(id, {}) !== 8100 || CRVideo_DestroyCloudMixer(id) !== 8100) throw new Error("return codes");
			if (CRVideo_GetAllCloudMixerInfo().length !== 0 || CRVideo_GetCloudMixerInfo(id) !== null) throw new Error("queries");
			CRVideo_GetAllCloudMixerInfo();
		} finally {
			console.warn = w;
		}
		return warns;
	})()`)
	want := []string{"CRVideo_CreateCloudMixer", "CRVideo_UpdateCloudMixerContent", "CRVideo_DestroyCloudMixer", "CRVideo_GetAllCloudMixerInfo", "CRVideo_GetCloudMixerInfo"}
	if len(warns) != len(want) {
		t.Fatalf("console warnings %q, want one for each of %v", warns, want)
	}
	for i, name := range want {
		if !strings.Contains(warns[i], name+" is not implemented") {
			t.Errorf("warning %d is %q, want one naming %s", i, warns[i], name)
		}
	}

	p.run(`(async () => {
		const R = window.RTCPeerConnection;
		window.RTCPeerConnection = undefined;
		let p;
		try {
			p = CRVideo_Init();
		} finally {
			window.RTCPeerConnection = R;
		}
		if (!(p == CRVideo_NOERR)) throw new Error("valueOf " + p.valueOf());
		const err = await p.then(() => null, (e) => e);
		if (!err || err.code !== 8004 || err != 8004) throw new Error("CRVideo_Init without WebRTC: " + err);
		if (await CRVideo_Init() !== 0) throw new Error("CRVideo_Init again");
	})()`)
}

// gen2Token is a login JWT of the app acme for userID, expiring at exp.
func gen2Token(t *testing.T, userID string, exp time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"appID": "acme", "sub": userID, "exp": exp.Unix(),
	}).SignedString([]byte("acme-secret"))
	must(t, err)
	return tok
}

// A session logged in with a token that expires within the node's
// tokenWarning hears CRVideo_NotifyTokenWillExpire, and renews it with
// CRVideo_UpdateToken; a token of another user is refused.
func TestBrowserGen2Token(t *testing.T) {
	needChromium(t)
	n := startNode(t, "", node.FileConfig{})
	site := webFor(t, n)
	b := startBrowser(t)
	p := b.sdkPage("web", site)
	soon := gen2Token(t, "tok", time.Now().Add(30*time.Second)) // inside the default minute of warning
	later := gen2Token(t, "tok", time.Now().Add(2*time.Hour))
	other := gen2Token(t, "someone-else", time.Now().Add(2*time.Hour))
	p.run(`(async () => {
		await CRVideo_Init();
		CRVideo_SetServerAddr(%s);
		CRVideo_LoginByToken(%s, "Token user", "tok", "", "lt");
		const [id, k] = await T.wait("LoginSuccess");
		if (id !== "tok" || k !== "lt") throw new Error("LoginSuccess " + id);
		const args = await T.wait("NotifyTokenWillExpire");
		if (args.length !== 0) throw new Error("NotifyTokenWillExpire(" + args.join(", ") + ")");
		CRVideo_UpdateToken(%s, "u1");
		const [c1, k1] = await T.wait("UpdateTokenRslt");
		if (c1 !== 0 || k1 !== "u1") throw new Error("UpdateTokenRslt " + c1 + " " + k1);
		CRVideo_UpdateToken(%s, "u2");
		const [c2, k2] = await T.wait("UpdateTokenRslt");
		if (c2 === 0 || k2 !== "u2") throw new Error("UpdateTokenRslt for another user's token: " + c2);
	})()`, site.server, soon, later, other)
}
