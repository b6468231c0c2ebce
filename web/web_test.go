package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func get(t *testing.T, method, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, r)
	return w
}

func TestServesSDKWithCORS(t *testing.T) {
	for _, c := range []struct{ path, ctype string }{
		{"/sdk/crvideo.js", "text/javascript"},
		{"/sdk/crvideo.mjs", "text/javascript"},
		{"/sdk/crvideo.d.ts", "application/typescript"},
		{"/sdk/crvideo.d.mts", "application/typescript"},
	} {
		w := get(t, http.MethodGet, c.path, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d", c.path, w.Code)
		}
		if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, c.ctype) {
			t.Errorf("%s: Content-Type %q", c.path, got)
		}
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("%s: Access-Control-Allow-Origin %q", c.path, got)
		}
		if w.Body.Len() == 0 {
			t.Errorf("%s: empty", c.path)
		}
	}
}

func TestServesDemo(t *testing.T) {
	for _, p := range []string{"/", "/index.html", "/app.js", "/style.css"} {
		w := get(t, http.MethodGet, p, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d", p, w.Code)
		}
		if w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: the demo is not for other origins", p)
		}
		if w.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no CSP", p)
		}
	}
	if w := get(t, http.MethodGet, "/nope", nil); w.Code != http.StatusNotFound {
		t.Errorf("/nope: %d", w.Code)
	}
	if w := get(t, http.MethodPost, "/app.js", nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", w.Code)
	}
	if w := get(t, http.MethodOptions, "/sdk/crvideo.js", nil); w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("OPTIONS: %d %v", w.Code, w.Header())
	}
	if w := get(t, http.MethodHead, "/sdk/crvideo.js", nil); w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d bytes", w.Code, w.Body.Len())
	}
}

func TestETag(t *testing.T) {
	w := get(t, http.MethodGet, "/sdk/crvideo.js", nil)
	etag := w.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	w = get(t, http.MethodGet, "/sdk/crvideo.js", http.Header{"If-None-Match": {`"x", ` + etag}})
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Fatalf("If-None-Match: %d", w.Code)
	}
}

// The served crvideo.js is its parts, joined in the order of sdkParts, and
// every file under sdk/ is one of them.
func TestScriptIsItsParts(t *testing.T) {
	w := get(t, http.MethodGet, "/sdk/crvideo.js", nil)
	var want []byte
	listed := map[string]bool{}
	for i, p := range sdkParts {
		b, err := files.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(b, []byte("\n")) || bytes.HasSuffix(b, []byte("\n\n")) {
			t.Errorf("%s must end with one newline", p)
		}
		if i > 0 {
			want = append(want, '\n')
		}
		want = append(want, b...)
		listed[p] = true
	}
	if !bytes.Equal(w.Body.Bytes(), want) {
		t.Error("/sdk/crvideo.js is not its parts joined in order")
	}
	if got := w.Header().Get("Content-Length"); got != strconv.Itoa(len(want)) {
		t.Errorf("Content-Length %s, want %d", got, len(want))
	}
	sum := sha256.Sum256(want)
	if got := w.Header().Get("ETag"); got != `"`+hex.EncodeToString(sum[:12])+`"` {
		t.Errorf("ETag %s is not of the joined script", got)
	}
	entries, err := fs.ReadDir(files, "sdk")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if p := "sdk/" + e.Name(); !listed[p] {
			t.Errorf("%s is not in sdkParts: the served script leaves it out", p)
		}
	}
}

// script is the served crvideo.js.
func script(t *testing.T) []byte {
	t.Helper()
	return get(t, http.MethodGet, "/sdk/crvideo.js", nil).Body.Bytes()
}

// declarations reads crvideo.d.ts: every declared name, as "function",
// "callback" (a CRVideoCallback), the number a constant is declared as, or
// "object" for another constant.
func declarations(t *testing.T) map[string]string {
	t.Helper()
	dts, err := files.ReadFile("crvideo.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^declare (function|const) ([A-Za-z_][A-Za-z0-9_]*)(\(|: CRVideoCallback<|: (\d+);$)?`).FindAllSubmatch(dts, -1) {
		kind := "object"
		switch {
		case string(m[1]) == "function":
			kind = "function"
		case string(m[3]) == ": CRVideoCallback<":
			kind = "callback"
		case len(m[4]) > 0:
			kind = string(m[4])
		}
		kinds[string(m[2])] = kind
	}
	return kinds
}

var (
	callbackListRE = regexp.MustCompile(`\[((?:\s*'[A-Za-z]+',?)+)\s*\]\.forEach\(function \(n\) \{ defCallback\(n\); \}\)`)
	callbackDefRE  = regexp.MustCompile(`defCallback\('([A-Za-z]+)'(?:, '([A-Za-z]+)')?\);`)
	quotedRE       = regexp.MustCompile(`'([A-Za-z]+)'`)
)

// scriptCallbacks lists the callback objects the script makes with
// defCallback: the names of its list, then those it defines one by one
// (with their second names).
func scriptCallbacks(js []byte) []string {
	var names []string
	for _, l := range callbackListRE.FindAllSubmatch(js, -1) {
		for _, q := range quotedRE.FindAllSubmatch(l[1], -1) {
			names = append(names, "CRVideo_"+string(q[1]))
		}
	}
	for _, m := range callbackDefRE.FindAllSubmatch(js, -1) {
		for _, n := range m[1:] {
			if len(n) > 0 {
				names = append(names, "CRVideo_"+string(n))
			}
		}
	}
	return names
}

