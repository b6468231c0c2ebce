package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/signaling"
)

// deskApps are testApps with two queues for acme's service desk.
func deskApps() []signaling.AppConfig {
	apps := append([]signaling.AppConfig(nil), testApps...)
	apps[0].Queue = signaling.QueueConfig{Queues: []signaling.QueueDef{
		{ID: 1, Name: "Sales", Desc: "New contracts and quotes", Prio: 0},
		{ID: 2, Name: "Claims", Desc: "Damage and repairs", Prio: 1},
	}}
	return apps
}

// The service desk through the SDK's current generation of names only: a
// customer queues, the agent (first assigned by the node, then, paused
// with do-not-disturb, asking for the next customer) accepts, makes a
// meeting with CRVideo_CreateMeeting2 and calls the customer with it; both
// enter with CRVideo_EnterMeeting3 and see each other's camera.
func TestBrowserDeskSDK(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{Apps: deskApps()})
	site := webFor(t, n)
	b := startBrowser(t)
	agent, cust := b.sdkPage("agent", site), b.sdkPage("cust", site)
	for _, p := range []*page{agent, cust} {
		p.run(`(async () => {
			const r = await CRVideo_Init().then((v) => v, (e) => { throw new Error("CRVideo_Init rejected " + (e && e.code)); });
			if (r !== CRVideo_NOERR) throw new Error("CRVideo_Init resolved " + r);
		})()`)
		p.login(site, p.name)
		p.run(`(async () => {
			CRVideo_InitQueueDat("init");
			const [code, cookie] = await T.wait("InitQueueDatRslt");
			if (code !== 0 || cookie !== "init") throw new Error("InitQueueDatRslt " + code + " " + cookie);
			const qs = CRVideo_GetAllQueueInfo().map((q) => q.queID + ":" + q.name + ":" + q.prio).join(",");
			if (qs !== "1:Sales:0,2:Claims:1") throw new Error("GetAllQueueInfo " + qs);
			const w = CRVideo_GetQueuingInfo();
			if (w.queID !== 0 || w.position !== 0) throw new Error("GetQueuingInfo " + JSON.stringify(w));
			if (CRVideo_GetServingQueues().length !== 0) throw new Error("GetServingQueues " + CRVideo_GetServingQueues());
		})()`)
	}

	// The agent serves Sales with do-not-disturb off: a customer who
	// queues is assigned to it at once, and taken back when it leaves.
	agent.run(`(async () => {
		CRVideo_StartService(1, 0, "srv");
		const [queID, code, cookie] = await T.wait("StartServiceRslt");
		if (queID !== 1 || code !== 0 || cookie !== "srv") throw new Error("StartServiceRslt " + queID + " " + code);
		if (CRVideo_GetServingQueues().join() !== "1") throw new Error("GetServingQueues " + CRVideo_GetServingQueues());
	})()`)
	cust.run(`(async () => {
		CRVideo_StartQueuing(1, "first try", "q1");
		const [code, cookie] = await T.wait("StartQueuingRslt");
		if (code !== 0 || cookie !== "q1") throw new Error("StartQueuingRslt " + code);
	})()`)
	agent.run(`(async () => {
		const [u] = await T.wait("AutoAssignUser");
		if (u.queID !== 1 || u.userID !== "cust" || u.nickname !== "Nick cust" || u.usrExtDat !== "first try") throw new Error("AutoAssignUser " + JSON.stringify(u));
	})()`)
	cust.run(`(async () => {
		CRVideo_StopQueuing("sq");
		const [code] = await T.wait("StopQueuingRslt");
		if (code !== 0) throw new Error("StopQueuingRslt " + code);
		if (CRVideo_GetQueuingInfo().queID !== 0) throw new Error("still queuing");
	})()`)
	agent.run(`T.wait("CancelAssignUser", (q, uid) => q === 1 && uid === "cust")`)

	// Paused with do-not-disturb, the agent is assigned nobody and asks.
	agent.run(`(async () => {
		CRVideo_SetDNDStatus(1, "dnd");
		await T.wait("SetDNDStatusSuccess");
		CRVideo_ReqAssignUser("none");
		const [code, u, cookie] = await T.wait("ReqAssignUserRslt");
		if (code !== CRVIDEOSDK_QUEUE_NOUSER || cookie !== "none") throw new Error("ReqAssignUserRslt with nobody waiting: " + code);
	})()`)
	cust.run(`(async () => {
		CRVideo_StartQueuing(1, "about my contract", "q2");
		const [code] = await T.wait("StartQueuingRslt", (c, cookie) => cookie === "q2");
		if (code !== 0) throw new Error("StartQueuingRslt " + code);
		const w = CRVideo_GetQueuingInfo();
		if (w.queID !== 1 || w.position !== 1 || w.queuingTime < 0) throw new Error("GetQueuingInfo " + JSON.stringify(w));
		CRVideo_GetQueueStatus(1, "gs");
		const [st, sc, cookie] = await T.wait("GetQueueStatusRslt");
		if (sc !== 0 || cookie !== "gs" || st.queID !== 1 || st.wait_num !== 1 || st.agent_num !== 1) throw new Error("GetQueueStatusRslt " + JSON.stringify(st) + " " + sc);
	})()`)
	agent.run(`(async () => {
		await T.wait("QueueStatusChanged", (st) => st.queID === 1 && st.wait_num === 1);
		CRVideo_ReqAssignUser("next");
		const [code, u, cookie] = await T.wait("ReqAssignUserRslt", (c, u, cookie) => cookie === "next");
		if (code !== 0 || u.userID !== "cust" || u.queID !== 1 || u.usrExtDat !== "about my contract") throw new Error("ReqAssignUserRslt " + code + " " + JSON.stringify(u));
		CRVideo_AcceptAssignUser(u.queID, u.userID, "acc");
		const [rc, rcookie] = await T.wait("ResponseAssignUserRslt");
		if (rc !== 0 || rcookie !== "acc") throw new Error("ResponseAssignUserRslt " + rc);
	})()`)
	cust.run(`T.wait("QueuingInfoChanged", (w) => w.queID === 0).then(() => {
		if (CRVideo_GetQueuingInfo().queID !== 0) throw new Error("still queuing after the agent took the call");
	})`)

	// The agent makes the meeting and calls the customer with it.
	agent.run(`(async () => {
		CRVideo_CreateMeeting2("cm");
		const [meet, cookie] = await T.wait("CreateMeetingSuccess");
		if (!meet.ID || cookie !== "cm") throw new Error("CreateMeetingSuccess " + JSON.stringify(meet));
		window.meet = meet;
		window.callID = CRVideo_Call("cust", meet, "Sales", "call");
		await T.wait("CallSuccess", (id) => id === callID);
	})()`)
	cust.run(`(async () => {
		const [id, meet, caller, ext] = await T.wait("NotifyCallIn");
		if (caller !== "agent" || ext !== "Sales" || !meet.ID) throw new Error("NotifyCallIn " + caller + " " + ext);
		window.meet = meet;
		CRVideo_AcceptCall(id, meet, "", "ac");
		await T.wait("AcceptCallSuccess", (aid) => aid === id);
	})()`)
	agent.run(`(async () => {
		await T.wait("NotifyCallAccepted", (id) => id === callID);
		const s = CRVideo_GetSessionInfo();
		if (s.callID !== callID || s.peerID !== "cust" || !s.bCallAccepted || s.meetingID !== meet.ID) throw new Error("GetSessionInfo " + JSON.stringify(s));
	})()`)
	for _, p := range []*page{agent, cust} {
		p.run(`(async () => {
			CRVideo_EnterMeeting3(meet.ID, "em");
			const [code, cookie] = await T.wait("EnterMeetingRslt");
			if (code !== 0 || cookie !== "em") throw new Error("EnterMeetingRslt " + code);
			CRVideo_OpenMic(%s);
			CRVideo_OpenVideo(%s);
			await T.wait("VideoStatusChanged", (u, o, n) => u === %[1]s && n === 3);
		})()`, p.name, p.name)
	}
	watch := map[*page]string{agent: "cust", cust: "agent"}
	for p, other := range watch {
		p.run(`(async () => {
			await T.until(() => CRVideo_IsUserInMeeting(%s) && CRVideo_GetVideoStatus(%[1]s) === 3, 20000, %[1]s + "'s camera");
			window.V = T.video(%[1]s, 1);
		})()`, other)
	}
	for p, other := range watch {
		v := checkPlaying(p, other+"'s camera")
		t.Logf("%s sees %s's camera at %dx%d", p.name, other, v.Width, v.Height)
	}
	if got := js[string](cust, `CRVideo_GetAllMembers().map((m) => m.userID + ":" + m.nickName).sort().join()`); got != "agent:Nick agent,cust:Nick cust" {
		t.Fatalf("members %s", got)
	}

	// The call ends; the agent stops serving.
	agent.run(`(async () => {
		CRVideo_HungupCall(callID, "", "hc");
		await T.wait("HangupCallSuccess", (id) => id === callID);
		CRVideo_ExitMeeting();
		CRVideo_StopService(1, "stop");
		const [queID, code] = await T.wait("StopServiceRslt");
		if (queID !== 1 || code !== 0 || CRVideo_GetServingQueues().length !== 0) throw new Error("StopServiceRslt " + queID + " " + code);
	})()`)
	cust.run(`T.wait("NotifyCallHungup")`)
}

