package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crvnode/crvnode/internal/faultnet"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
	"github.com/crvnode/crvnode/signaling"
)

// TestBrowserResume: a page whose connection to the node is lost keeps
// its session: CRVideo_NetStateChanged says lost (0) then back (10), what
// happened in between arrives, no CRVideo_LineOff, and the session goes
// on. A loss longer than the grace window ends in CRVideo_LineOff(207).
func TestBrowserResume(t *testing.T) {
	needChromium(t)
	n := startNode(t, "", node.FileConfig{Limits: signalingLimits(3 * time.Second)})
	site := webFor(t, n)
	proxy := newProxy(t, n)
	site.server = proxy.Addr()
	b := startBrowser(t)
	alice := b.sdkPage("alice", site)
	alice.login(site, "alice")
	bob := loginAcme(t, n, "bob")

	alice.run(`(async () => {
		CRVideo_StartUserStatusNotify("w");
		await T.until(() => T.events.some((e) => e.name.startsWith("StartUserStatusNotify")), 10000, "StartUserStatusNotify answered");
	})()`)

	// The network goes away for a second; bob changes his DND meanwhile.
	proxy.SetMode(faultnet.Down)
	alice.run(`T.wait("NetStateChanged", (l) => l === 0)`)
	must(t, bob.Do(ctxTimeout(t, 5*time.Second), protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1}, nil))
	// A call made during the loss waits for the resume.
	alice.run(`CRVideo_GetUserStatus("during")`)
	back := time.Now()
	proxy.SetMode(faultnet.Pass)
	alice.run(`T.wait("NetStateChanged", (l) => l === 10)`)
	alice.run(`T.wait("GetUserStatusSuccess", (list, cookie) => cookie === "during" && list.some((s) => s.userID === "bob"))`)
	t.Logf("network back to the session resumed: %v", time.Since(back).Round(time.Millisecond))
	alice.run(`T.wait("NotifyUserStatus", (s) => s.userID === "bob" && s.DNDType === 1)`)
	alice.run(`(async () => {
		const off = T.events.filter((e) => e.name === "LineOff");
		if (off.length) throw new Error("LineOff " + JSON.stringify(off[0].args));
		CRVideo_GetUserStatus("g");
		const [list] = await T.wait("GetUserStatusSuccess");
		const me = list.find((s) => s.userID === "alice");
		if (!me || me.userStatus !== 1) throw new Error("alice after the resume: " + JSON.stringify(me));
	})()`)

	// A loss past the grace window (3 s here) ends the session.
	proxy.SetMode(faultnet.Down)
	alice.run(`(async () => {
		const [code] = await T.wait("LineOff");
		if (code !== 207) throw new Error("LineOff(" + code + ")");
	})()`)
}

func signalingLimits(grace time.Duration) signaling.Limits {
	return signaling.Limits{ResumeGrace: grace}
}

