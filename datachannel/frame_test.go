package datachannel

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/crvnode/crvnode/protocol"
)

// The examples of FORMAT.md, byte for byte.
var golden = []struct {
	hex   string
	frame Frame
}{
	{"01 02 74 31 03 62 6f 62 68 69", Frame{Type: TypeCmd, TaskID: "t1", Peer: "bob", Data: []byte("hi")}},
	{"02 02 74 31 02 03 62 6f 62 00 00 00 00 00 00 00 05 00 00", Frame{Type: TypeOffer, TaskID: "t1", Kind: KindBuffer, Peer: "bob", Total: 5}},
	{"03 02 74 31 00 00 00 00 00 00 00 00 68 65 6c 6c 6f", Frame{Type: TypeChunk, TaskID: "t1", Data: []byte("hello")}},
	{"05 02 74 31 00 00 00 00 00 01 00 00 00 04 00 00", Frame{Type: TypeCredit, TaskID: "t1", Taken: 65536, Window: 256 << 10}},
	{"06 02 74 31 04 4c", Frame{Type: TypeResult, TaskID: "t1", Code: protocol.SendCmdLarge}},
	{"07 02 74 31 01 00 00", Frame{Type: TypeCancel, TaskID: "t1", By: CancelBySender}},
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFrameGolden(t *testing.T) {
	for _, g := range golden {
		want := unhex(t, g.hex)
		got, err := g.frame.Encode()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: encode = %x, %v; want %x", g.frame.Type, got, err, want)
		}
		f, err := Decode(want)
		if err != nil || !reflect.DeepEqual(f, g.frame) {
			t.Errorf("%s: decode = %+v, %v", g.frame.Type, f, err)
		}
	}
}

func TestFrameRoundTripAllTypes(t *testing.T) {
	frames := []Frame{
		{Type: TypeCmd, TaskID: "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d", Peer: "张三", Data: bytes.Repeat([]byte{0, 255}, MaxCmdData/2)},
		{Type: TypeOffer, TaskID: "a.b_c-d", Kind: KindFile, Peer: strings.Repeat("u", MaxPeerLen), Total: MaxTotal, Name: "报告 v2.pdf"},
		{Type: TypeChunk, TaskID: "x", Offset: MaxTotal - MaxChunk, Data: make([]byte, MaxChunk)},
		{Type: TypeEnd, TaskID: TaskID(strings.Repeat("z", MaxTaskIDLen)), Hash: [HashLen]byte{1, 2, 3, 31: 9}},
		{Type: TypeCredit, TaskID: "x", Taken: MaxTotal, Window: MaxWindow},
		{Type: TypeResult, TaskID: "x", Code: protocol.WebMediaOpenFailed},
		{Type: TypeCancel, TaskID: "x", By: CancelByNode, Code: protocol.SendFail},
	}
	for _, f := range frames {
		b, err := f.Encode()
		if err != nil {
			t.Fatalf("%s: %v", f.Type, err)
		}
		if len(b) > MaxFrameLen {
			t.Errorf("%s: %d bytes, more than MaxFrameLen", f.Type, len(b))
		}
		g, err := Decode(b)
		if err != nil || !reflect.DeepEqual(g, f) {
			t.Errorf("%s: round trip = %+v, %v", f.Type, g, err)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	cases := map[string]string{
		"empty":            "",
		"unknown type":     "09 02 74 31",
		"type zero":        "00 02 74 31 00",
		"no task ID":       "06 00 00 00",
		"bad task ID":      "06 02 74 2f 00 00",
		"short task ID":    "06 05 74 31",
		"result truncated": "06 02 74 31 04",
		"result trailing":  "06 02 74 31 04 4c 00",
		"cmd no peer":      "01 02 74 31 00 68 69",
		"cmd peer control": "01 02 74 31 01 0a",
		"cmd peer invalid": "01 02 74 31 01 ff",
		"offer kind cmd":   "02 02 74 31 01 03 62 6f 62 00 00 00 00 00 00 00 05 00 00",
		"offer kind 9":     "02 02 74 31 09 03 62 6f 62 00 00 00 00 00 00 00 05 00 00",
		"buffer with name": "02 02 74 31 02 03 62 6f 62 00 00 00 00 00 00 00 05 00 01 61",
		"file no name":     "02 02 74 31 03 03 62 6f 62 00 00 00 00 00 00 00 05 00 00",
		"file bad utf8":    "02 02 74 31 03 03 62 6f 62 00 00 00 00 00 00 00 05 00 01 c3",
		"offer too large":  "02 02 74 31 02 03 62 6f 62 00 20 00 00 00 00 00 00 00 00",
		"name truncated":   "02 02 74 31 03 03 62 6f 62 00 00 00 00 00 00 00 05 00 05 61",
		"chunk empty":      "03 02 74 31 00 00 00 00 00 00 00 00",
		"chunk past max":   "03 02 74 31 00 1f ff ff ff ff ff ff 68",
		"end short hash":   "04 02 74 31 00 01 02",
		"credit window":    "05 02 74 31 00 00 00 00 00 00 00 00 01 00 00 01",
		"credit short":     "05 02 74 31 00 00 00 00 00 00 00 00 00 04",
		"cancel by 0":      "07 02 74 31 00 00 00",
		"cancel by 3":      "07 02 74 31 03 00 00",
		"cancel trailing":  "07 02 74 31 01 00 00 00",
	}
	for name, h := range cases {
		if f, err := Decode(unhex(t, h)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Decode = %+v, %v; want ErrMalformed", name, f, err)
		}
	}
	big := append(unhex(t, "03 02 74 31 00 00 00 00 00 00 00 00"), make([]byte, MaxChunk+1)...)
	if _, err := Decode(big); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized chunk decodes: %v", err)
	}
	cmd := append(unhex(t, "01 02 74 31 01 61"), make([]byte, MaxCmdData+1)...)
	if _, err := Decode(cmd); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized cmd decodes: %v", err)
	}
	if _, err := (&Frame{Type: TypeResult, TaskID: "t", Code: 70000}).Encode(); !errors.Is(err, ErrMalformed) {
		t.Errorf("code past u16 encodes: %v", err)
	}
}

// FuzzDecodeFrame: whatever decodes re-encodes to the same bytes (the
// encoding is canonical) and decodes to the same frame; nothing panics.
func FuzzDecodeFrame(f *testing.F) {
	for _, g := range golden {
		f.Add(unhex(f, g.hex))
	}
	f.Add(unhex(f, "04 01 41 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f"))
	f.Add(unhex(f, "02 02 74 31 03 03 62 6f 62 00 00 00 00 00 00 00 05 00 03 61 2f 62"))
	f.Add(unhex(f, "07 02 74 31 02 03 e8"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		enc, err := fr.Encode()
		if err != nil {
			t.Fatalf("decoded frame does not encode: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, enc)
		}
		again, err := Decode(enc)
		if err != nil || !reflect.DeepEqual(again, fr) {
			t.Fatalf("second decode = %+v, %v; want %+v", again, err, fr)
		}
	})
}
