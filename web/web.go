// Package web serves crvnode's browser SDK and its demo web app, embedded
// in the binary: the SDK at /sdk/ (crvideo.js, its ES module build
// crvideo.mjs, and TypeScript declarations), the demo at /.
//
// The SDK is plain JavaScript with no build step. Its source is a few
// files under sdk/ (see sdkParts); when the package loads, it joins them
// into the one classic script served as crvideo.js, and makes crvideo.mjs
// from that script, so the two never differ.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
)

//go:embed sdk crvideo.d.ts index.html app.js style.css
var files embed.FS

// sdkParts are the SDK's source files, in the order crvideo.js joins them.
// head.js opens the one function scope they all share and tail.js closes
// it; each part between may use what the parts before it define.
var sdkParts = []string{
	"sdk/head.js",     // the header, the scope, the namespace
	"sdk/core.js",     // error codes, helpers, callback objects, the WebSocket and JSON-RPC
	"sdk/login.js",    // the session: login, logout, server address; presence
	"sdk/meetings.js", // meetings and the member list
	"sdk/calls.js",    // calls and invites, and the call in progress (SessionInfo)
	"sdk/queue.js",    // the queue component (CloudroomQueue)
	"sdk/media.js",    // the up and down PeerConnections, local and remote tracks
	"sdk/devices.js",  // mic, camera, screen: capture, settings, simulcast, open and close
	"sdk/video.js",    // video objects (camera and screen share) and diagnostics
	"sdk/transfer.js", // SendCmd/SendBuffer/SendFile and the frames of datachannel/FORMAT.md
	"sdk/sha256.js",   // the SHA-256 of file transfers
	"sdk/gen2.js",     // the current generation's names, and those not implemented
	"sdk/events.js",   // the node's events
	"sdk/tail.js",     // the exports
}

// asset is one file served, with its validator.
type asset struct {
	body        []byte
	contentType string
	etag        string
	sdk         bool // under /sdk/: other origins may load it
}

const (
	typeJS   = "text/javascript; charset=utf-8"
	typeTS   = "application/typescript; charset=utf-8"
	typeHTML = "text/html; charset=utf-8"
	typeCSS  = "text/css; charset=utf-8"
)

// demoCSP confines the demo page to its own scripts; it may connect to any
// node (its server field) and show media and received files (blob: URLs).
const demoCSP = "default-src 'self'; connect-src 'self' ws: wss: http: https:; img-src 'self' data: blob:; " +
	"media-src 'self' blob: mediastream:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"

var (
	loadOnce sync.Once
	assets   map[string]*asset
)

func load() {
	read := func(name string) []byte {
		b, err := files.ReadFile(name)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		return b
	}
	js, dts := assemble(read), read("crvideo.d.ts")
	names := ExportedNames()
	assets = map[string]*asset{
		"/sdk/crvideo.js":    {body: js, contentType: typeJS, sdk: true},
		"/sdk/crvideo.mjs":   {body: moduleBuild(js, names), contentType: typeJS, sdk: true},
		"/sdk/crvideo.d.ts":  {body: dts, contentType: typeTS, sdk: true},
		"/sdk/crvideo.d.mts": {body: moduleDeclarations(dts), contentType: typeTS, sdk: true},
		"/":                  {body: read("index.html"), contentType: typeHTML},
		"/index.html":        {body: read("index.html"), contentType: typeHTML},
		"/app.js":            {body: read("app.js"), contentType: typeJS},
		"/style.css":         {body: read("style.css"), contentType: typeCSS},
	}
	for _, a := range assets {
		sum := sha256.Sum256(a.body)
		a.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	}
}

// assemble joins the SDK's parts into crvideo.js: each part as it is, in
// the order of sdkParts, one empty line between two.
func assemble(read func(string) []byte) []byte {
	var b bytes.Buffer
	for i, p := range sdkParts {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.Write(read(p))
	}
	return b.Bytes()
}

// Handler serves the SDK under /sdk/ (with CORS, for pages of any origin)
// and the demo app at /. Mount it at "/" of the node's mux: the node's own
// paths (/ws, /healthz, /metrics) are more specific and keep precedence.
func Handler() http.Handler {
	loadOnce.Do(load)
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	a := assets[r.URL.Path]
	if a == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	if a.sdk {
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	} else {
		h.Set("Content-Security-Policy", demoCSP)
		h.Set("Referrer-Policy", "no-referrer")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		if a.sdk {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			h.Set("Access-Control-Max-Age", "86400")
		}
		h.Set("Allow", "GET, HEAD, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		h.Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache") // revalidate: the SDK must match the node serving it
	h.Set("ETag", a.etag)
	if etagMatch(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(a.body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(a.body)
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

var declRE = regexp.MustCompile(`(?m)^declare (?:function|const) ([A-Za-z_][A-Za-z0-9_]*)`)

// ExportedNames lists the names crvideo.js defines, as its declaration
// file crvideo.d.ts declares them, each once, in file order.
func ExportedNames() []string {
	b, err := files.ReadFile("crvideo.d.ts")
	if err != nil {
		panic(err)
	}
	var names []string
	seen := map[string]bool{}
	for _, m := range declRE.FindAllSubmatch(b, -1) {
		if n := string(m[1]); !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names
}

// moduleBuild makes the ES module build: the classic script, run with the
// module's own export object as its target, and one export per name.
func moduleBuild(js []byte, names []string) []byte {
	var b bytes.Buffer
	b.WriteString("// crvideo.mjs: the ES module build of crvideo.js, made by the node from it.\n")
	b.WriteString("const CRVIDEO_MODULE_EXPORTS = {};\n")
	b.Write(js)
	b.WriteString("\n")
	for _, n := range names {
		fmt.Fprintf(&b, "export const %s = CRVIDEO_MODULE_EXPORTS.%s;\n", n, n)
	}
	b.WriteString("export default CRVIDEO_MODULE_EXPORTS;\n")
	return b.Bytes()
}

var (
	topDeclRE  = regexp.MustCompile(`(?m)^declare (function|const) `)
	topTypeRE  = regexp.MustCompile(`(?m)^(interface|type) `)
	defaultDTS = "\ndeclare const crvideoModule: { readonly [name: string]: unknown };\nexport default crvideoModule;\n"
)

// moduleDeclarations turns the global declarations into those of the
// module build (crvideo.d.mts).
func moduleDeclarations(dts []byte) []byte {
	s := topDeclRE.ReplaceAll(dts, []byte("export declare $1 "))
	s = topTypeRE.ReplaceAll(s, []byte("export $1 "))
	return append(s, defaultDTS...)
}
