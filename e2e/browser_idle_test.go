package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crvnode/crvnode/node"
)

// pcCounter, run before the SDK loads, keeps every RTCPeerConnection the
// page makes in window.PCS, and those that opened a data channel (the SDK's
// up connections) in window.UPS. window.BREAK makes the offers of up
// connections made meanwhile never settle ("hang") or fail ("fail").
const pcCounter = `(() => {
  const Orig = window.RTCPeerConnection;
  window.PCS = [];
  window.UPS = [];
  window.BREAK = "";
  window.RTCPeerConnection = class extends Orig {
    constructor(cfg) { super(cfg); PCS.push(this); this.broken = BREAK; }
    createDataChannel(label, opts) { UPS.push(this); return super.createDataChannel(label, opts); }
    createOffer(opts) {
      if (this.broken === "hang") return new Promise(() => {});
      if (this.broken === "fail") return Promise.reject(new Error("offer broken by the test"));
      return super.createOffer(opts);
    }
  };
  return true;
})()`

// idleHelpers are page functions of the up connection tests, on top of
// transferHelpers.
const idleHelpers = `(() => {
  // T.upState: whether the page has an up connection now, and how many it made.
  T.upState = () => {
    const up = crvideo.peerConnections().up;
    return { open: !!up, made: UPS.length, pcs: PCS.length, live: UPS.filter((pc) => pc.connectionState !== "closed").length };
  };
  T.upClosed = (ms) => T.until(() => crvideo.peerConnections().up === null && UPS.every((pc) => pc.connectionState === "closed"), ms || 15000, "the up connection to close");
  return true;
})()`

// upState is T.upState().
type upState struct {
	Open bool
	Made int
	PCs  int
	Live int
}

// countingPage opens a tab of the web origin that counts its
// RTCPeerConnections, then loads the SDK and the harness.
func (b *browser) countingPage(name string, w webSite) *page {
	p := b.page(name)
	p.do(chromedp.Navigate(w.base + "/sdk/crvideo.js"))
	p.run(pcCounter)
	p.run(sdkHarness)
	p.run(transferHelpers)
	p.run(idleHelpers)
	return p
}

func (p *page) upState() upState {
	p.t.Helper()
	return js[upState](p, `T.upState()`)
}

// nodeUpPeers is the node's count of open up PeerConnections.
func nodeUpPeers(n *node.Node) float64 {
	v, _ := scrape(n, `crvnode_sfu_peer_connections{direction="up"}`)
	return v // not listed: none was ever opened
}

