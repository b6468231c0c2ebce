package e2e

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
	"github.com/crvnode/crvnode/signaling"
)

// cutProxy forwards TCP connections to a node; down ends every connection
// it carries (as a lost network does, with no WebSocket close frame) and
// refuses new ones until up.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.setDown(true)
		p.wg.Wait()
	})
	return p
}

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		u, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[u] = struct{}{}, struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(u, c)
		go pipe(c, u)
	}
}

func (p *cutProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// TestBrowserResume: a page whose connection to the node is lost keeps
// its session: CRVideo_NetStateChanged says lost (0) then back (10), what
// happened in between arrives, no CRVideo_LineOff, and the session goes
// on. A loss longer than the grace window ends in CRVideo_LineOff(207).
func TestBrowserResume(t *testing.T) {
	needChromium(t)
	n := startNode(t, "", node.FileConfig{Limits: signalingLimits(3 * time.Second)})
	site := webFor(t, n)
	proxy := newCutProxy(t, n.Addr())
	site.server = proxy.ln.Addr().String()
	b := startBrowser(t)
	alice := b.sdkPage("alice", site)
	alice.login(site, "alice")
	bob := loginAcme(t, n, "bob")

	alice.run(`(async () => {
		CRVideo_StartUserStatusNotify("w");
		await T.until(() => T.events.some((e) => e.name.startsWith("StartUserStatusNotify")), 10000, "StartUserStatusNotify answered");
	})()`)

	// The network goes away for a second; bob changes his DND meanwhile.
	proxy.setDown(true)
	alice.run(`T.wait("NetStateChanged", (l) => l === 0)`)
	must(t, bob.Do(ctxTimeout(t, 5*time.Second), protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: 1}, nil))
	back := time.Now()
	proxy.setDown(false)
	alice.run(`T.wait("NetStateChanged", (l) => l === 10)`)
	t.Logf("network back to the session resumed: %v", time.Since(back).Round(time.Millisecond))
	alice.run(`T.wait("NotifyUserStatus", (s) => s.userID === "bob" && s.DNDType === 1)`)
	alice.run(`(async () => {
		const off = T.events.filter((e) => e.name === "LineOff");
		if (off.length) throw new Error("LineOff " + JSON.stringify(off[0].args));
		CRVideo_GetUserStatus("g");
		const [list] = await T.wait("GetUserStatusSuccess");
		const me = list.find((s) => s.userID === "alice");
		if (!me || me.userStatus !== 1) throw new Error("alice after the resume: " + JSON.stringify(me));
	})()`)

	// A loss past the grace window (3 s here) ends the session.
	proxy.setDown(true)
	alice.run(`(async () => {
		const [code] = await T.wait("LineOff");
		if (code !== 207) throw new Error("LineOff(" + code + ")");
	})()`)
}

func signalingLimits(grace time.Duration) signaling.Limits {
	return signaling.Limits{ResumeGrace: grace}
}
