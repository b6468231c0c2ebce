package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/crvnode/crvnode/cluster"
	"github.com/crvnode/crvnode/internal/redistest"
)

// startClusterNode starts a node without media on rs's Redis.
func startClusterNode(t *testing.T, rs *redistest.Server) *Node {
	t.Helper()
	n, err := Start(Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(),
		File:   FileConfig{Redis: RedisConfig{Addr: rs.Addr()}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, n) })
	return n
}

var shutdowns sync.Map // *Node → *sync.Once

// shutdown shuts n down once.
func shutdown(t *testing.T, n *Node) {
	once, _ := shutdowns.LoadOrStore(n, new(sync.Once))
	once.(*sync.Once).Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
}

func within(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// signed is a link request to n from node from, signed with secret at at.
func signed(n *Node, from, secret string, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set(dcHeaderNode, from)
	h.Set(dcHeaderTime, ts)
	var once [16]byte
	_, _ = rand.Read(once[:])
	h.Set(dcHeaderOnce, hex.EncodeToString(once[:]))
	h.Set("Authorization", dcAuthScheme+hex.EncodeToString(dcMAC(secret, from, n.cluster.NodeID(), ts, h.Get(dcHeaderOnce))))
	return h
}

// TestLinkNeedsTheClusterSecret: a link request without the cluster's
// secret, with another secret, for another node or too old, gets 401 and
// nothing else; one signed with it is a link, which a message that is no
// link message closes.
func TestLinkNeedsTheClusterSecret(t *testing.T) {
	rs := redistest.Start(t)
	n := startClusterNode(t, rs)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	other, err := cluster.Open(ctx, cluster.Config{Addr: rs.Addr(), NodeID: "peer"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	secret, err := other.Secret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + n.Addr() + dcPath
	wrongTarget := signed(n, "peer", secret, time.Now())
	wrongTarget.Set("Authorization", dcAuthScheme+hex.EncodeToString(dcMAC(secret, "peer", "someone-else", wrongTarget.Get(dcHeaderTime), wrongTarget.Get(dcHeaderOnce))))
	bearer := http.Header{}
	bearer.Set(dcHeaderNode, "peer")
	bearer.Set("Authorization", "Bearer "+secret)
	for name, h := range map[string]http.Header{
		"nothing":      nil,
		"node only":    {dcHeaderNode: {"peer"}},
		"the secret":   bearer,
		"other secret": signed(n, "peer", "0123", time.Now()),
		"other node":   wrongTarget,
		"too old":      signed(n, "peer", secret, time.Now().Add(-10*time.Minute)),
		"as itself":    signed(n, n.cluster.NodeID(), secret, time.Now()),
	} {
		conn, resp, err := websocket.DefaultDialer.DialContext(ctx, url, h)
		if err == nil {
			conn.Close()
			t.Fatalf("%s: a link", name)
		}
		if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: %v %+v", name, err, resp)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "Unauthorized\n" || resp.Header.Get(dcHeaderNode) != "" {
			t.Fatalf("%s: answered %q, headers %v", name, body, resp.Header)
		}
	}
	// A plain HTTP request too.
	resp, err := http.Get("http://" + n.Addr() + dcPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET: %s", resp.Status)
	}

	good := signed(n, "peer", secret, time.Now())
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, url, good)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := resp.Header.Get(dcHeaderNode); got != n.cluster.NodeID() {
		t.Fatalf("answered as node %q", got)
	}
	// The same signed request again is a replay.
	if c, resp, err := websocket.DefaultDialer.DialContext(ctx, url, good); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		if c != nil {
			c.Close()
		}
		t.Fatalf("a replayed request: %v", err)
	}
	within(t, "the link is up", 5*time.Second, func() bool { up, _ := n.links.gauges(); return up == 1 })
	if err := conn.WriteMessage(websocket.BinaryMessage, []byte{9}); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := conn.ReadMessage(); err == nil {
		t.Fatal("the node read on after a message that is no link message")
	}
	within(t, "the link is gone", 5*time.Second, func() bool { up, _ := n.links.gauges(); return up == 0 })
}

// TestLinksRedialAndClose: a node dials another for a link, a link that
// drops is dialled again when needed, a node that leaves closes its links
// on the others, and nothing of the links runs after Shutdown.
func TestLinksRedialAndClose(t *testing.T) {
	rs := redistest.Start(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	a, b := startClusterNode(t, rs), startClusterNode(t, rs)
	bID := b.cluster.NodeID()
	first := a.links.linkTo(bID)
	within(t, "the link is up on both", 10*time.Second, func() bool {
		upA, _ := a.links.gauges()
		upB, _ := b.links.gauges()
		return upA == 1 && upB == 1
	})
	if again := a.links.linkTo(bID); again != first {
		t.Fatal("a second link to the same node")
	}
	// B already has a link to A: the one A dialled.
	b.links.mu.Lock()
	fromA := b.links.byNode[a.cluster.NodeID()]
	b.links.mu.Unlock()
	if fromA == nil {
		t.Fatal("B does not use A's link")
	}

	// The connection drops: A's link closes, and the next use dials again.
	fromA.link.Close()
	select {
	case <-first.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("A's link outlived its connection")
	}
	within(t, "A forgets the link", 5*time.Second, func() bool {
		a.links.mu.Lock()
		defer a.links.mu.Unlock()
		return a.links.byNode[bID] == nil
	})
	second := a.links.linkTo(bID)
	if second == first {
		t.Fatal("the closed link was used again")
	}
	within(t, "the new link is up", 10*time.Second, func() bool { up, _ := a.links.gauges(); return up == 1 })

	// B out of the live set (as a node that hangs is, once its heartbeat's
	// key expires), its connection still open: A closes its link.
	live, err := a.cluster.Live(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	without := slices.DeleteFunc(live, func(n cluster.Node) bool { return n.ID == bID })
	a.links.closeGone(without, time.Now().Add(-time.Minute)) // a look from before the link: it stays
	select {
	case <-second.Done():
		t.Fatal("a link newer than the look was closed")
	case <-time.After(50 * time.Millisecond):
	}
	a.links.closeGone(without, time.Now())
	select {
	case <-second.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("A's link outlived B's leaving the live set")
	}
	within(t, "A forgets the link", 5*time.Second, func() bool {
		a.links.mu.Lock()
		defer a.links.mu.Unlock()
		return a.links.byNode[bID] == nil
	})
	a.links.setLive(live)

	// B stops: A's link to it closes.
	third := a.links.linkTo(bID)
	within(t, "a link again", 10*time.Second, func() bool { up, _ := a.links.gauges(); return up == 1 })
	shutdown(t, b)
	select {
	case <-third.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("A's link to B outlived B")
	}
	shutdown(t, a)
}