// waitNodeUpPeers waits until the node has want up PeerConnections.
func waitNodeUpPeers(t *testing.T, n *node.Node, want float64, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := nodeUpPeers(n)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the node has %v up PeerConnections, want %v", what, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A logged-in user in no meeting has no up connection, on the page or on
// the node. Data sent to such a user opens it (the node asks with
// upNeeded), the sender's opens on its own send, several sends share one
// opening, and after upIdleTimeout without a transfer both close; the
// next transfer opens new ones.
func TestBrowserUpOnDemand(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{})
	site := webFor(t, n)
	b := startBrowser(t)
	alice, bob := b.countingPage("alice", site), b.countingPage("bob", site)
	// Both ways of setting the SDK parameter: CRVideo_Init's SDKParams and
	// CRVideo_SetSDKParams (as JSON text, as older apps pass objects).
	if v := js[int](alice, `CRVideo_Init({ upIdleTimeout: 1500 })`); v != 0 {
		t.Fatalf("CRVideo_Init: %d", v)
	}
	bob.run(`CRVideo_SetSDKParams('{"upIdleTimeout": 1500}')`)
	alice.login(site, "alice")
	bob.login(site, "bob")

	// Idle after login: no PeerConnection at all, none on the node.
	time.Sleep(time.Second)
	for _, p := range []*page{alice, bob} {
		if s := p.upState(); s.Open || s.PCs != 0 {
			t.Fatalf("%s after login: %+v, want no PeerConnection", p.name, s)
		}
	}
	if v := nodeUpPeers(n); v != 0 {
		t.Fatalf("the node has %v up PeerConnections after two logins, want 0", v)
	}

	// A command from bob (cold) to alice (cold).
	bob.run(`(async () => {
		const id = CRVideo_SendCmd("alice", "hello alice", "c1");
		const [, code, cookie] = await T.wait("SendCmdRlst", (tid) => tid === id, 30000);
		if (code !== 0 || cookie !== "c1") throw new Error("SendCmdRlst " + code);
	})()`)
	alice.run(`T.wait("NotifyCmdData", (from, data) => from === "bob" && data === "hello alice")`)
	for _, p := range []*page{alice, bob} {
		if s := p.upState(); s.Made != 1 {
			t.Fatalf("%s after the first command: %+v, want one up connection made", p.name, s)
		}
	}

	// Idle: both close, on the pages and on the node.
	alice.run(`T.upClosed()`)
	bob.run(`T.upClosed()`)
	waitNodeUpPeers(t, n, 0, "after the idle timeout")

	// A file and a buffer sent at once from alice, cold again: one new
	// connection carries both; bob's opens for them.
	want := js[string](alice, `(async () => {
		const data = T.random(3 << 20);
		const fid = CRVideo_SendFile("bob", new File([data], "notes.bin"), "f1");
		const bid = CRVideo_SendBuffer("bob", "a buffer for bob", "b1");
		const [, name, fcode] = await T.wait("SendFileRlst", (tid) => tid === fid, 60000);
		if (fcode !== 0 || name !== "notes.bin") throw new Error("SendFileRlst " + fcode);
		const [, bcode] = await T.wait("SendBufferRlst", (tid) => tid === bid, 30000);
		if (bcode !== 0) throw new Error("SendBufferRlst " + bcode);
		return T.sha(data);
	})()`)
	got := js[string](bob, `(async () => {
		const [from, url, name] = await T.wait("NotifyFileData", (from) => from === "alice", 30000);
		if (name !== "notes.bin") throw new Error("NotifyFileData " + name);
		await T.wait("NotifyBufferData", (from, data) => from === "alice" && data === "a buffer for bob");
		return T.sha(await (await fetch(url)).arrayBuffer());
	})()`)
	if got != want {
		t.Fatalf("bob got a file of SHA-256 %s, alice sent %s", got, want)
	}
	for _, p := range []*page{alice, bob} {
		if s := p.upState(); s.Made != 2 || s.Live > 1 {
			t.Fatalf("%s after the second transfer: %+v, want a second up connection, the first closed", p.name, s)
		}
	}
	alice.run(`T.upClosed()`)
	bob.run(`T.upClosed()`)
	waitNodeUpPeers(t, n, 0, "after the second idle timeout")

	// A command to nobody fails as before (1102), and leaves nothing open.
	alice.run(`(async () => {
		const id = CRVideo_SendCmd("nobody", "x", "");
		const [, code] = await T.wait("SendCmdRlst", (tid) => tid === id, 30000);
		if (code !== 1102) throw new Error("SendCmdRlst to nobody: " + code);
	})()`)
	alice.run(`T.upClosed()`)
	waitNodeUpPeers(t, n, 0, "after a command to nobody")
	if s := bob.upState(); s.Made != 2 {
		t.Fatalf("bob after alice's command to nobody: %+v, want no new up connection", s)
	}
}

