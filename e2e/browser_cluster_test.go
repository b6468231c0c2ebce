package e2e

import (
	"net"
	"testing"

	"github.com/crvnode/crvnode/internal/redistest"
)

// Two browsers on two nodes of one service enter one meeting: the page
// logged in on node B is moved by the SDK to node A, which forwards the
// meeting's media, and both see each other's camera. The app sees one
// EnterMeetingRslt 0 and no LineOff or NetStateChanged.
func TestBrowserMeetingAcrossNodes(t *testing.T) {
	needChromium(t)
	rs := redistest.Start(t)
	nodes := startCluster(t, rs, 2)
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range nodes {
				t.Logf("node %c:\n%s", 'A'+i, p.log())
			}
		}
	})
	_, portA, _ := net.SplitHostPort(nodes[0].addr)
	_, portB, _ := net.SplitHostPort(nodes[1].addr)
	onA := webSite{base: "http://localhost:" + portA}
	onB := webSite{base: "http://localhost:" + portA, server: "localhost:" + portB} // served by A, logged in on B
	b := startBrowser(t)
	alice, bob := b.sdkPage("alice", onA), b.sdkPage("bob", onB)
	alice.login(onA, "alice")
	bob.login(onB, "bob")
	alice.run(`(async () => {
		CRVideo_CreateMeeting("Two nodes", 0, "cm");
		const [meet] = await T.wait("CreateMeetingSuccess");
		window.meet = meet;
		CRVideo_EnterMeeting(meet.ID, meet.pswd, "alice", "", "em");
		const [code] = await T.wait("EnterMeetingRslt");
		if (code !== 0) throw new Error("EnterMeetingRslt " + code);
	})()`)
	meetID := js[float64](alice, `meet.ID`)
	bob.run(`(async () => {
		CRVideo_EnterMeeting(%v, "", "bob", "", "em");
		const [code, cookie] = await T.wait("EnterMeetingRslt");
		if (code !== 0 || cookie !== "em") throw new Error("EnterMeetingRslt " + code + " " + cookie);
		if (CRVideo_GetAllMembers().length !== 2) throw new Error("members " + JSON.stringify(CRVideo_GetAllMembers()));
	})()`, meetID)
	alice.run(`T.wait("UserEnterMeeting", (id) => id === "bob")`)
	watchEachOther(alice, bob)
	bob.run(`(() => {
		const bad = T.events.filter((e) => ["LineOff", "NetStateChanged", "MeetingDropped"].includes(e.name));
		if (bad.length) throw new Error(JSON.stringify(bad));
	})()`)
	if got, _ := scrapeProc(nodes[0], `crvnode_session_moves_total{outcome="taken"}`); got != 1 {
		t.Fatalf("node A took %v sessions, want 1", got)
	}
}

// watchEachOther opens both pages' cameras, shows each the other's in a
// video object V, and checks that both play; it returns who watches whom.
func watchEachOther(alice, bob *page) map[*page]string {
	for _, p := range []*page{alice, bob} {
		p.run(`(async () => {
			CRVideo_OpenVideo(%s);
			await T.wait("VideoStatusChanged", (u, o, n) => u === %[1]s && n === 3);
		})()`, p.name)
	}
	watch := map[*page]string{alice: "bob", bob: "alice"}
	for p, other := range watch {
		p.run(`(async () => {
			await T.wait("VideoStatusChanged", (u, o, n) => u === %s && n === 3);
			window.V = T.video(%[1]s, 1);
		})()`, other)
	}
	for p, other := range watch {
		checkPlaying(p, other+"'s camera")
	}
	return watch
}
