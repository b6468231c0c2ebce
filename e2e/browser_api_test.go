package e2e

import (
	"testing"

	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
)

// The signaling half of the SDK in a browser, with Go clients on the other
// side: failures reach the Fail and Rslt callbacks with their codes,
// cookies come back, both spellings of the invite functions get their own
// callbacks, and the session ends with LineOff when the user logs in
// elsewhere.
func TestBrowserSignalingAPI(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{})
	site := webFor(t, n)
	carol, dave := loginAcme(t, n, "carol"), loginAcme(t, n, "dave")
	ctx := ctxTimeout(t, browserTimeout)
	b := startBrowser(t)
	p := b.sdkPage("web", site)

	// A wrong secret, then the right one; functions before login fail with 12.
	p.run(`(async () => {
		CRVideo_GetMeetings("early");
		const [c0, k0] = await T.wait("GetMeetingsFail");
		if (c0 !== 12 || k0 !== "early") throw new Error("GetMeetingsFail " + c0);
		CRVideo_SetServerAddr(%s);
		CRVideo_Login("acme", "0123456789abcdef0123456789abcdef", "Web", "web", "", "bad");
		const [code, cookie] = await T.wait("LoginFail");
		if (code !== 7 || cookie !== "bad") throw new Error("LoginFail " + code + " " + cookie);
	})()`, site.server)
	p.login(site, "web")

	// Do not disturb, and the status list.
	p.run(`(async () => {
		CRVideo_SetDNDStatus(2, "d");
		const [k] = await T.wait("SetDNDStatusSuccess");
		if (k !== "d") throw new Error("cookie " + k);
		CRVideo_GetUserStatus("");
		const [list] = await T.wait("GetUserStatusSuccess");
		const me = list.find((u) => u.userID === "web");
		if (!me || me.DNDType !== 2 || me.userStatus !== 1) throw new Error(JSON.stringify(list));
		CRVideo_SetDNDStatus(0, "");
		await T.wait("SetDNDStatusSuccess");
	})()`)

	// Meetings: create with a password, list, a wrong password, enter.
	p.run(`(async () => {
		CRVideo_CreateMeeting("API", 1, "m");
		const [meet, k] = await T.wait("CreateMeetingSuccess");
		if (k !== "m" || !/^\d{6}$/.test(meet.pswd) || meet.creator !== "web") throw new Error(JSON.stringify(meet));
		window.meet = meet;
		CRVideo_GetMeetings("g");
		const [list, k2] = await T.wait("GetMeetingsSuccess");
		if (k2 !== "g" || !list.some((m) => m.ID === meet.ID)) throw new Error(JSON.stringify(list));
		CRVideo_EnterMeeting(meet.ID, "000000" === meet.pswd ? "111111" : "000000", "", "", "wrong");
		const [c1, k1] = await T.wait("EnterMeetingRslt");
		if (c1 !== 801 || k1 !== "wrong") throw new Error("EnterMeetingRslt " + c1);
		CRVideo_EnterMeeting(meet.ID, meet.pswd, "web", "Web in the meeting", "ok");
		const [c2] = await T.wait("EnterMeetingRslt");
		if (c2 !== 0 || CRVideo_GetMemberNickName("web") !== "Web in the meeting") throw new Error("EnterMeetingRslt " + c2);
		const mi = CRVideo_GetMemberInfo("web");
		if (mi.nickname !== mi.nickName || mi.audioStatus !== 2 || mi.videoStatus !== 2 || CRVideo_GetMemberInfo("carol") !== null) throw new Error(JSON.stringify(mi));
	})()`)
	meetID := protocol.MeetingID(js[int](p, `meet.ID`))
	pswd := js[string](p, `meet.pswd`)

	// CallMoreParty: its Rslt and NotifyCallMorePartyStatus; carol accepts and enters.
	inv1 := js[string](p, `(async () => {
		const id = CRVideo_CallMoreParty("carol", null, "join us", "i1");
		const [rid, code, k] = await T.wait("CallMorePartyRslt");
		if (rid !== id || code !== 0 || k !== "i1") throw new Error("CallMorePartyRslt " + code);
		await T.wait("NotifyCallMorePartyStatus", (i, s) => i === id && s === 0);
		return id;
	})()`)
	in := carol.waitData(protocol.EventNotifyCallIn, nil).(*protocol.NotifyCallIn)
	if in.CallID != inv1 || in.CallerID != "web" || in.UsrExtDat != "join us" || in.MeetObj.ID != meetID {
		t.Fatalf("carol's notifyCallIn %+v", in)
	}
	must(t, carol.AcceptCall(ctx, inv1, nil, ""))
	p.run(`T.wait("NotifyCallMorePartyStatus", (i, s) => i === %s && s === 1)`, inv1)
	_, err := carol.EnterMeeting(ctx, meetID, pswd, "Carol")
	must(t, err)
	p.run(`T.wait("UserEnterMeeting", (u) => u === "carol").then(() => {
		if (CRVideo_GetMemberNickName("carol") !== "Carol" || !CRVideo_IsUserInMeeting("carol")) throw new Error("carol");
	})`)

	// ClientInvite: its own Rslt and NotifyInviteStatus; cancelled with ClientCancelInvite.
	inv2 := js[string](p, `(async () => {
		const id = CRVideo_ClientInvite("dave", meet, "i2");
		const [rid, code, k] = await T.wait("ClientInviteRslt");
		if (rid !== id || code !== 0 || k !== "i2") throw new Error("ClientInviteRslt " + code);
		await T.wait("NotifyInviteStatus", (i, s) => i === id && s === 0);
		CRVideo_ClientCancelInvite(id, "x");
		const [cid, c2, k2] = await T.wait("ClientCancelInviteRslt");
		if (cid !== id || c2 !== 0 || k2 !== "x") throw new Error("ClientCancelInviteRslt " + c2);
		if (T.events.some((e) => e.name === "NotifyCallMorePartyStatus" && e.args[0] === id)) throw new Error("wrong status event");
		CRVideo_CancelCallMoreParty(id, "", "again");
		const [, c3, k3] = await T.wait("CancelCallMorePartyRslt");
		if (c3 !== 600 || k3 !== "again") throw new Error("CancelCallMorePartyRslt " + c3);
		return id;
	})()`)
	dave.waitData(protocol.EventNotifyCallHungup, func(d any) bool { return d.(*protocol.NotifyCallHungup).CallID == inv2 })

	// Calls that fail: the callee is unknown, busy.
	p.run(`(async () => {
		const id = CRVideo_Call("nobody", meet, "", "c");
		const [fid, code, k] = await T.wait("CallFail");
		if (fid !== id || code !== 605 || k !== "c") throw new Error("CallFail " + code);
		const id2 = CRVideo_Call("carol", null, "", "c2");
		const [fid2, code2] = await T.wait("CallFail");
		if (fid2 !== id2 || code2 !== 602) throw new Error("CallFail busy " + code2);
		CRVideo_AcceptCall("no-such-call", null, "", "a");
		const [aid, c3, k3] = await T.wait("AcceptCallFail");
		if (aid !== "no-such-call" || c3 !== 600 || k3 !== "a") throw new Error("AcceptCallFail " + c3);
	})()`)

	// Messages and kickout.
	p.run(`(async () => {
		CRVideo_SendMeetingCustomMsg("hello all", "s");
		const [code, k] = await T.wait("SendMeetingCustomMsgRslt");
		if (code !== 0 || k !== "s") throw new Error("SendMeetingCustomMsgRslt " + code);
		await T.wait("NotifyMeetingCustomMsg", (u, m) => u === "web" && m === "hello all");
		CRVideo_Kickout("carol", "k");
		const [kc, kk] = await T.wait("KickoutRslt");
		if (kc !== 0 || kk !== "k") throw new Error("KickoutRslt " + kc);
		await T.wait("UserLeftMeeting", (u) => u === "carol");
	})()`)
	carol.waitData(protocol.EventMeetingDropped, func(d any) bool { return d.(*protocol.MeetingDropped).Reason == protocol.DropKickedOut })

	// Destroying the meeting: StopMeetingRslt is the same callback object.
	p.run(`(async () => {
		if (CRVideo_StopMeetingRslt !== CRVideo_DestroyMeetingRslt || CRVideo_SendCmdRslt !== CRVideo_SendCmdRlst) throw new Error("aliases");
		CRVideo_DestroyMeeting(meet.ID, "dm");
		await T.wait("MeetingStopped", (id) => id === meet.ID);
		const [code, k] = await T.wait("DestroyMeetingRslt");
		if (code !== 0 || k !== "dm") throw new Error("DestroyMeetingRslt " + code);
		if (CRVideo_GetAllMembers().length !== 0) throw new Error("still in the meeting");
	})()`)

	// Logged in elsewhere: LineOff(10), and the SDK is logged out.
	loginAcme(t, n, "web")
	p.run(`(async () => {
		const [code] = await T.wait("LineOff");
		if (code !== 10) throw new Error("LineOff " + code);
		CRVideo_GetUserStatus("after");
		const [c2, k2] = await T.wait("GetUserStatusFail");
		if (c2 !== 12 || k2 !== "after") throw new Error("GetUserStatusFail " + c2);
	})()`)
}
