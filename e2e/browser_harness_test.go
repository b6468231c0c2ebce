package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/web"
)

// Browser tests drive the SDK (/sdk/crvideo.js, assembled from web/sdk/) and the demo in headless
// Chromium. Without Chromium they are skipped, unless CRVNODE_E2E_BROWSER=1
// makes a missing browser a failure (CI sets it).
const (
	browserEnv     = "CRVNODE_E2E_BROWSER"
	browserTimeout = 3 * time.Minute // hard limit of one browser test
	jsWait         = 20 * time.Second
)

// chromiumPath finds the browser: $CRVNODE_CHROMIUM, else Debian's chromium
// or another Chrome on the PATH.
func chromiumPath() string {
	if p := os.Getenv("CRVNODE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func needChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() && os.Getenv(browserEnv) != "1" {
		t.Skip("browser tests are not short")
	}
	p := chromiumPath()
	if p == "" {
		msg := "Chromium not found: install the Debian package chromium (apt-get install chromium) to run the browser tests"
		if os.Getenv(browserEnv) == "1" {
			t.Fatal(msg + " (" + browserEnv + "=1 requires it)")
		}
		t.Skip(msg + "; set " + browserEnv + "=1 to make this a failure")
	}
	return p
}

// browser is one headless Chromium with a fresh profile, closed when the
// test ends.
type browser struct {
	t   *testing.T
	ctx context.Context // the browser's first tab
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("use-fake-device-for-media-stream", "device-count=3"),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		// Tabs of one browser are all in the foreground for the tests.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.WindowSize(1280, 800),
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(ctx, opts...) // a fresh --user-data-dir, removed at the end
	bctx, bcancel := chromedp.NewContext(allocCtx)
	stop := func() {
		_ = chromedp.Cancel(bctx) // closes Chromium and waits for it
		bcancel()
		allocCancel()
		cancel()
	}
	if err := chromedp.Do(bctx); err != nil {
		stop()
		t.Fatalf("start %s: %v", path, err)
	}
	t.Cleanup(stop)
	return &browser{t: t, ctx: bctx}
}

// page is one tab, with its console kept for failure reports.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu  sync.Mutex
	log []string
}

// page opens a tab; it closes before the browser does.
func (b *browser) page(name string) *page {
	t := b.t
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	p := &page{t: t, name: name, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("%s: open tab: %v", name, err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for ev, err := range chromedp.Events(ctx, runtime.ConsoleAPICalled) {
			if err != nil {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			p.addLog(string(ev.Type) + ": " + strings.Join(parts, " "))
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range chromedp.Events(ctx, runtime.ExceptionThrown) {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			p.addLog(fmt.Sprintf("exception: %s (%s:%d)", text, d.URL, d.LineNumber+1))
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if t.Failed() {
			p.mu.Lock()
			for _, l := range p.log {
				t.Logf("%s console: %s", name, l)
			}
			p.mu.Unlock()
		}
	})
	return p
}

func (p *page) addLog(s string) {
	p.mu.Lock()
	if len(p.log) < 500 {
		p.log = append(p.log, s)
	}
	p.mu.Unlock()
}

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// js runs a script (awaiting the promise it returns) and decodes its value.
func js[T any](p *page, script string, args ...any) T {
	p.t.Helper()
	if len(args) > 0 {
		script = fmt.Sprintf(script, jsArgs(args)...)
	}
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		var ee *chromedp.ExceptionError
		if errors.As(err, &ee) {
			p.t.Fatalf("%s: script failed: %v\n%s", p.name, err, script)
		}
		p.t.Fatalf("%s: %v", p.name, err)
	}
	return v
}

// jsArgs turns Go values into JavaScript literals for %s verbs.
func jsArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			panic(err)
		}
		out[i] = string(b)
	}
	return out
}

func (p *page) run(script string, args ...any) {
	p.t.Helper()
	js[chromedp.Void](p, script, args...)
}

