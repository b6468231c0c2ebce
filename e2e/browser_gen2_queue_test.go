package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/crvnode/crvnode/node"
)

// The queue component from pages: a customer queues and sees its place,
// an agent serves the queue, is given the customer, accepts it and calls
// it; the local queries (GetAllQueueInfo, GetQueuingInfo,
// GetServingQueues, GetSessionInfo) follow every step.
func TestBrowserGen2Queues(t *testing.T) {
	needChromium(t)
	path := filepath.Join(t.TempDir(), "crvnode.yaml")
	must(t, os.WriteFile(path, []byte(queueYAML), 0o600))
	fc, err := node.LoadConfigFile(path)
	must(t, err)
	n := startMediaNode(t, fc)
	site := webFor(t, n)
	b := startBrowser(t)
	cust, agent := b.sdkPage("cust", site), b.sdkPage("agent", site)
	cust.login(site, "cust")
	agent.login(site, "agent")

	initQueues := `(async () => {
		if (CRVideo_GetAllQueueInfo().length !== 0) throw new Error("queues before InitQueueDat");
		CRVideo_InitQueueDat("iq");
		const [code, k] = await T.wait("InitQueueDatRslt");
		if (code !== 0 || k !== "iq") throw new Error("InitQueueDatRslt " + code + " " + k);
		const got = JSON.stringify(CRVideo_GetAllQueueInfo());
		const want = JSON.stringify([{ queID: 1, name: "Sales", desc: "New contracts", prio: 0 }, { queID: 2, name: "Claims", desc: "", prio: 1 }]);
		if (got !== want) throw new Error("GetAllQueueInfo " + got);
		const qi = CRVideo_GetQueuingInfo();
		if (qi.queID !== 0 || qi.position !== 0 || CRVideo_GetServingQueues().length !== 0) throw new Error("not queuing, not serving: " + JSON.stringify(qi));
		if (CRVideo_GetSessionInfo().callID !== "") throw new Error("a session before any call");
	})()`
	cust.run(initQueues)
	agent.run(initQueues)

	// The customer queues: position 1; a second queue is refused (404).
	cust.run(`(async () => {
		CRVideo_StartQueuing(1, "order 42", "sq");
		const [code, k] = await T.wait("StartQueuingRslt");
		if (code !== 0 || k !== "sq") throw new Error("StartQueuingRslt " + code);
		const qi = CRVideo_GetQueuingInfo();
		if (qi.queID !== 1 || qi.position !== 1) throw new Error("GetQueuingInfo " + JSON.stringify(qi));
		CRVideo_StartQueuing2(2, "", "again");
		const [c2, k2] = await T.wait("StartQueuingRslt");
		if (c2 !== CRVIDEOSDK_QUEUE_ALREADYQUEUING || k2 !== "again") throw new Error("StartQueuing in a second queue: " + c2);
		if (CRVideo_GetQueuingInfo().queID !== 1) throw new Error("the place was lost");
	})()`)
	agent.run(`(async () => {
		CRVideo_GetQueueStatus(1, "gs");
		const [st, code, k] = await T.wait("GetQueueStatusRslt");
		if (code !== 0 || k !== "gs" || st.queID !== 1 || st.wait_num !== 1 || st.agent_num !== 0) throw new Error("GetQueueStatusRslt " + JSON.stringify(st) + " " + code);
		const known = CRVideo_GetQueueStatus(1, "");
		if (known.wait_num !== 1) throw new Error("the status kept " + JSON.stringify(known));
		await T.wait("GetQueueStatusRslt");
		CRVideo_GetQueueStatus(99, "bad");
		const [, c2] = await T.wait("GetQueueStatusRslt");
		if (c2 !== CRVIDEOSDK_QUEUE_ID_ERR) throw new Error("GetQueueStatus(99): " + c2);
	})()`)

	// The agent serves queue 1 and is given the customer; it accepts.
	agent.run(`(async () => {
		CRVideo_StartService(1, 0, "ss");
		const [id, code, k] = await T.wait("StartServiceRslt");
		if (id !== 1 || code !== 0 || k !== "ss") throw new Error("StartServiceRslt " + id + " " + code);
		if (JSON.stringify(CRVideo_GetServingQueues()) !== "[1]") throw new Error("GetServingQueues " + JSON.stringify(CRVideo_GetServingQueues()));
		const [u] = await T.wait("AutoAssignUser");
		if (u.queID !== 1 || u.userID !== "cust" || u.nickname !== "Nick cust" || u.usrExtDat !== "order 42") throw new Error("AutoAssignUser " + JSON.stringify(u));
		CRVideo_AcceptAssignUser(1, "cust", "acc");
		const [c2, k2] = await T.wait("ResponseAssignUserRslt");
		if (c2 !== 0 || k2 !== "acc") throw new Error("ResponseAssignUserRslt " + c2);
	})()`)
	cust.run(`T.wait("QueuingInfoChanged", (qi) => qi.queID === 0).then(() => {
		if (CRVideo_GetQueuingInfo().queID !== 0) throw new Error("still queuing " + JSON.stringify(CRVideo_GetQueuingInfo()));
	})`)

	// The agent calls the customer into a meeting; SessionInfo on both sides.
	agent.run(`(async () => {
		CRVideo_CreateMeeting2("m");
		const [meet] = await T.wait("CreateMeetingSuccess");
		window.meet = meet;
		window.callID = CRVideo_Call("cust", meet, "", "c");
		await T.wait("CallSuccess");
		const si = CRVideo_GetSessionInfo();
		if (si.callID !== callID || si.peerID !== "cust" || si.peerName !== "Nick cust" || si.bCallAccepted || si.meetingID !== meet.ID) throw new Error("GetSessionInfo " + JSON.stringify(si));
	})()`)
	cust.run(`(async () => {
		const [id, meet, caller] = await T.wait("NotifyCallIn");
		if (caller !== "agent") throw new Error("NotifyCallIn from " + caller);
		CRVideo_AcceptCall(id, meet, "", "a");
		await T.wait("AcceptCallSuccess");
		const si = CRVideo_GetSessionInfo();
		if (si.callID !== id || si.peerID !== "agent" || !si.bCallAccepted || si.meetingID !== meet.ID || si.duration !== 0) throw new Error("GetSessionInfo " + JSON.stringify(si));
		CRVideo_EnterMeeting3(meet.ID, "e");
		const [code] = await T.wait("EnterMeetingRslt");
		if (code !== 0) throw new Error("EnterMeetingRslt " + code);
	})()`)
	agent.run(`(async () => {
		await T.wait("NotifyCallAccepted", (id) => id === callID);
		if (!CRVideo_GetSessionInfo().bCallAccepted) throw new Error("not accepted: " + JSON.stringify(CRVideo_GetSessionInfo()));
		CRVideo_RefreshAllQueueStatus();
		await T.wait("QueueStatusChanged", (st) => st.queID === 1);
		await T.wait("QueueStatusChanged", (st) => st.queID === 2);
		CRVideo_StopService(1, "st");
		const [id, code, k] = await T.wait("StopServiceRslt");
		if (id !== 1 || code !== 0 || k !== "st" || CRVideo_GetServingQueues().length !== 0) throw new Error("StopServiceRslt " + code);
		CRVideo_HungupCall(callID, "", "h");
		await T.wait("HangupCallSuccess");
		if (CRVideo_GetSessionInfo().callID !== "") throw new Error("the call ended");
	})()`)
	cust.run(`T.wait("NotifyCallHungup").then(() => {
		if (CRVideo_GetSessionInfo().callID !== "") throw new Error("the call ended");
	})`)
}