// upIdleTimeout 0 keeps an opened up connection until logout; logout
// closes it.
func TestBrowserUpIdleNever(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{})
	site := webFor(t, n)
	b := startBrowser(t)
	alice, bob := b.countingPage("alice", site), b.countingPage("bob", site)
	alice.run(`CRVideo_SetSDKParams({ upIdleTimeout: 0 })`)
	bob.run(`CRVideo_SetSDKParams({ upIdleTimeout: 0 })`)
	alice.login(site, "alice")
	bob.login(site, "bob")
	alice.run(`(async () => {
		const id = CRVideo_SendCmd("bob", "hi", "");
		const [, code] = await T.wait("SendCmdRlst", (tid) => tid === id, 30000);
		if (code !== 0) throw new Error("SendCmdRlst " + code);
	})()`)
	bob.run(`T.wait("NotifyCmdData", (from, data) => from === "alice" && data === "hi")`)
	waitNodeUpPeers(t, n, 2, "after the command")
	time.Sleep(2500 * time.Millisecond)
	for _, p := range []*page{alice, bob} {
		if s := p.upState(); !s.Open || s.Live != 1 {
			t.Fatalf("%s with upIdleTimeout 0: %+v, want its up connection kept", p.name, s)
		}
	}
	if v := nodeUpPeers(n); v != 2 {
		t.Fatalf("the node has %v up PeerConnections, want 2", v)
	}
	// A shorter timeout set now applies at once.
	bob.run(`CRVideo_SetSDKParams({ upIdleTimeout: 500 })`)
	bob.run(`T.upClosed()`)
	alice.run(`CRVideo_Logout()`)
	alice.run(`T.upClosed(5000)`)
	waitNodeUpPeers(t, n, 0, "after alice's logout and bob's idle timeout")
}

// Entering a meeting opens the up connection; in the meeting it stays
// open past the idle timeout, publishing a camera works, and leaving the
// meeting lets it close.
func TestBrowserUpMeeting(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{})
	site := webFor(t, n)
	b := startBrowser(t)
	alice, bob := b.countingPage("alice", site), b.countingPage("bob", site)
	for _, p := range []*page{alice, bob} {
		p.run(`CRVideo_Init({ upIdleTimeout: 1500 })`)
	}
	alice.login(site, "alice")
	bob.login(site, "bob")

	// alice makes a meeting: the current generation's names; bob enters
	// with the older ones.
	meetID := js[int](alice, `(async () => {
		CRVideo_CreateMeeting2("cm");
		const [meet] = await T.wait("CreateMeetingSuccess");
		if (T.upState().open) throw new Error("an up connection before entering");
		CRVideo_EnterMeeting3(meet.ID, "em");
		const [code] = await T.wait("EnterMeetingRslt");
		if (code !== 0) throw new Error("EnterMeetingRslt " + code);
		if (!T.upState().open) throw new Error("no up connection in the meeting");
		return meet.ID;
	})()`)
	bob.run(`(async () => {
		CRVideo_EnterMeeting(%s, "", "bob", "", "em");
		const [code] = await T.wait("EnterMeetingRslt");
		if (code !== 0) throw new Error("EnterMeetingRslt " + code);
		if (!T.upState().open) throw new Error("no up connection in the meeting");
	})()`, meetID)
	waitNodeUpPeers(t, n, 2, "in the meeting")

	// Past the idle timeout, in the meeting: still open.
	time.Sleep(2500 * time.Millisecond)
	for _, p := range []*page{alice, bob} {
		if s := p.upState(); !s.Open || s.Made != 1 || s.Live != 1 {
			t.Fatalf("%s in the meeting past the idle timeout: %+v, want its one up connection open", p.name, s)
		}
	}

	// alice's camera reaches bob.
	alice.run(`(async () => {
		CRVideo_OpenVideo("alice");
		await T.wait("VideoStatusChanged", (id, o, s) => id === "alice" && s === 3, 20000);
	})()`)
	bob.run(`(async () => {
		await T.wait("VideoStatusChanged", (id, o, s) => id === "alice" && s === 3, 20000);
		window.V = T.video("alice", 1);
	})()`)
	checkPlaying(bob, "alice's camera")
	if s := alice.upState(); s.Made != 1 {
		t.Fatalf("alice publishing: %+v, want the one up connection of the meeting", s)
	}

	// Out of the meeting (the camera closes with it): both close.
	alice.run(`CRVideo_ExitMeeting()`)
	bob.run(`CRVideo_ExitMeeting()`)
	alice.run(`T.upClosed()`)
	bob.run(`T.upClosed()`)
	waitNodeUpPeers(t, n, 0, "after the meeting")

	// Entering again opens a new one, and a camera published on it works.
	alice.run(`(async () => {
		CRVideo_EnterMeeting3(%s, "em2");
		const [code] = await T.wait("EnterMeetingRslt", (c, k) => k === "em2");
		if (code !== 0) throw new Error("EnterMeetingRslt " + code);
		if (T.upState().made !== 2) throw new Error("no new up connection: " + JSON.stringify(T.upState()));
		CRVideo_OpenVideo("alice");
	})()`, meetID)
	bob.run(`(async () => {
		CRVideo_EnterMeeting(%s, "", "bob", "", "em2");
		const [code] = await T.wait("EnterMeetingRslt", (c, k) => k === "em2");
		if (code !== 0) throw new Error("EnterMeetingRslt " + code);
		await T.until(() => CRVideo_GetVideoStatus("alice") === 3, 20000, "alice's camera open");
		window.V.destroy();
		window.V = T.video("alice", 1);
	})()`, meetID)
	checkPlaying(bob, "alice's camera on her second up connection")
}

