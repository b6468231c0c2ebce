package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
)

// screenshotEnv makes TestBrowserDemo write its screenshot to
// docs/demo.png (the tree is not written to otherwise).
const screenshotEnv = "CRVNODE_UPDATE_SCREENSHOT"

// demoLogin signs a demo page in through its form.
func demoLogin(p *page, site webSite, userID, nick string, width, height int64) {
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.EmulateViewport(width, height),
		chromedp.Navigate(site.base + "/"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.SetValue(chromedp.ID("login-nick"), nick),
		chromedp.SetValue(chromedp.ID("login-user"), userID),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("login-advanced").open = true`),
	}
	if site.server != "" { // empty: the page's own host, which serves the node
		steps = append(steps, chromedp.SetValue(chromedp.ID("login-server"), site.server))
	}
	steps = append(steps,
		chromedp.SetValue(chromedp.ID("login-app"), "acme"),
		chromedp.SetValue(chromedp.ID("login-secret"), "acme-secret"),
		chromedp.Click(chromedp.ID("login-button")),
		chromedp.WaitVisible(chromedp.ID("app-view")),
	)
	p.do(steps...)
}

func poll(p *page, what, expr string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(jsWait))); err != nil {
		p.t.Fatalf("%s: waiting for %s: %v", p.name, what, err)
	}
}

// The demo app, driven through its UI: two people sign in, one calls the
// other from the people list, the call is accepted, both see each other,
// chat and send a file. The caller's window is the screenshot.
func TestBrowserDemo(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{})
	site := webFor(t, n)
	// Colleagues for the people list: one available, one with do-not-disturb, one offline.
	loginAcme(t, n, "linus")
	dnd := loginAcme(t, n, "margaret")
	must(t, dnd.SetDNDStatus(ctxTimeout(t, eventWait), 1))
	must(t, loginAcme(t, n, "ken").Logout(ctxTimeout(t, eventWait)))

	b := startBrowser(t)
	ada, grace := b.page("ada"), b.page("grace")
	demoLogin(ada, site, "ada", "Ada Lovelace", 1440, 900)
	demoLogin(grace, site, "grace", "Grace Hopper", 1280, 800)
	poll(ada, "the people list", `document.querySelectorAll("#people-list .person").length === 4`)

	// Ada calls Grace; Grace accepts.
	ada.do(
		chromedp.WaitEnabled(chromedp.CSS(`#people-list button[data-uid="grace"]`)),
		chromedp.Click(chromedp.CSS(`#people-list button[data-uid="grace"]`)),
	)
	grace.do(
		chromedp.WaitVisible(chromedp.ID("incoming")),
		chromedp.Click(chromedp.ID("incoming-accept")),
	)
	poll(ada, "Grace's video", tilePlaying("grace"))
	poll(grace, "Ada's video", tilePlaying("ada"))
	poll(ada, "her own camera", tilePlaying("ada"))
	poll(ada, "the call banner", `!document.getElementById("call-banner").hidden`)

	// Chat, to everyone in the meeting and in private.
	say := func(p *page, to, text string) {
		p.do(
			chromedp.SetValue(chromedp.ID("chat-to"), to),
			chromedp.SetValue(chromedp.ID("chat-input"), text),
			chromedp.Click(chromedp.CSS(`#chat-form button`)),
		)
	}
	say(grace, "*", "Hi Ada! Can you see my screen share in a minute?")
	poll(ada, "Grace's message", `document.getElementById("chat-log").textContent.includes("Can you see my screen")`)
	say(ada, "*", "Loud and clear. Sending you the roadmap now.")
	say(ada, "linus", "Linus, join us when you can?")
	poll(grace, "Ada's message", `document.getElementById("chat-log").textContent.includes("Loud and clear")`)

	// Grace shares her screen.
	grace.do(chromedp.Click(chromedp.ID("screen-button")))
	poll(ada, "Grace's screen", `(() => { const v = document.querySelector('.tile.screen[data-uid="grace"] video'); return v && v.videoWidth > 0; })()`)

	// Grace picks her other camera in the Devices panel; Ada keeps seeing her.
	grace.do(chromedp.Click(chromedp.ID("devices-button")))
	poll(grace, "the camera list", `[...document.querySelectorAll("#dev-camera option")].some((o) => o.textContent === "fake_device_2")`)
	other := js[string](grace, `[...document.querySelectorAll("#dev-camera option")].find((o) => o.textContent === "fake_device_2").value`)
	grace.do(chromedp.SetValue(chromedp.ID("dev-camera"), other))
	grace.run(`document.getElementById("dev-camera").dispatchEvent(new Event("change"))`)
	poll(grace, "the other camera to be sent", `crvideo.peerConnections().up.getSenders().some((s) => s.track && s.track.kind === "video" && s.track.getSettings().deviceId === `+strconv.Quote(other)+`)`)
	grace.do(chromedp.Click(chromedp.ID("devices-button")))
	poll(ada, "Grace's video from her other camera", tilePlaying("grace"))

	// A file from Ada to Grace.
	file := filepath.Join(t.TempDir(), "Q3-roadmap.pdf")
	must(t, os.WriteFile(file, bytes.Repeat([]byte("%PDF-1.7 crvnode demo\n"), 60_000), 0o600))
	ada.do(
		chromedp.SetValue(chromedp.ID("file-to"), "grace"),
		chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{file}),
	)
	poll(ada, "the file to be sent", `document.querySelector("#transfers .transfer.done") !== null`)
	poll(grace, "the file", `(() => { const a = document.querySelector('#transfers a[download="Q3-roadmap.pdf"]'); return a && a.href.startsWith("blob:"); })()`)

	// Presence in Ada's list: Grace in a meeting, Margaret with do-not-disturb, Ken offline.
	for uid, class := range map[protocol.UserID]string{"grace": "s3", "linus": "s1", "margaret": "s1", "ken": "s0"} {
		poll(ada, uid+"'s status", `document.querySelector('#people-list .person.`+class+`[data-uid="`+uid+`"]') !== null`)
	}
	if !js[bool](ada, `document.querySelector('#people-list .person[data-uid="margaret"] .dnd') !== null`) {
		t.Fatal("Margaret's do-not-disturb is not shown")
	}

	// The screenshot, once the notifications have faded.
	poll(ada, "quiet", `document.querySelectorAll(".toast").length === 0`)
	screenshot(t, ada, "demo.png")

	// Grace hangs up: both leave the meeting.
	grace.do(chromedp.Click(chromedp.ID("call-banner-hangup")))
	poll(ada, "the end of the call", `document.getElementById("stage").hidden && document.getElementById("call-banner").hidden`)
	poll(grace, "the end of the call", `document.getElementById("stage").hidden`)
}

// tilePlaying is a page expression: the demo's tile of uid shows playing video.
func tilePlaying(uid string) string {
	return `(() => { const v = document.querySelector('.tile[data-uid="` + uid + `"] video'); return v && v.videoWidth > 0 && !v.paused; })()`
}

// screenshot takes a picture of p, checks it is one, and writes it to
// docs/name when CRVNODE_UPDATE_SCREENSHOT=1.
func screenshot(t *testing.T, p *page, name string) {
	t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	must(t, err)
	if !bytes.HasPrefix(png, []byte("\x89PNG")) || len(png) < 20_000 {
		t.Fatalf("screenshot: %d bytes", len(png))
	}
	if os.Getenv(screenshotEnv) == "1" {
		must(t, os.WriteFile(filepath.Join("..", "docs", name), png, 0o644))
		t.Logf("wrote docs/%s (%d bytes)", name, len(png))
	}
}
