package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
)

// startTURNNode starts a node with media and the embedded TURN server on
// loopback. Relaying to loopback peers (the SFU, here) must be allowed.
func startTURNNode(t *testing.T) *node.Node {
	t.Helper()
	fc := node.FileConfig{Apps: testApps, TURN: node.TURNConfig{AllowedPeerCIDRs: []string{"127.0.0.0/8"}}}
	n, err := node.Start(node.Config{HTTPAddr: "127.0.0.1:0", RTCAddr: "127.0.0.1:0", TURNAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), File: fc, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(ctxTimeout(t, 10*time.Second)) })
	return n
}

// turnURL finds the UDP TURN server in a login's iceServers.
func turnURL(t *testing.T, servers []protocol.ICEServer) (protocol.ICEServer, string) {
	t.Helper()
	for _, s := range servers {
		for _, u := range s.URLs {
			if strings.HasPrefix(u, "turn:") && strings.HasSuffix(u, "?transport=udp") {
				return s, strings.TrimSuffix(strings.TrimPrefix(u, "turn:"), "?transport=udp")
			}
		}
	}
	t.Fatalf("no UDP TURN server in %+v", servers)
	return protocol.ICEServer{}, ""
}

func allocate(t *testing.T, server, user, pass string) error {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: server, TURNServerAddr: server, Username: user,
		Password: pass, Conn: conn, RTO: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	relay, err := c.AllocateWithContext(ctx)
	if err == nil {
		relay.Close()
	}
	return err
}

func sign(secret, username string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// TestTURNCredentialsFromLogin allocates with what a real login returns,
// and is refused with forged, expired or wrongly signed credentials.
func TestTURNCredentialsFromLogin(t *testing.T) {
	n := startTURNNode(t)
	u := connect(t, "ws://"+n.Addr()+"/ws")
	res, err := u.Login(ctxTimeout(t, eventWait), protocol.LoginParams{AppID: "acme", AppSecret: md5hex("acme-secret"), UserID: "alice", NickName: "A"})
	must(t, err)
	ice, server := turnURL(t, res.ICEServers)
	if !strings.HasSuffix(ice.Username, ":acme:alice") {
		t.Fatalf("TURN username %q", ice.Username)
	}
	if err := allocate(t, server, ice.Username, ice.Credential); err != nil {
		t.Fatalf("allocation with the login's credentials: %v", err)
	}
	if err := allocate(t, server, ice.Username, "forged"+ice.Credential); err == nil {
		t.Fatal("forged password accepted")
	}
	expired := "1000000000:acme:alice"
	if err := allocate(t, server, expired, sign("whatever", expired)); err == nil {
		t.Fatal("expired username accepted")
	}
	if err := allocate(t, server, ice.Username, sign("acme-secret", ice.Username)); err == nil {
		t.Fatal("credentials signed with the app's secret instead of the TURN secret accepted")
	}
	fresh, err := u.RefreshICEServers(ctxTimeout(t, eventWait))
	must(t, err)
	if again, _ := turnURL(t, fresh); again.Username == "" {
		t.Fatal("refreshIceServers gave no TURN credentials")
	}
}

// TestRelayOnlyCall runs the seed call flow between two clients that may
// only use TURN relays: media flows both ways through the relay.
func TestRelayOnlyCall(t *testing.T) {
	n := startTURNNode(t)
	ctx := ctxTimeout(t, 60*time.Second)
	relayed := func(id string) *mediaUser {
		mu := &mediaUser{tracks: map[string]*trackStats{}, energy: map[string]int{}}
		u := &user{t: t, events: make(chan client.Event, 4096)}
		c, err := client.Dial(ctx, "ws://"+n.Addr()+"/ws", client.Options{
			Handler: func(ev client.Event) {
				select {
				case u.events <- ev:
				default:
				}
			},
			TransferDir:        t.TempDir(),
			OnTrack:            mu.record,
			ICETransportPolicy: webrtc.ICETransportPolicyRelay,
		})
		must(t, err)
		t.Cleanup(func() { _ = c.Close() })
		_, err = c.Login(ctx, protocol.LoginParams{AppID: "acme", AppSecret: md5hex("acme-secret"), UserID: id, NickName: id})
		must(t, err)
		u.Client, mu.user = c, u
		c.SetMicSource(client.NewSyntheticAudio())
		c.SetCameraSource(client.NewSyntheticVideo(300_000, 30, false))
		return mu
	}
	a, b := relayed("alice"), relayed("bob")
	meet, err := a.CreateMeeting(ctx, "relayed", 0)
	must(t, err)
	callID, err := a.Call(ctx, "bob", &meet, "")
	must(t, err)
	b.waitData(protocol.EventNotifyCallIn, nil)
	must(t, b.AcceptCall(ctx, callID, nil, ""))
	a.waitData(protocol.EventNotifyCallAccepted, nil)
	for _, u := range []*mediaUser{a, b} {
		_, err := u.EnterMeeting(ctx, meet.ID, "", "")
		must(t, err)
		must(t, u.OpenMic(ctx, u.UserID()))
		must(t, u.OpenVideo(ctx, u.UserID()))
	}
	must(t, a.SetVideo(ctx, "bob", protocol.VideoIDCamera, 0))
	must(t, b.SetVideo(ctx, "alice", protocol.VideoIDCamera, 0))
	a.waitPackets(t, "bob/camera", 60, 20*time.Second)
	a.waitPackets(t, "bob/mic", 30, 5*time.Second)
	b.waitPackets(t, "alice/camera", 60, 5*time.Second)
	b.waitPackets(t, "alice/mic", 30, 5*time.Second)
	for _, u := range []*mediaUser{a, b} {
		up, down := u.Connections()
		for name, pc := range map[string]*webrtc.PeerConnection{"up": up, "down": down} {
			if typ := selectedLocalType(pc); typ != "relay" {
				t.Errorf("%s's %s connection uses a %q candidate, want relay", u.UserID(), name, typ)
			}
		}
	}
	// A file transfer completes over the relayed up connections too.
	path, sum := writeRandomFile(t, 2<<20)
	files := make(chan *datachannel.FileData, 1)
	results := make(chan *datachannel.Result, 1)
	go func() {
		for ev := range b.events {
			if f, ok := ev.Data.(*datachannel.FileData); ok {
				files <- f
				return
			}
		}
	}()
	go func() {
		for ev := range a.events {
			if r, ok := ev.Data.(*datachannel.Result); ok && ev.Method == client.EventSendFileRlst {
				results <- r
				return
			}
		}
	}()
	_, err = a.SendFile(ctx, "bob", path)
	must(t, err)
	select {
	case r := <-results:
		if r.Code != 0 {
			t.Fatalf("relayed file: %+v", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("relayed file did not finish")
	}
	select {
	case f := <-files:
		if fileHash(t, f.Path) != sum {
			t.Fatal("relayed file arrived changed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notifyFileData")
	}
	must(t, a.HungupCall(ctx, callID, ""))
}

// selectedLocalType is the candidate type of the connection's nominated pair.
func selectedLocalType(pc *webrtc.PeerConnection) string {
	if pc == nil {
		return "(no connection)"
	}
	stats := pc.GetStats()
	for _, s := range stats {
		pair, ok := s.(webrtc.ICECandidatePairStats)
		if !ok || !pair.Nominated {
			continue
		}
		if local, ok := stats[pair.LocalCandidateID].(webrtc.ICECandidateStats); ok {
			return local.CandidateType.String()
		}
	}
	return "(none nominated)"
}
