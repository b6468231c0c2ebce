package e2e

import (
	"encoding/json"
	"net"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/crvnode/crvnode/web"
)

// goldenFrames is the table of frames the Go codec is held to
// (datachannel/golden_test.go).
const goldenFrames = "../datachannel/testdata/golden_frames.json"

// frameCheck runs the golden table through the SDK's frame codec (the
// transfer layer's _encode and _decode, there for this test): a valid
// frame must decode to exactly the fields of its type and encode from them
// to its bytes; an invalid one must decode to null, and nothing may throw.
const frameCheck = `((table) => {
  const T = { CMD: 1, OFFER: 2, CHUNK: 3, END: 4, CREDIT: 5, RESULT: 6, CANCEL: 7 };
  const enc = crvideo._transfer._encode, dec = crvideo._transfer._decode;
  const bytes = (h, zeros) => {
    const s = (h || "").replace(/ /g, "");
    const b = new Uint8Array(s.length / 2 + (zeros || 0));
    for (let i = 0; i < s.length / 2; i++) b[i] = parseInt(s.substr(2 * i, 2), 16);
    return b;
  };
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
  const show = (o) => {
    const s = JSON.stringify(o, (k, v) => v instanceof Uint8Array ? hex(v) : v);
    return s.length > 300 ? s.slice(0, 300) + "…" : s;
  };
  const canon = (o) => {
    const out = {};
    for (const k of Object.keys(o).sort()) out[k] = o[k] instanceof Uint8Array ? hex(o[k]) : o[k];
    return JSON.stringify(out);
  };
  const fails = [];
  for (const v of table.valid) {
    const b = bytes(v.hex, v.zeros), g = v.frame, type = T[g.type];
    const data = bytes(g.data, v.zeros), hash = bytes(g.hash);
    const n = (x) => x || 0;
    let want, encoded;
    switch (type) {
      case T.CMD: want = { peer: g.peer, data }; encoded = enc.cmd(g.taskID, g.peer, data); break;
      case T.OFFER: want = { kind: g.kind, peer: g.peer, total: n(g.total), name: g.name || "" }; encoded = enc.offer(g.taskID, g.kind, g.peer, n(g.total), g.name || ""); break;
      case T.CHUNK: want = { offset: n(g.offset), data }; encoded = enc.chunk(g.taskID, n(g.offset), data); break;
      case T.END: want = { sha: hash }; encoded = enc.end(g.taskID, hash); break;
      case T.CREDIT: want = { taken: n(g.taken), window: n(g.window) }; encoded = enc.credit(g.taskID, n(g.taken), n(g.window)); break;
      case T.RESULT: want = { code: n(g.code) }; encoded = enc.result(g.taskID, n(g.code)); break;
      case T.CANCEL: want = { by: g.by, code: n(g.code) }; encoded = enc.cancel(g.taskID, g.by, n(g.code)); break;
      default: fails.push(v.name + ": unknown type " + g.type); continue;
    }
    want.type = type;
    want.id = g.taskID;
    if (hex(encoded) !== hex(b)) fails.push(v.name + ": encodes to " + show(encoded));
    let f;
    try { f = dec(b.buffer); } catch (e) { fails.push(v.name + ": decode threw " + e); continue; }
    if (!f) fails.push(v.name + ": refused");
    else if (canon(f) !== canon(want)) fails.push(v.name + ": decodes to " + show(f) + ", want " + show(want));
  }
  for (const v of table.invalid) {
    let f;
    try { f = dec(bytes(v.hex, v.zeros).buffer); } catch (e) { fails.push(v.name + ": decode threw " + e); continue; }
    if (f !== null) fails.push(v.name + ": accepted as " + show(f));
  }
  return { valid: table.valid.length, invalid: table.invalid.length, fails };
})(%s)`

// The SDK encodes and decodes the frames of datachannel/FORMAT.md exactly
// as the Go codec does: the same golden table, the same bytes, the same
// fields, and the same frames refused.
func TestBrowserSDKFrames(t *testing.T) {
	needChromium(t)
	table, err := os.ReadFile(goldenFrames)
	must(t, err)
	srv := httptest.NewServer(web.Handler())
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	b := startBrowser(t)
	p := b.sdkPage("frames", webSite{base: "http://localhost:" + port})
	got := js[struct {
		Valid   int      `json:"valid"`
		Invalid int      `json:"invalid"`
		Fails   []string `json:"fails"`
	}](p, frameCheck, json.RawMessage(table))
	if got.Valid < 10 || got.Invalid < 20 {
		t.Fatalf("the page ran %d valid and %d invalid frames", got.Valid, got.Invalid)
	}
	for _, f := range got.Fails {
		t.Error(f)
	}
	t.Logf("%d valid and %d invalid frames, %d failures", got.Valid, got.Invalid, len(got.Fails))

	// A target no frame can carry is refused before anything is sent, as
	// the Go sender refuses it: 1102 (SENDDATA_TARGETINVALID).
	p.run(`(async () => {
		for (const [i, target] of ["", "b\nb", "b\u0085b", "u".repeat(129), "\ud800"].entries()) {
			crvideo._transfer.sendBuffer("bad-" + i, target, "x", "k" + i);
			const [, code, cookie] = await T.wait("SendBufferRlst", (id) => id === "bad-" + i);
			if (code !== 1102 || cookie !== "k" + i) throw new Error(JSON.stringify(target) + ": SendBufferRlst " + code);
		}
	})()`)
}
