package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
)

// transferHelpers are page functions of the transfer tests: random
// content and its SHA-256. The transfer channel opens with the first
// transfer that needs it (the sender's send, the node's upNeeded).
const transferHelpers = `(() => {
  T.random = (n) => {
    const b = new Uint8Array(n);
    for (let o = 0; o < n; o += 65536) crypto.getRandomValues(b.subarray(o, Math.min(n, o + 65536)));
    return b;
  };
  T.sha = async (data) => {
    const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
  };
  return true;
})()`

// Two browsers send each other commands, a buffer and files over the
// node's relay, with progress, a cancelled transfer and a refused target.
func TestBrowserTransfers(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{})
	site := webFor(t, n)
	b := startBrowser(t)
	alice, bob := b.sdkPage("alice", site), b.sdkPage("bob", site)
	alice.login(site, "alice")
	bob.login(site, "bob")
	alice.run(transferHelpers)
	bob.run(transferHelpers)

	// A command.
	alice.run(`(async () => {
		const id = CRVideo_SendCmd("bob", "hello bob", "c1");
		const [tid, code, cookie] = await T.wait("SendCmdRlst", (tid) => tid === id);
		if (code !== 0 || cookie !== "c1") throw new Error("SendCmdRlst " + code);
	})()`)
	bob.run(`T.wait("NotifyCmdData", (from, data) => from === "alice" && data === "hello bob")`)

	// A buffer of 1 MB of text.
	alice.run(`(async () => {
		window.text = Array.from({ length: 20000 }, (_, i) => "line " + i + " of the buffer\n").join("");
		const id = CRVideo_SendBuffer("bob", text, "b1");
		const [, code, cookie] = await T.wait("SendBufferRlst", (tid) => tid === id);
		if (code !== 0 || cookie !== "b1") throw new Error("SendBufferRlst " + code);
	})()`)
	size := js[int](alice, `text.length`)
	got := js[int](bob, `T.wait("NotifyBufferData", (from) => from === "alice").then(([, data]) => data.length)`)
	if got != size {
		t.Fatalf("buffer: sent %d bytes, got %d", size, got)
	}

	// A file of 8 MB, with progress and its content checked.
	start := time.Now()
	alice.run(`(async () => {
		const data = T.random(8 << 20);
		window.fileSHA = await T.sha(data);
		const id = CRVideo_SendFile("bob", new File([data], "report.bin"), "f1");
		const [, name, code, cookie] = await T.wait("SendFileRlst", (tid) => tid === id, 60000);
		if (code !== 0 || name !== "report.bin" || cookie !== "f1") throw new Error("SendFileRlst " + code + " " + name);
		const progress = T.events.filter((e) => e.name === "SendProgress" && e.args[0] === id).map((e) => e.args[1]);
		if (!progress.length || progress[progress.length - 1] !== (8 << 20) || progress.some((p, i) => i && p < progress[i - 1])) {
			throw new Error("progress " + progress.join(","));
		}
	})()`)
	took := time.Since(start)
	bobSHA := js[string](bob, `(async () => {
		const [from, url, name] = await T.wait("NotifyFileData", (from) => from === "alice");
		if (name !== "report.bin" || !url.startsWith("blob:")) throw new Error("NotifyFileData " + url + " " + name);
		return T.sha(await (await fetch(url)).arrayBuffer());
	})()`)
	if aliceSHA := js[string](alice, `fileSHA`); bobSHA != aliceSHA {
		t.Fatalf("file: sent %s, got %s", aliceSHA, bobSHA)
	}
	t.Logf("8 MiB browser to browser through the node in %v (%.1f MB/s)", took.Round(time.Millisecond), 8.0*1.048576/took.Seconds())

	// A cancelled file: the receiver is told, the sender gets no result.
	cancelled := js[string](alice, `(async () => {
		const id = CRVideo_SendFile("bob", new File([T.random(48 << 20)], "big.bin"), "f2");
		await T.wait("SendProgress", (tid) => tid === id, 30000);
		CRVideo_CancelSend(id, "x");
		const [, code, cookie] = await T.wait("CancelSendRlst", (tid) => tid === id);
		if (code !== 0 || cookie !== "x") throw new Error("CancelSendRlst " + code);
		await T.sleep(300);
		if (T.events.some((e) => e.name === "SendFileRlst" && e.args[0] === id)) throw new Error("a result after the cancel");
		return id;
	})()`)
	bob.run(`T.wait("NotifyCancelSend", (id) => id === %s)`, cancelled)
	if js[bool](bob, `T.events.some((e) => e.name === "NotifyFileData" && e.args[2] === "big.bin")`) {
		t.Fatal("bob got the cancelled file")
	}

	// Once every byte is acknowledged the END has gone: a cancel is refused
	// (1104) and the transfer's own result follows.
	alice.run(`(async () => {
		const id = CRVideo_SendBuffer("bob", "late cancel", "b2");
		await T.wait("SendProgress", (tid, sent, total) => tid === id && sent === total);
		CRVideo_CancelSend(id, "y");
		const [, code] = await T.wait("CancelSendRlst", (tid) => tid === id);
		if (code !== 1104) throw new Error("CancelSendRlst after END: " + code);
		const [, rc] = await T.wait("SendBufferRlst", (tid) => tid === id);
		if (rc !== 0) throw new Error("SendBufferRlst " + rc);
	})()`)
	bob.run(`T.wait("NotifyBufferData", (from, data) => data === "late cancel")`)

	// Nobody there: the node refuses.
	alice.run(`(async () => {
		const id = CRVideo_SendCmd("nobody", "x", "");
		const [, code] = await T.wait("SendCmdRlst", (tid) => tid === id);
		if (code !== 1102) throw new Error("SendCmdRlst to nobody: " + code);
		const [, c2] = await T.wait("CancelSendRlst", (tid) => tid === "no-such-task", 100).catch(() => [0, 1104]);
		if (c2 !== 1104) throw new Error("cancel");
	})()`)
}

