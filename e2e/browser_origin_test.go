package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crvnode/crvnode/node"
)

// TestBrowserCrossOriginApp is a customer's web app on its own origin: it
// loads crvideo.js from the node and logs in through the node's WebSocket.
func TestBrowserCrossOriginApp(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{})
	_, port, _ := net.SplitHostPort(n.Addr())
	nodeHost := "localhost:" + port

	resp, err := http.Get("http://" + n.Addr() + "/sdk/crvideo.js")
	must(t, err)
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Fatalf("/sdk/crvideo.js has Access-Control-Allow-Origin %q, want *", got)
	}

	page := fmt.Sprintf(`<!doctype html><title>customer app</title>
<script src="http://%[1]s/sdk/crvideo.js"></script>
<script>
CRVideo_Init();
CRVideo_SetServerAddr(%[2]q);
CRVideo_LoginSuccess.callback = function (userID, cookie) { window.result = userID + "/" + cookie; };
CRVideo_LoginFail.callback = function (sdkEr, cookie) { window.result = "fail " + sdkEr; };
CRVideo_Login("acme", %[3]q, "Customer", "xorigin", "", "from-another-origin");
</script>`, nodeHost, nodeHost, md5hex("acme-secret"))
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(app.Close)

	b := startBrowser(t)
	p := b.page("customer")
	p.do(chromedp.Navigate(app.URL + "/")) // 127.0.0.1:<other port>: another origin than the node's
	var result string
	deadline := time.Now().Add(20 * time.Second)
	for result == "" && time.Now().Before(deadline) {
		result = js[string](p, `window.result || ""`)
		time.Sleep(50 * time.Millisecond)
	}
	if result != "xorigin/from-another-origin" {
		t.Fatalf("login from another origin: %q", result)
	}
}