// sdkHarness loads the SDK into a page of the node's web origin and
// records every callback, so that tests can wait for them: T.wait(name,
// predicate) resolves with the arguments of the first matching callback
// not yet waited for.
const sdkHarness = `(async () => {
  if (!window.CRVideo_Login) {
    await new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/sdk/crvideo.js';
      s.onload = resolve;
      s.onerror = () => reject(new Error('cannot load the SDK'));
      document.head.appendChild(s);
    });
  }
  const T = window.T = { events: [], waiters: [] };
  const record = (name) => (...args) => {
    const e = { name, args, t: performance.now(), used: false };
    T.events.push(e);
    for (const w of T.waiters.slice()) {
      if (!e.used && w.name === name && w.pred(...args)) {
        e.used = true;
        T.waiters.splice(T.waiters.indexOf(w), 1);
        w.resolve(args);
      }
    }
  };
  for (const k of Object.keys(window)) {
    const o = window[k];
    if (k.startsWith('CRVideo_') && o && typeof o === 'object' && 'callback' in o) o.callback = record(o.name.slice(8));
  }
  T.wait = (name, pred, ms) => new Promise((resolve, reject) => {
    pred = pred || (() => true);
    const e = T.events.find((e) => !e.used && e.name === name && pred(...e.args));
    if (e) { e.used = true; resolve(e.args); return; }
    const w = { name, pred, resolve };
    T.waiters.push(w);
    setTimeout(() => {
      const i = T.waiters.indexOf(w);
      if (i < 0) return;
      T.waiters.splice(i, 1);
      reject(new Error('timeout waiting for ' + name + '; callbacks so far: ' +
        T.events.map((e) => e.name + JSON.stringify(e.args)).join(' ').slice(-2000)));
    }, ms || 20000);
  });
  T.sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  T.until = async (f, ms, what) => {
    const end = performance.now() + (ms || 20000);
    for (;;) {
      const v = f();
      if (v) return v;
      if (performance.now() > end) throw new Error('timeout: ' + what);
      await T.sleep(20);
    }
  };
  T.video = (uid, vid) => {
    const o = CRVideo_CreatVideoObj();
    const h = o.handler();
    h.style.width = '320px';
    h.style.height = '180px';
    document.body.appendChild(h);
    o.setVideo(uid, vid || 1);
    return o;
  };
  // T.playing waits for a video object's picture, then checks that it moves.
  T.playing = async (o, ms) => {
    const v = o.handler().querySelector('video');
    await T.until(() => v.videoWidth > 0 && v.readyState >= 2, ms, 'a video frame');
    const t0 = v.currentTime;
    await T.sleep(700);
    return { width: v.videoWidth, height: v.videoHeight, t0, t1: v.currentTime };
  };
  T.login = async (server, app, secretMD5, userID, nick) => {
    CRVideo_SetServerAddr(server);
    CRVideo_Login(app, secretMD5, nick, userID, ' ', 'login-' + userID);
    const [id, cookie] = await T.wait('LoginSuccess');
    if (id !== userID || cookie !== 'login-' + userID) throw new Error('LoginSuccess(' + id + ', ' + cookie + ')');
    return id;
  };
  return true;
})()`

// sdkPage opens a tab on the web origin with the SDK and the harness.
func (b *browser) sdkPage(name string, w webSite) *page {
	p := b.page(name)
	p.do(chromedp.Navigate(w.base + "/sdk/crvideo.js"))
	p.run(sdkHarness)
	return p
}

// login logs the page in as userID of the app acme.
func (p *page) login(w webSite, userID string) {
	p.t.Helper()
	p.run(`T.login(%s, "acme", %s, %s, %s)`, w.server, md5hex("acme-secret"), userID, "Nick "+userID)
}

// webSite is where pages come from and which node they connect to.
type webSite struct {
	base   string // http://localhost:<port>: a secure context, as getUserMedia needs
	server string // for CRVideo_SetServerAddr; "" when the node serves the pages itself
}

// webFor serves the SDK and demo for node n: from the node itself when it
// mounts web.Handler, otherwise from a server of the test's own.
func webFor(t *testing.T, n *node.Node) webSite {
	t.Helper()
	_, port, _ := net.SplitHostPort(n.Addr())
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("http://" + n.Addr() + "/sdk/crvideo.js")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
			return webSite{base: "http://localhost:" + port}
		}
	}
	srv := httptest.NewServer(web.Handler())
	t.Cleanup(srv.Close)
	_, sport, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return webSite{base: "http://localhost:" + sport, server: "localhost:" + port}
}
