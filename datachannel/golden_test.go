package datachannel

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/crvnode/crvnode/protocol"
)

// goldenFramesFile is the table of golden frames that the Go codec and the
// browser SDK's (e2e/browser_sdk_frames_test.go) are both held to.
const goldenFramesFile = "testdata/golden_frames.json"

type goldenTable struct {
	Comment []string        `json:"comment"`
	Valid   []goldenValid   `json:"valid"`
	Invalid []goldenInvalid `json:"invalid"`
}

type goldenValid struct {
	Name  string      `json:"name"`
	Hex   string      `json:"hex"`
	Zeros int         `json:"zeros"`
	Frame goldenFrame `json:"frame"`
}

type goldenInvalid struct {
	Name  string `json:"name"`
	Hex   string `json:"hex"`
	Zeros int    `json:"zeros"`
}

// goldenFrame is a Frame as the table writes it: the type by its name,
// data and hash in hex.
type goldenFrame struct {
	Type   string `json:"type"`
	TaskID string `json:"taskID"`
	Kind   uint8  `json:"kind"`
	Peer   string `json:"peer"`
	Total  uint64 `json:"total"`
	Name   string `json:"name"`
	Offset uint64 `json:"offset"`
	Data   string `json:"data"`
	Taken  uint64 `json:"taken"`
	Window uint32 `json:"window"`
	Hash   string `json:"hash"`
	Code   int    `json:"code"`
	By     uint8  `json:"by"`
}

func readGoldenTable(t *testing.T) goldenTable {
	t.Helper()
	b, err := os.ReadFile(goldenFramesFile)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var g goldenTable
	if err := d.Decode(&g); err != nil {
		t.Fatalf("%s: %v", goldenFramesFile, err)
	}
	return g
}

// bytesOf is an entry's frame: its hex, then zeros zero bytes.
func bytesOf(t *testing.T, h string, zeros int) []byte {
	t.Helper()
	return append(unhex(t, h), make([]byte, zeros)...)
}

func (g goldenFrame) frame(t *testing.T, zeros int) Frame {
	t.Helper()
	f := Frame{
		TaskID: TaskID(g.TaskID), Kind: Kind(g.Kind), Peer: UserID(g.Peer), Total: g.Total, Name: g.Name,
		Offset: g.Offset, Taken: g.Taken, Window: g.Window, Code: protocol.Code(g.Code), By: CancelBy(g.By),
	}
	for ty := TypeCmd; ty <= TypeCancel; ty++ {
		if ty.String() == g.Type {
			f.Type = ty
		}
	}
	if f.Type == 0 {
		t.Fatalf("unknown type %q", g.Type)
	}
	if g.Data != "" || zeros > 0 {
		f.Data = bytesOf(t, g.Data, zeros)
	}
	if g.Hash != "" {
		h := unhex(t, g.Hash)
		if len(h) != HashLen {
			t.Fatalf("hash of %d bytes", len(h))
		}
		copy(f.Hash[:], h)
	}
	return f
}

// sameFrame compares two frames, empty and nil data alike.
func sameFrame(a, b Frame) bool {
	if len(a.Data) == 0 {
		a.Data = nil
	}
	if len(b.Data) == 0 {
		b.Data = nil
	}
	return reflect.DeepEqual(a, b)
}

// The shared table holds for the Go codec: every valid frame decodes to
// its fields and encodes from them to its bytes, every invalid one fails
// with ErrMalformed. It includes the examples of FORMAT.md (the golden
// frames of frame_test.go).
func TestGoldenFramesTable(t *testing.T) {
	g := readGoldenTable(t)
	if len(g.Valid) < len(golden) || len(g.Invalid) < 20 {
		t.Fatalf("%d valid and %d invalid frames: the table is cut short", len(g.Valid), len(g.Invalid))
	}
	names := map[string]bool{}
	for _, v := range g.Valid {
		if names[v.Name] {
			t.Errorf("two entries named %q", v.Name)
		}
		names[v.Name] = true
		want := v.Frame.frame(t, v.Zeros)
		if v.Zeros > 0 && want.Type != TypeCmd && want.Type != TypeChunk {
			t.Errorf("%s: zeros end the data, and a %s has none", v.Name, want.Type)
		}
		b := bytesOf(t, v.Hex, v.Zeros)
		if enc, err := want.Encode(); err != nil || !bytes.Equal(enc, b) {
			t.Errorf("%s: Encode = %x, %v; want %x", v.Name, enc, err, b)
		}
		if f, err := Decode(b); err != nil || !sameFrame(f, want) {
			t.Errorf("%s: Decode = %+v, %v; want %+v", v.Name, f, err, want)
		}
	}
	for _, v := range g.Invalid {
		if names[v.Name] {
			t.Errorf("two entries named %q", v.Name)
		}
		names[v.Name] = true
		if f, err := Decode(bytesOf(t, v.Hex, v.Zeros)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Decode = %+v, %v; want ErrMalformed", v.Name, f, err)
		}
	}
	// Every golden frame of frame_test.go is in the table, with its fields.
	for _, want := range golden {
		found := false
		for _, v := range g.Valid {
			if strings.EqualFold(v.Hex, want.hex) && v.Zeros == 0 && sameFrame(v.Frame.frame(t, 0), want.frame) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s frame %s of frame_test.go is not in %s", want.frame.Type, want.hex, goldenFramesFile)
		}
	}
}
