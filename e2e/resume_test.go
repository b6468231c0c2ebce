package e2e

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/internal/faultnet"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
	"github.com/crvnode/crvnode/signaling"
)

// The tests of this file put a network the test controls between a user
// and the node (faultnet: a TCP proxy for the WebSocket, a UDP socket for
// media) and break it while the user is in a call, a meeting or a queue.
// The node runs with its default resume grace window (20 s) and the Go
// client with its default keepalive (a silent connection is lost after
// 5 s). Recovery times are logged, not asserted: the machine is shared.

// dropFor is how long the network is down in these tests.
const dropFor = 5 * time.Second

// newProxy starts a proxy to the node's HTTP address, closed at the end.
func newProxy(t testing.TB, n *node.Node) *faultnet.Proxy {
	t.Helper()
	p, err := faultnet.NewProxy(n.Addr())
	must(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// lossyMediaNode starts a media node whose UDP socket the test can
// black-hole, and a proxy to it.
func lossyMediaNode(t testing.TB) (*node.Node, *faultnet.PacketConn, *faultnet.Proxy) {
	t.Helper()
	// The SFU's ICE-TCP listener takes the UDP socket's port number: pick
	// a UDP port whose number is free for TCP too, as the node does for
	// its own ephemeral socket.
	for range 20 {
		raw, err := net.ListenPacket("udp4", "127.0.0.1:0")
		must(t, err)
		tcp, err := net.Listen("tcp4", raw.LocalAddr().String())
		if err != nil {
			_ = raw.Close()
			continue
		}
		_ = tcp.Close()
		udp := faultnet.WrapPacketConn(raw)
		n := startMediaNodeOn(t, node.FileConfig{}, udp)
		return n, udp, newProxy(t, n)
	}
	t.Fatal("no UDP port whose number is free for TCP")
	return nil, nil, nil
}

// loginThrough logs id of acme in through p.
func loginThrough(t testing.TB, p *faultnet.Proxy, id string) *user {
	t.Helper()
	return loginAs(t, "ws://"+p.Addr()+"/ws", "acme", "acme-secret", id)
}

// netState waits for u's netStateChanged with state, skipping other events
// only if skip says so, and returns when it came.
func (u *user) netState(state string, within time.Duration) time.Time {
	u.t.Helper()
	skipTo(u.t, u.events, u.UserID(), protocol.EventNetStateChanged, func(d any) bool {
		return d.(*protocol.NetState).State == state
	}, within)
	return time.Now()
}

// noEvent checks that none of u's events queued so far is named method.
func (u *user) noEvent(method string) {
	u.t.Helper()
	for {
		select {
		case ev := <-u.events:
			if ev.Method == method {
				u.t.Fatalf("%s got %s %+v", u.UserID(), method, ev.Data)
			}
		default:
			return
		}
	}
}

// TestResumeCallAndPresence drops alice's network for 5 s during a call,
// twice: once as a path that resets (the connection and each reconnect
// fail at once), once as a black hole (nothing arrives; the client takes
// the connection for lost by its silence). The call stays up on both sides,
// bob sees alice stay online, a DND change of bob's during the drop
// reaches alice afterwards, and a request alice makes during the drop is
// answered once the session is back.
func TestResumeCallAndPresence(t *testing.T) {
	for _, mode := range []struct {
		name string
		mode faultnet.Mode
	}{{"reset", faultnet.Down}, {"blackhole", faultnet.Blackhole}} {
		t.Run(mode.name, func(t *testing.T) {
			n := startNode(t, "", node.FileConfig{})
			p := newProxy(t, n)
			ctx := ctxTimeout(t, 60*time.Second)
			alice := loginThrough(t, p, "alice")
			bob := loginAcme(t, n, "bob")
			must(t, alice.StartUserStatusNotify(ctx))
			must(t, bob.StartUserStatusNotify(ctx))
			meet, err := alice.CreateMeeting(ctx, "call", 0)
			must(t, err)
			callID, err := alice.Call(ctx, "bob", &meet, "")
			must(t, err)
			bob.waitData(protocol.EventNotifyCallIn, nil)
			must(t, bob.AcceptCall(ctx, callID, nil, ""))
			alice.waitData(protocol.EventNotifyCallAccepted, nil)

			p.SetMode(mode.mode)
			dropAt := time.Now()
			lostAt := alice.netState(protocol.NetLost, 10*time.Second)
			must(t, bob.SetDNDStatus(ctx, 1))
			during := make(chan error, 1)
			go func() {
				_, err := alice.GetUserStatus(ctx)
				during <- err
			}()
			// Down for 5 s, and for a black hole at least a little past
			// the moment the client noticed it (its keepalive: 5 s).
			time.Sleep(time.Until(dropAt.Add(dropFor)))
			time.Sleep(time.Until(lostAt.Add(500 * time.Millisecond)))
			p.SetMode(faultnet.Pass)
			back := time.Now()
			restored := alice.netState(protocol.NetRestored, 15*time.Second)
			t.Logf("%s: network down %v; connection taken for lost %v after the drop began; session resumed %v after the network came back",
				mode.name, back.Sub(dropAt).Round(time.Millisecond), lostAt.Sub(dropAt).Round(time.Millisecond), restored.Sub(back).Round(time.Millisecond))
			alice.waitData(protocol.EventNotifyUserStatus, func(d any) bool {
				s := d.(*protocol.NotifyUserStatus)
				return s.UserStatus.UserID == "bob" && s.UserStatus.DNDType == 1
			})
			if err := <-during; err != nil {
				t.Errorf("request made during the drop: %v", err)
			}
			alice.noEvent(protocol.EventNotifyCallHungup)
			alice.noEvent(protocol.EventLineOff)
			bob.noEvent(protocol.EventNotifyCallHungup)
			for _, ev := range drain(bob.events) {
				if s, ok := ev.Data.(*protocol.NotifyUserStatus); ok && s.UserStatus.UserID == "alice" {
					t.Errorf("bob saw alice's presence change during her drop: %+v", s)
				}
			}
			// The session works: the call ends as calls do.
			must(t, alice.HungupCall(ctx, callID, "bye"))
			bob.waitData(protocol.EventNotifyCallHungup, nil)
		})
	}
}

func drain(ch chan client.Event) []client.Event {
	var evs []client.Event
	for {
		select {
		case ev := <-ch:
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

// TestResumeQueuePlace drops a queued customer's network for 5 s: the
// customer keeps its place and is assigned to the agent who frees up
// afterwards.
func TestResumeQueuePlace(t *testing.T) {
	n := startQueueNode(t)
	p := newProxy(t, n)
	ctx := ctxTimeout(t, 60*time.Second)
	agent := loginAcme(t, n, "agent")
	other := loginAcme(t, n, "other")
	cust := loginThrough(t, p, "cust")
	must(t, agent.StartService(ctx, 1, 1))
	// The agent is busy in a call, so the customer waits in the queue.
	callID, err := agent.Call(ctx, "other", nil, "")
	must(t, err)
	other.waitData(protocol.EventNotifyCallIn, nil)
	must(t, other.AcceptCall(ctx, callID, nil, ""))
	agent.waitData(protocol.EventNotifyCallAccepted, nil)
	must(t, cust.StartQueuing(ctx, 1, "claim 42"))

	p.SetMode(faultnet.Down)
	cust.netState(protocol.NetLost, 10*time.Second)
	time.Sleep(dropFor)
	p.SetMode(faultnet.Pass)
	cust.netState(protocol.NetRestored, 15*time.Second)
	dat, err := cust.InitQueueDat(ctx)
	must(t, err)
	if dat.Queuing.QueID != 1 {
		t.Fatalf("after the drop the customer queues in %+v", dat.Queuing)
	}
	must(t, agent.HungupCall(ctx, callID, ""))
	agent.assignedTo(1, "cust")
	cust.noEvent(protocol.EventLineOff)
}

// TestResumeGraceEnds drops a caller's network for longer than the grace
// window: the caller gets lineOff 207, the callee notifyCallHungup, and
// the caller can log in again.
func TestResumeGraceEnds(t *testing.T) {
	n := startNode(t, "", node.FileConfig{Limits: signaling.Limits{ResumeGrace: 2 * time.Second}})
	p := newProxy(t, n)
	ctx := ctxTimeout(t, 60*time.Second)
	alice := loginThrough(t, p, "alice")
	bob := loginAcme(t, n, "bob")
	callID, err := alice.Call(ctx, "bob", nil, "")
	must(t, err)
	bob.waitData(protocol.EventNotifyCallIn, nil)
	must(t, bob.AcceptCall(ctx, callID, nil, ""))

	p.SetMode(faultnet.Down)
	alice.netState(protocol.NetLost, 10*time.Second)
	off := skipTo(t, alice.events, "alice", protocol.EventLineOff, nil, 10*time.Second).(*protocol.LineOff)
	if off.SdkEr != protocol.ConnectionLost {
		t.Errorf("lineOff %d, want 207", off.SdkEr)
	}
	bob.waitData(protocol.EventNotifyCallHungup, nil)
	p.SetMode(faultnet.Pass)
	again := loginThrough(t, p, "alice")
	if st, err := again.GetUserStatus(ctx); err != nil || len(st) == 0 {
		t.Fatalf("logged in again: %v %v", st, err)
	}
}

// joinShortICE logs id in through p, with ICE timeouts short enough that
// its media connections fail within a drop, so that they come back by ICE
// restarts rather than by ICE itself.
func joinShortICE(t testing.TB, p *faultnet.Proxy, id string, short bool, logs *logCounter) *mediaUser {
	t.Helper()
	se := &webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if short {
		se.SetICETimeouts(time.Second, 2*time.Second, 500*time.Millisecond)
	}
	return joinMediaAt(t, "ws://"+p.Addr()+"/ws", id, client.Options{SettingEngine: se, Logger: slog.New(logs)})
}

// logCounter is a slog handler that counts the client's log messages.
type logCounter struct {
	mu   sync.Mutex
	msgs map[string]int
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logCounter) WithGroup(string) slog.Handler            { return l }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.msgs == nil {
		l.msgs = map[string]int{}
	}
	l.msgs[r.Message]++
	return nil
}

func (l *logCounter) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.msgs[msg]
}

// waitFlowing waits until key has a packet newer than since and returns
// when it came.
func (m *mediaUser) waitFlowing(t testing.TB, key string, since time.Time, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if s := m.stats(key); s != nil {
			if _, at := s.latest(); at.After(since) {
				return at
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: no %s packet within %v after the network came back", m.UserID(), key, within)
	return time.Time{}
}

// TestResumeMeetingMedia drops a meeting member's signaling and all media
// through the node's UDP socket for 5 s while video flows both ways. The
// member stays in the meeting, nobody sees it leave, and video flows again
// both ways; with short ICE timeouts the member's media connections fail
// during the drop and come back by ICE restarts on the resumed session.
func TestResumeMeetingMedia(t *testing.T) {
	for _, tc := range []struct {
		name  string
		short bool
	}{{"ice-recovers", false}, {"ice-restart", true}} {
		t.Run(tc.name, func(t *testing.T) {
			n, udp, p := lossyMediaNode(t)
			ctx := ctxTimeout(t, 90*time.Second)
			logs := &logCounter{}
			ann := joinShortICE(t, p, "ann", tc.short, logs)
			ben := joinMedia(t, n, "ben")
			for _, u := range []*mediaUser{ann, ben} {
				u.SetCameraSource(client.NewSyntheticVideo(300_000, 30, false))
			}
			meet, err := ann.CreateMeeting(ctx, "media", 0)
			must(t, err)
			for _, u := range []*mediaUser{ann, ben} {
				_, err := u.EnterMeeting(ctx, meet.ID, "", "")
				must(t, err)
				must(t, u.OpenVideo(ctx, u.UserID()))
			}
			must(t, ann.SetVideo(ctx, "ben", protocol.VideoIDCamera, 0))
			must(t, ben.SetVideo(ctx, "ann", protocol.VideoIDCamera, 0))
			ann.waitPackets(t, "ben/camera", 60, 15*time.Second)
			ben.waitPackets(t, "ann/camera", 60, 15*time.Second)

			p.SetMode(faultnet.Blackhole)
			udp.SetBlackhole(true)
			time.Sleep(dropFor)
			p.SetMode(faultnet.Pass)
			udp.SetBlackhole(false)
			back := time.Now()
			toBen := ben.waitFlowing(t, "ann/camera", back, 20*time.Second)
			toAnn := ann.waitFlowing(t, "ben/camera", back, 20*time.Second)
			t.Logf("%s: video flows again %v (ann→ben) and %v (ben→ann) after the network came back; %d packets dropped",
				tc.name, toBen.Sub(back).Round(time.Millisecond), toAnn.Sub(back).Round(time.Millisecond), udp.Dropped())

			const restarted = "crvnode client: media connection restarted"
			if n := logs.count(restarted); tc.short && n < 2 {
				t.Errorf("%d media connections restarted, want the up and the down one", n)
			}
			// Still one meeting, nobody left it, no session ended.
			if members := ben.Members(); len(members) != 2 {
				t.Errorf("members after the drop: %+v", members)
			}
			for _, u := range []*mediaUser{ann, ben} {
				u.noEvent(protocol.EventUserLeftMeeting)
				u.noEvent(protocol.EventLineOff)
				u.noEvent(protocol.EventMeetingDropped)
			}
		})
	}
}

// TestResumeTransfer drops the sender's network for 5 s in the middle of a
// file transfer: once the WebSocket only (the transfer's data channel is
// on the up media connection and goes on), once everything, media
// included (the data channel's transport waits, then resumes). Either way
// the file arrives whole and the sender gets its success.
func TestResumeTransfer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		media bool
	}{{"websocket", false}, {"all", true}} {
		t.Run(tc.name, func(t *testing.T) {
			n, udp, p := lossyMediaNode(t)
			ctx := ctxTimeout(t, 4*time.Minute)
			a := transferClientAt(t, "ws://"+p.Addr()+"/ws", "alice")
			b := transferClient(t, n, "bob")
			path, sum := writeRandomFile(t, 64<<20)
			id, err := a.SendFile(ctx, "bob", path)
			must(t, err)
			a.expect(client.EventSendProgress, nil, 10*time.Second)
			p.SetMode(faultnet.Down)
			udp.SetBlackhole(tc.media)
			time.Sleep(dropFor)
			p.SetMode(faultnet.Pass)
			udp.SetBlackhole(false)
			back := time.Now()
			// Bounded by what a loaded machine needs for 64 MiB under the
			// race detector, not by how fast it goes: the test is that the
			// transfer survives the drop.
			r := a.expect(client.EventSendFileRlst, forTask(id), 3*time.Minute).(*datachannel.Result)
			if r.Code != protocol.NoErr {
				t.Fatalf("transfer through the drop: %+v", r)
			}
			fd := b.expect(client.EventNotifyFileData, forTask(id), 10*time.Second).(*datachannel.FileData)
			if fileHash(t, fd.Path) != sum {
				t.Fatal("the file arrived changed")
			}
			t.Logf("%s: the file finished %v after the network came back", tc.name, time.Since(back).Round(time.Millisecond))
			if _, err := a.GetUserStatus(ctx); err != nil {
				t.Errorf("the sender's session after the drop: %v", err)
			}
		})
	}
}

// TestResumeSlowLink delays alice's WebSocket by 1 s each way: a slow link
// is not a lost one. Requests take longer and succeed, events arrive, and
// the client never takes the connection for lost.
func TestResumeSlowLink(t *testing.T) {
	n := startNode(t, "", node.FileConfig{})
	p := newProxy(t, n)
	ctx := ctxTimeout(t, 60*time.Second)
	alice := loginThrough(t, p, "alice")
	bob := loginAcme(t, n, "bob")
	must(t, alice.StartUserStatusNotify(ctx))
	p.SetDelay(time.Second)
	start := time.Now()
	for i := range 3 {
		must(t, bob.SetDNDStatus(ctx, i+1))
		if _, err := alice.GetUserStatus(ctx); err != nil {
			t.Fatalf("request over the slow link: %v", err)
		}
	}
	if d := time.Since(start); d < 6*time.Second {
		t.Fatalf("3 requests took %v with 1 s each way", d)
	}
	// Idle long enough for the keepalive to have fired several times.
	time.Sleep(6 * time.Second)
	p.SetDelay(0)
	last := 0
	for _, ev := range drain(alice.events) {
		switch d := ev.Data.(type) {
		case *protocol.NotifyUserStatus:
			last = d.UserStatus.DNDType
		case *protocol.NetState, *protocol.LineOff:
			t.Errorf("over a slow link: %s %+v", ev.Method, d)
		}
	}
	if last != 3 {
		t.Errorf("bob's last DND at alice: %d, want 3", last)
	}
}
