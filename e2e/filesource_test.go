package e2e

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/ivfwriter"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
)

// writeMediaFiles records two seconds of VP8 frames into an IVF file and
// of Opus packets into an Ogg file, with pion's writers.
func writeMediaFiles(t *testing.T) (ivf, ogg string) {
	t.Helper()
	dir := t.TempDir()
	ivf, ogg = filepath.Join(dir, "camera.ivf"), filepath.Join(dir, "mic.ogg")
	iw, err := ivfwriter.New(ivf, ivfwriter.WithCodec(webrtc.MimeTypeVP8), ivfwriter.WithFrameRate(1, 30))
	must(t, err)
	ow, err := oggwriter.New(ogg, 48000, 2)
	must(t, err)
	for i := 0; i < 60; i++ { // 30 fps, a keyframe first: descriptor S=1, then a VP8 frame tag
		tag := byte(1)
		if i == 0 {
			tag = 0
		}
		payload := append([]byte{0x10, tag, 0x00, 0x00}, make([]byte, 500)...)
		must(t, iw.WriteRTP(&rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(i) * 3000, Marker: true}, Payload: payload}))
	}
	for i := 0; i < 100; i++ { // 20 ms Opus packets
		must(t, ow.WriteRTP(&rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(i) * 960}, Payload: []byte{0xfc, 0xff, 0xfe}}))
	}
	must(t, iw.Close())
	must(t, ow.Close())
	return ivf, ogg
}

// TestPublishMediaFiles publishes an IVF camera and an Ogg mic from Go:
// a subscriber receives both.
func TestPublishMediaFiles(t *testing.T) {
	ivf, ogg := writeMediaFiles(t)
	cam, err := client.NewIVFFile(ivf)
	must(t, err)
	mic, err := client.NewOggFile(ogg)
	must(t, err)
	n := startMediaNode(t, node.FileConfig{})
	ctx := ctxTimeout(t, 30*time.Second)
	pub := joinMedia(t, n, "pub")
	pub.SetCameraSource(cam)
	pub.SetMicSource(mic)
	sub := joinMediaWith(t, n, "sub", nil)
	meet, err := pub.CreateMeeting(ctx, "files", 0)
	must(t, err)
	for _, u := range []*mediaUser{pub, sub} {
		_, err := u.EnterMeeting(ctx, meet.ID, "", "")
		must(t, err)
	}
	must(t, pub.OpenVideo(ctx, "pub"))
	must(t, pub.OpenMic(ctx, "pub"))
	must(t, sub.SetVideo(ctx, "pub", protocol.VideoIDCamera, 0))
	// File payloads are not synthetic ones: only their arrival counts.
	sub.waitPackets(t, "pub/camera", 30, 10*time.Second)
	sub.waitPackets(t, "pub/mic", 30, 10*time.Second)
	if _, err := client.NewIVFFile(ogg); err == nil {
		t.Fatal("an Ogg file opened as IVF")
	}
}