// TestBrowserResumeMedia: two pages in a call, video both ways; alice
// loses her network (her WebSocket, and all media through the node's UDP
// socket) for 5 s. The call stays up on both sides with no hang-up or
// member leaving, and video plays again both ways; the time from the
// network's return to the first new frame on each page is logged.
func TestBrowserResumeMedia(t *testing.T) {
	needChromium(t)
	n, udp, proxy := lossyMediaNode(t)
	site := webFor(t, n)
	lossy := site
	lossy.server = proxy.Addr()
	b := startBrowser(t)
	alice, bob := b.sdkPage("alice", lossy), b.sdkPage("bob", site)
	alice.login(lossy, "alice")
	bob.login(site, "bob")

	alice.run(`(async () => {
		CRVideo_CreateMeeting("Call", 0, "cm");
		const [meet] = await T.wait("CreateMeetingSuccess");
		window.meet = meet;
		window.callID = CRVideo_Call("bob", meet, "", "cc");
		await T.wait("CallSuccess");
	})()`)
	bob.run(`(async () => {
		const [id, meet] = await T.wait("NotifyCallIn");
		window.meet = meet;
		CRVideo_AcceptCall(id, meet, "", "ac");
		await T.wait("AcceptCallSuccess");
	})()`)
	alice.run(`T.wait("NotifyCallAccepted")`)
	for _, p := range []*page{alice, bob} {
		p.run(`(async () => {
			CRVideo_EnterMeeting(meet.ID, meet.pswd, %s, "", "em");
			const [code] = await T.wait("EnterMeetingRslt");
			if (code !== 0) throw new Error("EnterMeetingRslt " + code);
		})()`, p.name)
	}
	alice.run(`T.wait("UserEnterMeeting", (id) => id === "bob")`)
	watch := watchEachOther(alice, bob)

	proxy.SetMode(faultnet.Down)
	udp.SetBlackhole(true)
	alice.run(`T.wait("NetStateChanged", (l) => l === 0)`)
	time.Sleep(dropFor)
	// Frames presented from here on are new ones.
	for _, p := range []*page{alice, bob} {
		p.run(`(() => {
			const v = V.handler().querySelector("video");
			window.nextFrame = new Promise((resolve) => v.requestVideoFrameCallback(() => resolve(performance.now())));
			window.backAt = performance.now();
		})()`)
	}
	proxy.SetMode(faultnet.Pass)
	udp.SetBlackhole(false)
	back := time.Now()
	alice.run(`T.wait("NetStateChanged", (l) => l === 10)`)
	resumed := time.Since(back)
	again := map[string]time.Duration{}
	for p, other := range watch {
		ms := js[float64](p, `(async () => {
			const first = await Promise.race([nextFrame, T.sleep(20000).then(() => { throw new Error("no new frame"); })]);
			return first - backAt;
		})()`)
		again[other+"→"+p.name] = time.Duration(ms * float64(time.Millisecond)).Round(time.Millisecond)
	}
	t.Logf("network back: session resumed within %v; the first new frame after %v", resumed.Round(time.Millisecond), again)
	for _, p := range []*page{alice, bob} {
		p.run(`(() => {
			const bad = T.events.filter((e) => ["LineOff", "NotifyCallHungup", "UserLeftMeeting", "MeetingDropped"].includes(e.name));
			if (bad.length) throw new Error(JSON.stringify(bad));
			if (CRVideo_GetAllMembers().length !== 2) throw new Error("members " + JSON.stringify(CRVideo_GetAllMembers()));
		})()`)
	}
	alice.run(`CRVideo_HungupCall(callID, "bye", "hc")`)
	bob.run(`T.wait("NotifyCallHungup", (id, ext) => ext === "bye")`)
}

// TestBrowserResumeQueuePlace: a queued customer's page loses its network
// for 5 s; it keeps its place, and the agent who starts serving afterwards
// is given that customer.
func TestBrowserResumeQueuePlace(t *testing.T) {
	needChromium(t)
	path := filepath.Join(t.TempDir(), "crvnode.yaml")
	must(t, os.WriteFile(path, []byte(queueYAML), 0o600))
	fc, err := node.LoadConfigFile(path)
	must(t, err)
	n := startNode(t, "", fc)
	site := webFor(t, n)
	proxy := newProxy(t, n)
	lossy := site
	lossy.server = proxy.Addr()
	b := startBrowser(t)
	cust := b.sdkPage("cust", lossy)
	cust.login(lossy, "cust")
	cust.run(`(async () => {
		CRVideo_InitQueueDat("iq");
		await T.wait("InitQueueDatRslt");
		CRVideo_StartQueuing(1, "order 42", "sq");
		const [code] = await T.wait("StartQueuingRslt");
		if (code !== 0) throw new Error("StartQueuingRslt " + code);
	})()`)

	proxy.SetMode(faultnet.Down)
	cust.run(`T.wait("NetStateChanged", (l) => l === 0)`)
	time.Sleep(dropFor)
	proxy.SetMode(faultnet.Pass)
	cust.run(`(async () => {
		await T.wait("NetStateChanged", (l) => l === 10);
		const qi = CRVideo_GetQueuingInfo();
		if (qi.queID !== 1 || qi.position !== 1) throw new Error("GetQueuingInfo after the drop " + JSON.stringify(qi));
	})()`)
	agent := loginAcme(t, n, "agent")
	must(t, agent.StartService(ctxTimeout(t, 10*time.Second), 1, 1))
	agent.assignedTo(1, "cust")
	cust.run(`(() => {
		const off = T.events.filter((e) => e.name === "LineOff");
		if (off.length) throw new Error("LineOff " + JSON.stringify(off[0].args));
	})()`)
}