// A send whose up connection does not open within 15 s fails with
// SENDFAIL (1000), and at once when the opening fails; the connection is
// dropped, and the next send opens a new one that works.
func TestBrowserUpSendFails(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{})
	site := webFor(t, n)
	b := startBrowser(t)
	alice, bob := b.countingPage("alice", site), b.countingPage("bob", site)
	alice.run(`CRVideo_SetSDKParams({ upIdleTimeout: 1500 })`)
	alice.login(site, "alice")
	bob.login(site, "bob")

	// An offer that never comes: the command waits 15 s, then fails.
	took := js[float64](alice, `(async () => {
		BREAK = "hang";
		const t0 = performance.now();
		const id = CRVideo_SendCmd("bob", "never", "h");
		BREAK = "";
		const [, code, cookie] = await T.wait("SendCmdRlst", (tid) => tid === id, 25000);
		if (code !== 1000 || cookie !== "h") throw new Error("SendCmdRlst " + code);
		return performance.now() - t0;
	})()`)
	if took < 14500 || took > 20000 {
		t.Fatalf("the command failed after %.0f ms, want about 15 s", took)
	}
	alice.run(`T.upClosed(10000)`)

	// An offer that fails: the file fails at once.
	took = js[float64](alice, `(async () => {
		BREAK = "fail";
		const t0 = performance.now();
		const id = CRVideo_SendFile("bob", new File(["x"], "x.txt"), "f");
		BREAK = "";
		const [, name, code] = await T.wait("SendFileRlst", (tid) => tid === id, 10000);
		if (code !== 1000 || name !== "x.txt") throw new Error("SendFileRlst " + code);
		if (crvideo.peerConnections().up !== null) throw new Error("the failed up connection is kept");
		return performance.now() - t0;
	})()`)
	if took > 3000 {
		t.Fatalf("the file failed after %.0f ms, want at once", took)
	}

	// The next send opens a third connection, and arrives.
	alice.run(`(async () => {
		const id = CRVideo_SendCmd("bob", "now it works", "ok");
		const [, code] = await T.wait("SendCmdRlst", (tid) => tid === id, 30000);
		if (code !== 0) throw new Error("SendCmdRlst " + code);
		if (T.upState().made !== 3) throw new Error("up connections made: " + JSON.stringify(T.upState()));
	})()`)
	bob.run(`T.wait("NotifyCmdData", (from, data) => from === "alice" && data === "now it works")`)
	if js[bool](bob, `T.events.some((e) => e.name === "NotifyCmdData" && e.args[1] === "never")`) {
		t.Fatal("bob got the command that failed")
	}
	if bob.upState().Made != 1 {
		t.Fatalf("bob: %+v, want one up connection, opened for the command that arrived", bob.upState())
	}
}