// A browser and a Go client send each other commands and files.
func TestBrowserTransfersWithGoClient(t *testing.T) {
	needChromium(t)
	n := startMediaNode(t, node.FileConfig{})
	site := webFor(t, n)
	b := startBrowser(t)
	br := b.sdkPage("web", site)
	br.login(site, "web")
	br.run(transferHelpers)

	dir := t.TempDir()
	u := &user{t: t, events: make(chan client.Event, 4096)}
	c, err := client.Dial(ctxTimeout(t, eventWait), "ws://"+n.Addr()+"/ws", client.Options{
		TransferDir: dir,
		Handler: func(ev client.Event) {
			if ev.Method == client.EventSendProgress {
				return
			}
			select {
			case u.events <- ev:
			default:
			}
		},
	})
	must(t, err)
	u.Client = c
	t.Cleanup(func() { _ = c.Close() })
	ctx := ctxTimeout(t, browserTimeout)
	_, err = c.Login(ctx, protocol.LoginParams{AppID: "acme", AppSecret: md5hex("acme-secret"), UserID: "gopher", NickName: "Gopher"})
	must(t, err)
	must(t, c.ConnectMedia(ctx)) // opens the transfer channel

	// Commands both ways.
	id, err := c.SendCmd(ctx, "web", []byte("hello browser"))
	must(t, err)
	u.waitData(client.EventSendCmdRlst, func(d any) bool {
		r := d.(*datachannel.Result)
		return string(r.TaskID) == id && r.Code == 0
	})
	br.run(`T.wait("NotifyCmdData", (from, data) => from === "gopher" && data === "hello browser")`)
	br.run(`(async () => {
		const id = CRVideo_SendCmd("gopher", "hello Go", "");
		const [, code] = await T.wait("SendCmdRlst", (tid) => tid === id);
		if (code !== 0) throw new Error("SendCmdRlst " + code);
	})()`)
	u.waitData(client.EventNotifyCmdData, func(d any) bool {
		e := d.(*datachannel.CmdData)
		return e.From == "web" && string(e.Data) == "hello Go"
	})

	// A file from Go to the browser.
	content := bytes.Repeat([]byte("crvnode file transfer\n"), 150_000) // 3.3 MB
	path := filepath.Join(t.TempDir(), "from-go.txt")
	must(t, os.WriteFile(path, content, 0o600))
	_, err = c.SendFile(ctx, "web", path)
	must(t, err)
	sum := sha256.Sum256(content)
	got := js[string](br, `(async () => {
		const [from, url, name] = await T.wait("NotifyFileData", (from) => from === "gopher", 60000);
		if (name !== "from-go.txt") throw new Error("name " + name);
		return T.sha(await (await fetch(url)).arrayBuffer());
	})()`)
	if got != hex.EncodeToString(sum[:]) {
		t.Fatal("the browser got another file than Go sent")
	}
	u.waitData(client.EventSendFileRlst, func(d any) bool { return d.(*datachannel.Result).Code == 0 })

	// A file from the browser to Go.
	want := js[string](br, `(async () => {
		const data = T.random(3 << 20);
		const id = CRVideo_SendFile("gopher", new File([data], "from-browser.bin"), "");
		const [, , code] = await T.wait("SendFileRlst", (tid) => tid === id, 60000);
		if (code !== 0) throw new Error("SendFileRlst " + code);
		return T.sha(data);
	})()`)
	deadline := time.After(eventWait)
	for {
		select {
		case ev := <-u.events:
			fd, ok := ev.Data.(*datachannel.FileData)
			if !ok {
				continue
			}
			b, err := os.ReadFile(fd.Path)
			must(t, err)
			sum := sha256.Sum256(b)
			if fd.Name != "from-browser.bin" || fd.From != "web" || hex.EncodeToString(sum[:]) != want {
				t.Fatalf("Go got %q from %s, %d bytes, sha %x", fd.Name, fd.From, len(b), sum)
			}
			return
		case <-deadline:
			t.Fatal("Go got no file from the browser")
		}
	}
}
