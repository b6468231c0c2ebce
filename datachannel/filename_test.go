package datachannel

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/crvnode/crvnode/protocol"
)

func TestSafeName(t *testing.T) {
	cases := map[string]string{
		"report.pdf":          "report.pdf",
		"../../etc/passwd":    "passwd",
		`a/b\c`:               "c",
		`C:\Users\x\evil.exe`: "evil.exe",
		"..":                  "file",
		".":                   "file",
		"":                    "file",
		"...":                 "file",
		".bashrc":             "bashrc",
		"  name . ":           "name",
		"a\x00b\x1fc\x7fd\ne": "abcde",
		"x\u202egnp.exe":      "xgnp.exe",
		"what?<>:*|\".txt":    "what_______.txt",
		"CON":                 "_CON",
		"nul.txt":             "_nul.txt",
		"com1.log":            "_com1.log",
		"console.txt":         "console.txt",
		"\xff\xfe":            "file",
		"报告/../张三 的文件.docx":   "张三 的文件.docx",
		"dir/":                "file",
	}
	for in, want := range cases {
		if got := SafeName(in); got != want {
			t.Errorf("SafeName(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("長", 300) + ".tar"
	got := SafeName(long)
	if len(got) > MaxSafeNameLen || !strings.HasSuffix(got, ".tar") || !utf8.ValidString(got) {
		t.Errorf("long name: %d bytes %q", len(got), got)
	}
	noExt := SafeName(strings.Repeat("a", 1000))
	if len(noExt) != MaxSafeNameLen {
		t.Errorf("long name without extension: %d bytes", len(noExt))
	}
}

// rawConn is a Conn that records what an endpoint sends.
type rawConn struct{ frames chan []byte }

func (c *rawConn) Send(b []byte) error {
	c.frames <- append([]byte(nil), b...)
	return nil
}
func (c *rawConn) BufferedAmount() uint64               { return 0 }
func (c *rawConn) SetBufferedAmountLowThreshold(uint64) {}
func (c *rawConn) OnBufferedAmountLow(func())           {}
func (c *rawConn) next(t *testing.T) Frame {
	t.Helper()
	select {
	case b := <-c.frames:
		f, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("no frame sent")
		return Frame{}
	}
}

func mustFrame(t *testing.T, f Frame) []byte {
	t.Helper()
	b, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sendRawFile plays a sender to ep, frame by frame, and returns the
// receiver's RESULT code.
func sendRawFile(t *testing.T, ep *Endpoint, c *rawConn, id TaskID, name string, data []byte) protocol.Code {
	t.Helper()
	ep.Handle(mustFrame(t, Frame{Type: TypeOffer, TaskID: id, Kind: KindFile, Peer: "mallory", Total: uint64(len(data)), Name: name}))
	if f := c.next(t); f.Type != TypeCredit {
		t.Fatalf("offer answered with %s %v", f.Type, f.Code)
	}
	if len(data) > 0 {
		ep.Handle(mustFrame(t, Frame{Type: TypeChunk, TaskID: id, Data: data}))
		if f := c.next(t); f.Type != TypeCredit || f.Taken != uint64(len(data)) {
			t.Fatalf("chunk answered with %+v", f)
		}
	}
	ep.Handle(mustFrame(t, Frame{Type: TypeEnd, TaskID: id, Hash: sha256.Sum256(data)}))
	f := c.next(t)
	if f.Type != TypeResult {
		t.Fatalf("end answered with %s", f.Type)
	}
	return f.Code
}

func TestHostileFileNamesStayInside(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "inbox")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	c := &rawConn{frames: make(chan []byte, 16)}
	rec := newRecorder()
	ep, err := NewEndpoint(c, Config{Dir: dir}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ep.Close(); <-ep.Done() }()
	names := []string{
		"../../etc/passwd", `a/b\c`, "..", ".", "evil\x00name\n\r.txt", "/", "../",
		strings.Repeat("x", 1000), strings.Repeat("é", 500) + ".bin", "passwd", "passwd", "CON",
		"..\\..\\win.ini", ".hidden", "a/../../..", " ", "\u202etxt.exe",
	}
	for i, name := range names {
		data := []byte(name + " content")
		id := TaskID("t" + string(rune('a'+i)))
		if code := sendRawFile(t, ep, c, id, name, data); code != protocol.NoErr {
			t.Fatalf("%q: result %v", name, code)
		}
		evs := rec.until(t, 5*time.Second, isType[*FileData])
		fd := evs[len(evs)-1].(*FileData)
		if filepath.Dir(fd.Path) != dir || fd.Name != name {
			t.Errorf("%q landed at %q (name %q)", name, fd.Path, fd.Name)
		}
		base := filepath.Base(fd.Path)
		if strings.HasPrefix(base, ".") || len(base) > MaxSafeNameLen+8 {
			t.Errorf("%q: final name %q", name, base)
		}
		got, err := os.ReadFile(fd.Path)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%q: content %q, %v", name, got, err)
		}
	}
	if ents := dirEntries(t, parent); len(ents) != 1 {
		t.Errorf("something was written next to the directory: %v", ents)
	}
	ents := dirEntries(t, dir)
	if len(ents) != len(names) {
		t.Errorf("%d files for %d transfers: %v", len(ents), len(names), ents)
	}
	for _, e := range ents {
		if strings.HasSuffix(e, ".part") {
			t.Errorf("partial file left: %s", e)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "passwd (1)")); err != nil {
		t.Errorf("second passwd did not get a unique name: %v", err)
	}
}

func TestReceiverRejectsBadSequences(t *testing.T) {
	dir := t.TempDir()
	c := &rawConn{frames: make(chan []byte, 16)}
	ep, err := NewEndpoint(c, Config{Dir: dir, Window: 1024}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ep.Close(); <-ep.Done() }()
	offer := func(id TaskID, total uint64) {
		ep.Handle(mustFrame(t, Frame{Type: TypeOffer, TaskID: id, Kind: KindFile, Peer: "m", Total: total, Name: "f"}))
		if f := c.next(t); f.Type != TypeCredit || f.Window != 1024 {
			t.Fatalf("offer answered with %+v", f)
		}
	}
	expectResult := func(what string, want protocol.Code) {
		t.Helper()
		if f := c.next(t); f.Type != TypeResult || f.Code != want {
			t.Errorf("%s: got %s %v, want RESULT %v", what, f.Type, f.Code, want)
		}
	}
	offer("gap", 100)
	ep.Handle(mustFrame(t, Frame{Type: TypeChunk, TaskID: "gap", Offset: 10, Data: []byte("x")}))
	expectResult("chunk with a gap", protocol.SendFail)

	offer("credit", 5000)
	ep.Handle(mustFrame(t, Frame{Type: TypeChunk, TaskID: "credit", Data: make([]byte, 1025)}))
	expectResult("chunk beyond the credit", protocol.SendFail)

	offer("short", 10)
	ep.Handle(mustFrame(t, Frame{Type: TypeChunk, TaskID: "short", Data: []byte("12345")}))
	ep.Handle(mustFrame(t, Frame{Type: TypeEnd, TaskID: "short", Hash: sha256.Sum256([]byte("12345"))}))
	expectResult("end before all bytes", protocol.SendFail)

	ep.Handle(mustFrame(t, Frame{Type: TypeOffer, TaskID: "big", Kind: KindBuffer, Peer: "m", Total: DefaultMaxBuffer + 1}))
	expectResult("buffer over the limit", protocol.SendBufferLarge)
	ep.Handle(mustFrame(t, Frame{Type: TypeOffer, TaskID: "huge", Kind: KindFile, Peer: "m", Total: DefaultMaxFile + 1, Name: "f"}))
	expectResult("file over the limit", protocol.FileSizeUnsupport)

	if ents := dirEntries(t, dir); len(ents) != 0 {
		t.Errorf("files left: %v", ents)
	}
}
