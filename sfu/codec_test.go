package sfu

import (
	"testing"

	"github.com/pion/webrtc/v4"
)

func TestKeyframeDetection(t *testing.T) {
	cases := []struct {
		mime    string
		payload []byte
		key     bool
	}{
		{"video/VP8", []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}, true},                    // S=1, PID=0, P=0
		{"video/VP8", []byte{0x10, 0x01}, false},                                     // P=1: inter frame
		{"video/VP8", []byte{0x00, 0x00}, false},                                     // not a partition start
		{"video/VP8", []byte{0x90, 0x80, 0x81, 0x23, 0x00}, true},                    // X, I with a 15-bit picture ID
		{"video/VP8", []byte{0x90, 0xe0, 0x12, 0x34, 0x56, 0x00}, true},              // X, I (7-bit), L, T
		{"video/VP8", []byte{0x90, 0x80}, false},                                     // truncated
		{"video/VP9", []byte{0x08}, true},                                            // B=1, P=0
		{"video/VP9", []byte{0x48}, false},                                           // P=1
		{"video/H264", []byte{0x65}, true},                                           // IDR
		{"video/H264", []byte{0x67}, true},                                           // SPS
		{"video/H264", []byte{0x41}, false},                                          // non-IDR slice
		{"video/H264", []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68}, true}, // STAP-A with an SPS
		{"video/H264", []byte{0x7c, 0x85}, true},                                     // FU-A start of an IDR
		{"video/H264", []byte{0x7c, 0x05}, false},                                    // FU-A continuation
		{"video/AV1", []byte{0x08}, true},
		{"audio/opus", []byte{0x10, 0x00}, false},
		{"video/VP8", nil, false},
	}
	for _, c := range cases {
		if got := isKeyframe(c.mime, c.payload); got != c.key {
			t.Errorf("%s %x: keyframe %v, want %v", c.mime, c.payload, got, c.key)
		}
	}
}

func FuzzIsKeyframe(f *testing.F) {
	f.Add("video/VP8", []byte{0x90, 0xe0, 0x12})
	f.Add("video/H264", []byte{0x78, 0x00, 0x02, 0x67})
	f.Fuzz(func(t *testing.T, mime string, payload []byte) {
		isKeyframe(mime, payload) // must not panic on anything a publisher sends
		audioLevel(payload)
	})
}

func TestAudioLevel(t *testing.T) {
	for dbov, want := range map[byte]int{0: 10, 6: 10, 7: 9, 30: 6, 63: 1, 70: 0, 127: 0, 0x80: 10} { // 0x80: the voice-activity bit is no level
		if got, ok := audioLevel([]byte{dbov}); !ok || got != want {
			t.Errorf("dBov %d: level %d, want %d", dbov&0x7f, got, want)
		}
	}
	if _, ok := audioLevel(nil); ok {
		t.Error("empty extension read as a level")
	}
}

func TestSortLayers(t *testing.T) {
	for _, rids := range [][]string{{"f", "q", "h"}, {"h", "l", "m"}, {"2", "0", "1"}} {
		ls := make([]*layer, len(rids))
		for i, r := range rids {
			ls[i] = &layer{rid: r}
		}
		sortLayers(ls)
		got := ls[0].rid + ls[1].rid + ls[2].rid
		if got != "qhf" && got != "lmh" && got != "012" {
			t.Errorf("%v sorted to %s", rids, got)
		}
		for i, l := range ls {
			if int(l.index.Load()) != i {
				t.Errorf("%s has index %d at %d", l.rid, l.index.Load(), i)
			}
		}
	}
}

func TestMatchCodec(t *testing.T) {
	have := []webrtc.RTPCodecParameters{
		{PayloadType: 100, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "video/H264", SDPFmtpLine: "profile-level-id=42001f"}},
		{PayloadType: 102, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "video/H264", SDPFmtpLine: "profile-level-id=42e01f"}},
		{PayloadType: 120, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "video/vp8"}},
	}
	want := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "video/H264", SDPFmtpLine: "profile-level-id=42e01f"}}
	if c, err := matchCodec(want, have); err != nil || c.PayloadType != 102 {
		t.Fatalf("H264 matched %v, %v", c.PayloadType, err)
	}
	if c, err := matchCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "video/VP8"}}, have); err != nil || c.PayloadType != 120 {
		t.Fatalf("VP8 matched %v, %v (mime case must not matter)", c.PayloadType, err)
	}
	if _, err := matchCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "video/AV1"}}, have); err == nil {
		t.Fatal("AV1 matched nothing offered")
	}
}
