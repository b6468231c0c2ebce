package sfu

import (
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Header extensions the SFU negotiates.
const (
	extAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
	extMid        = sdp.SDESMidURI
	extRID        = sdp.SDESRTPStreamIDURI
	extRepairRID  = sdp.SDESRepairRTPStreamIDURI
	extTWCC       = sdp.TransportCCURI
)

// codecs are what members may publish and receive. Payload types are
// only the node's preferences: each peer negotiates its own, and what is
// forwarded is rewritten to the subscriber's.
func codecs(up bool) []webrtc.RTPCodecParameters {
	video := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}, {Type: "goog-remb"}}
	if up {
		video = append(video, webrtc.RTCPFeedback{Type: "transport-cc"})
	}
	v := func(pt uint8, mime, fmtp string) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{PayloadType: webrtc.PayloadType(pt), RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: mime, ClockRate: 90000, SDPFmtpLine: fmtp, RTCPFeedback: video}}
	}
	return []webrtc.RTPCodecParameters{
		{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1"}},
		v(96, webrtc.MimeTypeVP8, ""),
		v(98, webrtc.MimeTypeVP9, "profile-id=0"),
		v(102, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
		v(104, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"),
		v(45, webrtc.MimeTypeAV1, ""),
	}
}

func registerCodecs(me *webrtc.MediaEngine, up bool) error {
	for _, c := range codecs(up) {
		kind := webrtc.RTPCodecTypeVideo
		if strings.HasPrefix(c.MimeType, "audio/") {
			kind = webrtc.RTPCodecTypeAudio
		}
		if err := me.RegisterCodec(c, kind); err != nil {
			return err
		}
	}
	type ext struct {
		uri  string
		kind webrtc.RTPCodecType
	}
	audio, video := webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo
	exts := []ext{{extAudioLevel, audio}}
	if up {
		exts = append(exts, ext{extMid, audio}, ext{extMid, video}, ext{extRID, video}, ext{extRepairRID, video},
			ext{extTWCC, audio}, ext{extTWCC, video})
	}
	for _, e := range exts {
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: e.uri}, e.kind); err != nil {
			return err
		}
	}
	return nil
}

// isKeyframe reports whether an RTP payload starts a keyframe, for the
// codecs whose payload says so cheaply. Forwarding starts, and simulcast
// switches, only on keyframes, so that decoders never see a broken picture.
func isKeyframe(mime string, payload []byte) bool {
	switch strings.ToLower(mime) {
	case "video/vp8":
		return vp8Keyframe(payload)
	case "video/vp9":
		// Descriptor byte 0: I P L F B E V Z. Not inter-predicted (P=0)
		// at the beginning of a frame (B=1).
		return len(payload) > 0 && payload[0]&0x40 == 0 && payload[0]&0x08 != 0
	case "video/h264":
		return h264Keyframe(payload)
	case "video/av1":
		// Aggregation header: Z Y W W N - - -; N marks a new coded video sequence.
		return len(payload) > 0 && payload[0]&0x08 != 0
	}
	return false
}

func vp8Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	// Payload descriptor: X R N S R PID(3). A keyframe starts a partition 0 (S=1, PID=0).
	x, s, pid := p[0]&0x80 != 0, p[0]&0x10 != 0, p[0]&0x07
	if !s || pid != 0 {
		return false
	}
	i := 1
	if x {
		if len(p) < 2 {
			return false
		}
		ext := p[1]
		i = 2
		if ext&0x80 != 0 { // I: picture ID, 7 or 15 bits
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if ext&0x30 != 0 { // T or K: TID/KEYIDX byte
			i++
		}
	}
	// VP8 payload header: the P bit (inverse keyframe flag) is bit 0.
	return len(p) > i && p[i]&0x01 == 0
}

func h264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch nal := p[0] & 0x1f; nal {
	case 5, 7: // IDR slice, SPS
		return true
	case 24: // STAP-A: NALUs with 2-byte sizes
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			if t := p[i+2] & 0x1f; t == 5 || t == 7 {
				return true
			}
			i += 2 + size
		}
	case 28: // FU-A: start bit and the fragmented NAL's type
		return len(p) > 1 && p[1]&0x80 != 0 && p[1]&0x1f == 5
	}
	return false
}

// audioLevel turns an RFC 6464 level (0 loudest to 127 dBov silence) into
// the CRVideo speaking energy 0-10.
func audioLevel(ext []byte) (level int, ok bool) {
	if len(ext) < 1 {
		return 0, false
	}
	dbov := int(ext[0] & 0x7f)
	e := 10 - dbov/7 // -0..-6 dBov: 10; -63 dBov and quieter: 1 or 0
	if e < 0 {
		e = 0
	}
	return e, true
}
