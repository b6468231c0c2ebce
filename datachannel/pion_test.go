package datachannel

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/protocol"
)

// pionSide is one PeerConnection with an Endpoint on its "crv-data"
// channel, wired as doc.go tells a client to.
type pionSide struct {
	pc     *webrtc.PeerConnection
	ep     *Endpoint
	rec    *recorder
	dir    string
	opened chan struct{}
	closed chan struct{}
}

func (s *pionSide) attach(t *testing.T, dc *webrtc.DataChannel) {
	ep, err := NewEndpoint(dc, Config{Dir: s.dir, ProgressInterval: 5 * time.Millisecond}, s.rec.handle)
	if err != nil {
		t.Error(err)
		return
	}
	s.ep = ep
	dc.OnMessage(func(m webrtc.DataChannelMessage) { ep.Handle(m.Data) })
	dc.OnOpen(func() { close(s.opened) })
	dc.OnClose(func() { _ = ep.Close(); close(s.closed) })
}

func newPionPair(t *testing.T) (a, b *pionSide) {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	side := func() *pionSide {
		pc, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			t.Fatal(err)
		}
		s := &pionSide{pc: pc, rec: newRecorder(), dir: t.TempDir(), opened: make(chan struct{}), closed: make(chan struct{})}
		t.Cleanup(func() {
			_ = pc.Close()
			if s.ep != nil {
				_ = s.ep.Close()
				<-s.ep.Done()
			}
		})
		return s
	}
	a, b = side(), side()
	dc, err := a.pc.CreateDataChannel(ChannelLabel, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.attach(t, dc) // before the offer: no message can precede the Endpoint
	b.pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		if dc.Label() == ChannelLabel {
			b.attach(t, dc)
		}
	})
	signalPair(t, a.pc, b.pc)
	for _, s := range []*pionSide{a, b} {
		select {
		case <-s.opened:
		case <-time.After(10 * time.Second):
			t.Fatal("data channel did not open")
		}
	}
	return a, b
}

// signalPair runs offer/answer with complete ICE gathering.
func signalPair(t *testing.T, offerer, answerer *webrtc.PeerConnection) {
	t.Helper()
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(offerer)
	if err := offerer.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered = webrtc.GatheringCompletePromise(answerer)
	if err := answerer.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := offerer.SetRemoteDescription(*answerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
}

// TestPionPeerConnections runs commands, a buffer and a file over two real
// pion PeerConnections on loopback, a command overtaking the file.
func TestPionPeerConnections(t *testing.T) {
	a, b := newPionPair(t)
	size := 24 << 20
	if testing.Short() {
		size = 4 << 20
	}
	src := writeFile(t, t.TempDir(), "payload.bin", randomBytes(t, size))
	fileID, err := a.ep.SendFile("bob", src)
	if err != nil {
		t.Fatal(err)
	}
	a.rec.until(t, 10*time.Second, isType[*Progress])
	msg := []byte("命令 ✓ \x00\x01")
	start := time.Now()
	cmdID, err := a.ep.SendCmd("bob", msg)
	if err != nil {
		t.Fatal(err)
	}
	evs := b.rec.until(t, 10*time.Second, isType[*CmdData])
	lat := time.Since(start)
	if cmd := evs[len(evs)-1].(*CmdData); !bytes.Equal(cmd.Data, msg) || cmd.TaskID != cmdID {
		t.Fatalf("cmd %+v", cmd)
	}
	for _, ev := range evs {
		if _, ok := ev.(*FileData); ok {
			t.Fatal("the file finished before the command arrived")
		}
	}
	t.Logf("command after %v while the file flows", lat)
	if lat > 500*time.Millisecond {
		t.Errorf("command took %v", lat)
	}

	evs = a.rec.until(t, 2*time.Minute, resultOf(fileID))
	if res := lastResult(t, evs); res.Code != protocol.NoErr {
		t.Fatalf("file result %v", res.Code)
	}
	checkProgress(t, evs, fileID, int64(size))
	got := b.rec.until(t, 5*time.Second, isType[*FileData])
	fd := got[len(got)-1].(*FileData)
	if sumFile(t, fd.Path) != sumFile(t, src) || fd.Name != "payload.bin" {
		t.Fatalf("file %+v differs", fd)
	}

	buf := randomBytes(t, 300<<10)
	bufID, err := b.ep.SendBuffer("alice", buf) // the other way round
	if err != nil {
		t.Fatal(err)
	}
	b.rec.until(t, 10*time.Second, resultOf(bufID))
	got = a.rec.until(t, 5*time.Second, isType[*BufferData])
	if !bytes.Equal(got[len(got)-1].(*BufferData).Data, buf) {
		t.Fatal("buffer differs")
	}
}

// TestPionReceiverGoesAway: the receiver's PeerConnection closes mid-file;
// the sender's channel closes, and Close fails the transfer with 1000.
func TestPionReceiverGoesAway(t *testing.T) {
	a, b := newPionPair(t)
	src := writeFile(t, t.TempDir(), "f.bin", randomBytes(t, 64<<20))
	id, err := a.ep.SendFile("bob", src)
	if err != nil {
		t.Fatal(err)
	}
	a.rec.until(t, 10*time.Second, isType[*Progress])
	if err := b.pc.Close(); err != nil {
		t.Fatal(err)
	}
	_ = b.ep.Close() // what the receiving client does when its connection ends
	evs := a.rec.until(t, 30*time.Second, resultOf(id))
	if res := lastResult(t, evs); res.Code != protocol.SendFail {
		t.Fatalf("result %v, want SENDFAIL", res.Code)
	}
	if ents := dirEntries(t, b.dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
}