// The demo's service desk: an agent serves Sales, a customer joins it and
// waits; the agent accepts the assignment, the customer the call, and both
// are in the meeting, seeing each other. The agent's window is the
// screenshot, with more customers waiting; CRVNODE_UPDATE_SCREENSHOT=1
// writes it to docs/desk.png.
func TestBrowserDeskDemo(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{Apps: deskApps()})
	site := webFor(t, n)
	b := startBrowser(t)
	ada, grace := b.page("ada"), b.page("grace")
	demoLogin(ada, site, "ada", "Ada Lovelace", 1440, 900)
	demoLogin(grace, site, "grace", "Grace Hopper", 1280, 800)

	for _, p := range []*page{ada, grace} {
		p.do(chromedp.Click(chromedp.ID("mode-desk")))
		poll(p, "the queues", `document.querySelectorAll("#queue-list .queue").length === 2`)
	}
	ada.do(chromedp.Click(chromedp.CSS(`label:has(#desk-role-agent)`)))
	poll(ada, "the agent's buttons", `document.querySelector('#queue-list .queue[data-queid="1"] .serve-btn') !== null`)
	ada.do(chromedp.Click(chromedp.CSS(`#queue-list .queue[data-queid="1"] .serve-btn`)))
	poll(ada, "serving Sales", `document.querySelector('#queue-list .queue.on[data-queid="1"]') !== null && document.getElementById("agent-title").textContent === "Serving Sales"`)

	grace.do(
		chromedp.SetValue(chromedp.ID("desk-note"), "A quote for 40 seats"),
		chromedp.Click(chromedp.CSS(`#queue-list .queue[data-queid="1"] .join-btn`)),
	)
	// The node assigns Grace to Ada at once; Grace's place shows while Ada decides.
	ada.do(chromedp.WaitVisible(chromedp.ID("assign-dialog")))
	poll(ada, "the assignment", `document.getElementById("assign-title").textContent === "Grace Hopper is next" && document.getElementById("assign-note").textContent === "A quote for 40 seats"`)
	poll(grace, "her place in the queue", `!document.getElementById("queuing-box").hidden && document.getElementById("queuing-position").textContent === "1"`)
	ada.do(chromedp.Click(chromedp.ID("assign-accept")))
	grace.do(
		chromedp.WaitVisible(chromedp.ID("incoming")),
		chromedp.Click(chromedp.ID("incoming-accept")),
	)
	poll(ada, "Grace's video", tilePlaying("grace"))
	poll(grace, "Ada's video", tilePlaying("ada"))
	poll(ada, "the meeting's title", `document.getElementById("meeting-subject").textContent === "Sales · Grace Hopper"`)
	poll(grace, "the queue's box to go", `document.getElementById("queuing-box").hidden`)

	// More customers wait: two for Sales, one for Claims.
	for _, w := range []struct {
		id    string
		queID int
	}{{"linus", 1}, {"margaret", 1}, {"ken", 2}} {
		u := loginAcme(t, n, w.id)
		must(t, u.Do(ctxTimeout(t, eventWait), "startQueuing", map[string]any{"queID": w.queID}, nil))
	}
	poll(ada, "the waiting counts", `(() => {
		const c = (id) => document.querySelector('#queue-list .queue[data-queid="' + id + '"] .wait-count').textContent;
		return c(1) === "2" && c(2) === "1";
	})()`)
	poll(ada, "with Grace", `document.getElementById("agent-title").textContent === "With Grace Hopper"`)

	poll(ada, "quiet", `document.querySelectorAll(".toast").length === 0`)
	screenshot(t, ada, "desk.png")

	// Ada pauses with do-not-disturb; Grace hangs up, both leave the
	// meeting, and Ada is assigned nobody until she asks.
	ada.do(chromedp.Click(chromedp.CSS(`label.switch`)))
	poll(ada, "paused", `document.getElementById("agent-box").classList.contains("paused")`)
	grace.do(chromedp.Click(chromedp.ID("call-banner-hangup")))
	poll(ada, "the end of the call", `document.getElementById("stage").hidden && document.getElementById("call-banner").hidden`)
	poll(grace, "the end of the call", `document.getElementById("stage").hidden`)
	ada.do(
		chromedp.WaitEnabled(chromedp.ID("next-customer")),
		chromedp.Click(chromedp.ID("next-customer")),
		chromedp.WaitVisible(chromedp.ID("assign-dialog")),
	)
	poll(ada, "the next customer", `document.getElementById("assign-title").textContent === "Nick linus is next"`)
	ada.do(chromedp.Click(chromedp.ID("assign-reject")))
	poll(ada, "the prompt to close", `!document.getElementById("assign-dialog").open`)
	poll(ada, "Linus back in the queue", `document.querySelector('#queue-list .queue[data-queid="1"] .wait-count').textContent === "2"`)
}
