package sfu_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
	"github.com/crvnode/crvnode/signaling"
)

// TestGoClientNegotiatesAES128GCM: between the Go client and the node,
// both the up connection (the client is its DTLS server and picks) and
// the down connection (the node picks) use SRTP_AEAD_AES_128_GCM, and
// media flows over it.
func TestGoClientNegotiatesAES128GCM(t *testing.T) {
	n, err := node.Start(node.Config{HTTPAddr: "127.0.0.1:0", RTCAddr: "127.0.0.1:0", DataDir: t.TempDir(),
		File:   node.FileConfig{Apps: []signaling.AppConfig{{ID: "acme", Secret: "acme-secret"}}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Shutdown(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sum := md5.Sum([]byte("acme-secret"))
	dial := func(id string, onTrack func(*client.RemoteTrack)) *client.Client {
		t.Helper()
		c, err := client.Dial(ctx, "ws://"+n.Addr()+"/ws", client.Options{OnTrack: onTrack})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		if _, err := c.Login(ctx, protocol.LoginParams{AppID: "acme", AppSecret: hex.EncodeToString(sum[:]), UserID: id, NickName: id}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	got := make(chan struct{}, 1)
	pub := dial("pub", nil)
	sub := dial("sub", func(rt *client.RemoteTrack) {
		for {
			if _, _, err := rt.Track.ReadRTP(); err != nil {
				return
			}
			select {
			case got <- struct{}{}:
			default:
			}
		}
	})
	pub.SetCameraSource(client.NewSyntheticVideo(300_000, 15, false))
	meet, err := pub.CreateMeeting(ctx, "srtp", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{pub, sub} {
		if _, err := c.EnterMeeting(ctx, meet.ID, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.OpenVideo(ctx, "pub"); err != nil {
		t.Fatal(err)
	}
	if err := sub.SetVideo(ctx, "pub", protocol.VideoIDCamera, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-ctx.Done():
		t.Fatal("no video within 30 s")
	}
	up, _ := pub.Connections()
	_, down := sub.Connections()
	for _, c := range []struct {
		name string
		pc   *webrtc.PeerConnection
	}{{"up", up}, {"down", down}} {
		if c.pc == nil {
			t.Fatalf("no %s connection", c.name)
		}
		if p := srtpProfile(t, c.pc); p != srtp.ProtectionProfileAeadAes128Gcm {
			t.Errorf("%s connection: SRTP profile %#04x, want SRTP_AEAD_AES_128_GCM (%#04x)", c.name, uint16(p), uint16(srtp.ProtectionProfileAeadAes128Gcm))
		}
	}
}

// srtpProfile is the SRTP protection profile pc's DTLS handshake chose.
// pion keeps it unexported (its stats leave srtpCipher empty), so it is
// read by reflection, once the transport is connected: its State takes
// the lock the profile was set under.
func srtpProfile(t *testing.T, pc *webrtc.PeerConnection) srtp.ProtectionProfile {
	t.Helper()
	dt := pc.SCTP().Transport()
	if s := dt.State(); s != webrtc.DTLSTransportStateConnected {
		t.Fatalf("DTLS transport %s", s)
	}
	f := reflect.ValueOf(dt).Elem().FieldByName("srtpProtectionProfile")
	if !f.IsValid() {
		t.Fatal("pion's DTLSTransport has no srtpProtectionProfile field any more")
	}
	return srtp.ProtectionProfile(f.Uint())
}