// Every declared name is defined by the script and exported by the module;
// every function and every callback object the script defines is declared
// as one.
func TestDeclarationsMatchScript(t *testing.T) {
	js := script(t)
	names := ExportedNames()
	if len(names) < 150 {
		t.Fatalf("only %d names declared", len(names))
	}
	mjs := get(t, http.MethodGet, "/sdk/crvideo.mjs", nil).Body.String()
	for _, n := range names {
		short := strings.TrimPrefix(strings.TrimPrefix(n, "CRVideo_"), "CRVIDEOSDK_")
		if !bytes.Contains(js, []byte(short)) {
			t.Errorf("%s is declared but crvideo.js never mentions %s", n, short)
		}
		if !strings.Contains(mjs, "export const "+n+" = ") {
			t.Errorf("crvideo.mjs does not export %s", n)
		}
	}
	decl := declarations(t)
	for _, m := range regexp.MustCompile(`api\.(CRVideo_[A-Za-z]+) = `).FindAllSubmatch(js, -1) {
		if n := string(m[1]); decl[n] != "function" {
			t.Errorf("crvideo.js defines the function %s, crvideo.d.ts declares it as %q", n, decl[n])
		}
	}
	callbacks := scriptCallbacks(js)
	if len(callbacks) < 60 {
		t.Fatalf("found only %d defCallback names in crvideo.js: does the test still read it right?", len(callbacks))
	}
	defined := map[string]bool{}
	for _, n := range callbacks {
		defined[n] = true
		if decl[n] != "callback" {
			t.Errorf("crvideo.js defines the callback %s, crvideo.d.ts declares it as %q", n, decl[n])
		}
	}
	for n, k := range decl {
		if k == "callback" && !defined[n] {
			t.Errorf("crvideo.d.ts declares the callback %s, crvideo.js does not define it with defCallback", n)
		}
	}
	dmts := get(t, http.MethodGet, "/sdk/crvideo.d.mts", nil).Body.String()
	if !strings.Contains(dmts, "export declare function CRVideo_Login(") || !strings.Contains(dmts, "export interface CRVideoMemberInfo") {
		t.Error("crvideo.d.mts does not export the declarations")
	}
}

// describeExports runs crvideo.js in Node.js and says what it exports,
// name by name, as declarations does.
const describeExports = `
globalThis.CRVIDEO_MODULE_EXPORTS = {};
require("vm").runInThisContext(require("fs").readFileSync(process.argv[1], "utf8"), { filename: "crvideo.js" });
const out = {};
for (const [k, v] of Object.entries(CRVIDEO_MODULE_EXPORTS)) {
  out[k] = typeof v === "function" ? "function" : typeof v === "number" ? String(v) :
    v && typeof v === "object" && "callback" in v && typeof v.name === "string" ? "callback" : "object";
}
console.log(JSON.stringify(out));
`

// What the script really exports, run in Node.js, is what crvideo.d.ts
// declares: the same names, each a function, a callback object, or a
// constant of the declared value.
func TestDeclarationsMatchExports(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CRVNODE_E2E_BROWSER") == "1" { // CI: Node.js is installed, so its absence is a failure
			t.Fatal("node is not installed: the exports are not run (CRVNODE_E2E_BROWSER=1 requires Node.js)")
		}
		t.Skip("node is not installed: the exports are not run; set CRVNODE_E2E_BROWSER=1 to make this a failure")
	}
	f := filepath.Join(t.TempDir(), "crvideo.js")
	if err := os.WriteFile(f, script(t), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, "-e", describeExports, f).Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node said %q: %v", out, err)
	}
	want := declarations(t)
	for n, k := range got {
		if want[n] != k {
			t.Errorf("crvideo.js exports %s as %s, crvideo.d.ts declares it as %q", n, k, want[n])
		}
	}
	for n, k := range want {
		if _, ok := got[n]; !ok {
			t.Errorf("crvideo.d.ts declares %s (%s), crvideo.js does not export it", n, k)
		}
	}
}

// The script and its module build parse (when Node.js is installed).
func TestJavaScriptSyntax(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CRVNODE_E2E_BROWSER") == "1" { // CI: Node.js is installed, so its absence is a failure
			t.Fatal("node is not installed: no JavaScript syntax check (CRVNODE_E2E_BROWSER=1 requires Node.js)")
		}
		t.Skip("node is not installed: no JavaScript syntax check; set CRVNODE_E2E_BROWSER=1 to make this a failure")
	}
	dir := t.TempDir()
	js, mjs := filepath.Join(dir, "crvideo.js"), filepath.Join(dir, "crvideo.mjs")
	for f, path := range map[string]string{js: "/sdk/crvideo.js", mjs: "/sdk/crvideo.mjs"} {
		if err := os.WriteFile(f, get(t, http.MethodGet, path, nil).Body.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{js, "app.js", mjs} {
		if out, err := exec.Command(node, "--check", f).CombinedOutput(); err != nil {
			t.Errorf("node --check %s: %v\n%s", f, err, out)
		}
	}
}
