package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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

// Every declared name is defined by the script and exported by the module.
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
	// Every function the script defines is declared.
	declared := map[string]bool{}
	for _, n := range names {
		declared[n] = true
	}
	for _, m := range regexp.MustCompile(`api\.(CRVideo_[A-Za-z]+) = `).FindAllSubmatch(js, -1) {
		if n := string(m[1]); !declared[n] {
			t.Errorf("crvideo.js defines %s, crvideo.d.ts does not declare it", n)
		}
	}
	dmts := get(t, http.MethodGet, "/sdk/crvideo.d.mts", nil).Body.String()
	if !strings.Contains(dmts, "export declare function CRVideo_Login(") || !strings.Contains(dmts, "export interface CRVideoMemberInfo") {
		t.Error("crvideo.d.mts does not export the declarations")
	}
}

// The script and its module build parse (when Node.js is installed).
func TestJavaScriptSyntax(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: no JavaScript syntax check")
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
