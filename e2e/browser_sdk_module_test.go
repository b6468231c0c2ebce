package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
	"github.com/crvnode/crvnode/web"
)

// modulePage is an app written as an ES module: it imports the SDK from
// /sdk/crvideo.mjs, logs in, and calls a Go client. window.done holds what
// it saw, or the error that stopped it.
const modulePage = `<!doctype html><title>module app</title>
<script type="module">
import * as sdk from "/sdk/crvideo.mjs";
import crvideoModule, {
  CRVideo_Init, CRVideo_SetServerAddr, CRVideo_Login, CRVideo_LoginSuccess, CRVideo_LoginFail,
  CRVideo_Call, CRVideo_CallSuccess, CRVideo_CallFail, CRVIDEOSDK_NOERR, crvideo
} from "/sdk/crvideo.mjs";

// next resolves with the arguments of a callback's next call.
const next = (cb) => new Promise((resolve) => { cb.callback = (...args) => resolve(args); });
const failed = (cb, what) => next(cb).then((args) => { throw new Error(what + " " + JSON.stringify(args)); });
try {
  const names = Object.keys(sdk).filter((k) => k !== "default");
  const done = {
    globals: Object.keys(window).filter((k) => k.startsWith("CRVideo_") || k.startsWith("CRVIDEOSDK_") || k === "crvideo").length,
    exports: names.length,
    sameDefault: names.every((k) => crvideoModule[k] === sdk[k]),
    version: crvideo.version,
    noErr: CRVIDEOSDK_NOERR,
  };
  CRVideo_Init();
  CRVideo_SetServerAddr(%[1]q);
  const login = Promise.race([next(CRVideo_LoginSuccess), failed(CRVideo_LoginFail, "LoginFail")]);
  CRVideo_Login("acme", %[2]q, "Module", "module", "", "from-a-module");
  done.login = (await login).join("/");
  const call = Promise.race([next(CRVideo_CallSuccess), failed(CRVideo_CallFail, "CallFail")]);
  done.callID = CRVideo_Call("gopher", null, "from the module", "call");
  done.call = (await call).join("/");
  window.done = done;
} catch (e) {
  window.done = { error: String(e) };
}
</script>`

// An app that imports the ES module build (crvideo.mjs) gets every name as
// an export and no global, logs in through it and gets its callback, and
// calls a Go client, who is rung.
func TestBrowserSDKModule(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{})
	_, port, _ := net.SplitHostPort(n.Addr())
	gopher := loginAcme(t, n, "gopher")

	mux := http.NewServeMux()
	mux.Handle("/sdk/", web.Handler())
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, modulePage, "localhost:"+port, md5hex("acme-secret"))
	})
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)
	_, appPort, _ := net.SplitHostPort(app.Listener.Addr().String())

	b := startBrowser(t)
	p := b.page("module")
	p.do(chromedp.Navigate("http://localhost:" + appPort + "/"))
	poll(p, "the module app", `window.done !== undefined`)
	got := js[struct {
		Error       string `json:"error"`
		Globals     int    `json:"globals"`
		Exports     int    `json:"exports"`
		SameDefault bool   `json:"sameDefault"`
		Version     string `json:"version"`
		NoErr       int    `json:"noErr"`
		Login       string `json:"login"`
		CallID      string `json:"callID"`
		Call        string `json:"call"`
	}](p, `window.done`)
	if got.Error != "" {
		t.Fatalf("the module app: %s", got.Error)
	}
	if want := len(web.ExportedNames()); got.Exports != want || !got.SameDefault || got.Globals != 0 {
		t.Errorf("%d exports (want %d), default export the same: %v, %d globals (want none)", got.Exports, want, got.SameDefault, got.Globals)
	}
	if got.Version == "" || got.NoErr != 0 {
		t.Errorf("crvideo.version %q, CRVIDEOSDK_NOERR %d", got.Version, got.NoErr)
	}
	if got.Login != "module/from-a-module" || got.Call != got.CallID+"/call" {
		t.Errorf("LoginSuccess(%s), CallSuccess(%s) for call %s", got.Login, got.Call, got.CallID)
	}
	in := gopher.waitData(protocol.EventNotifyCallIn, nil).(*protocol.NotifyCallIn)
	if in.CallID != got.CallID || in.CallerID != "module" || in.UsrExtDat != "from the module" {
		t.Fatalf("gopher's notifyCallIn %+v", in)
	}
}
