package datachannel

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/crvnode/crvnode/protocol"
)

// Type is a frame's first byte: what the frame says.
type Type uint8

// Frame types. Sender-side frames go from the sending client towards the
// receiving one; receiver-side frames go back. See FORMAT.md.
const (
	TypeCmd    Type = 0x01 // sender → receiver: a whole command in one frame
	TypeOffer  Type = 0x02 // sender → receiver: a buffer or file transfer starts
	TypeChunk  Type = 0x03 // sender → receiver: bytes at an offset
	TypeEnd    Type = 0x04 // sender → receiver: all bytes sent, with their SHA-256
	TypeCredit Type = 0x05 // receiver → sender: bytes taken so far and the window
	TypeResult Type = 0x06 // receiver or node → sender: the outcome
	TypeCancel Type = 0x07 // sender or node → receiver: the transfer is abandoned
)

// String names the type as FORMAT.md does ("CHUNK").
func (t Type) String() string {
	switch t {
	case TypeCmd:
		return "CMD"
	case TypeOffer:
		return "OFFER"
	case TypeChunk:
		return "CHUNK"
	case TypeEnd:
		return "END"
	case TypeCredit:
		return "CREDIT"
	case TypeResult:
		return "RESULT"
	case TypeCancel:
		return "CANCEL"
	}
	return fmt.Sprintf("TYPE_%#04x", uint8(t))
}

// fromSender reports whether frames of this type travel from the sending
// client towards the receiving one (the others travel back).
func (t Type) fromSender() bool {
	return t == TypeCmd || t == TypeOffer || t == TypeChunk || t == TypeEnd || t == TypeCancel
}

// Kind is what a task carries: SendCmd, SendBuffer or SendFile.
type Kind uint8

// Task kinds. An OFFER carries KindBuffer or KindFile; a command is a
// single CMD frame.
const (
	KindCmd    Kind = 1
	KindBuffer Kind = 2
	KindFile   Kind = 3
)

// String names the kind ("file").
func (k Kind) String() string {
	switch k {
	case KindCmd:
		return "cmd"
	case KindBuffer:
		return "buffer"
	case KindFile:
		return "file"
	}
	return fmt.Sprintf("kind_%d", uint8(k))
}

// CancelBy says who abandoned a transfer in a CANCEL frame.
type CancelBy uint8

// Who cancels: the sending user (CancelSend, or its file failing), or the
// node (the sender went away, or broke the protocol).
const (
	CancelBySender CancelBy = 1
	CancelByNode   CancelBy = 2
)

// TaskID names one transfer; the sender chooses it (a UUID string).
type TaskID string

// UserID is an app's identifier of one of its users.
type UserID = protocol.UserID

// Wire limits. A frame that breaks one does not decode.
const (
	MaxTaskIDLen = protocol.MaxClientIDLen // bytes of a task ID
	MaxPeerLen   = 128                     // bytes of a user ID (as signaling allows)
	MaxNameLen   = 1024                    // bytes of a file name in an OFFER
	MaxChunk     = 16 << 10                // data bytes in one CHUNK
	MaxCmdData   = 64 << 10                // data bytes in one CMD
	MaxWindow    = 16 << 20                // window of one CREDIT
	MaxTotal     = 1<<53 - 1               // sizes and offsets stay exact in JavaScript numbers
	HashLen      = sha256.Size             // bytes of the END hash
	maxCode      = 1<<16 - 1               // codes travel as u16
	chunkHeadMax = 2 + MaxTaskIDLen + 8
)

// MaxFrameLen is the largest valid frame (a CMD with the longest IDs and
// MaxCmdData bytes); every data channel in use accepts it (browsers take
// 256 KiB messages, pion 1 GiB).
const MaxFrameLen = 2 + MaxTaskIDLen + 1 + MaxPeerLen + MaxCmdData

// Frame is one data channel message, decoded. Only the fields of its Type
// are meaningful; Encode ignores the others and Decode leaves them zero.
type Frame struct {
	Type   Type
	TaskID TaskID

	Kind   Kind          // OFFER
	Peer   UserID        // CMD, OFFER: the target from a client, the source from the node
	Total  uint64        // OFFER: size of the whole content
	Name   string        // OFFER of a file: the sender's file name (untrusted)
	Offset uint64        // CHUNK: position of Data in the content
	Data   []byte        // CMD, CHUNK
	Taken  uint64        // CREDIT: bytes the receiver has taken (the progress)
	Window uint32        // CREDIT: the sender may send up to Taken+Window
	Hash   [HashLen]byte // END: SHA-256 of the whole content
	Code   protocol.Code // RESULT, CANCEL: CRVideo code
	By     CancelBy      // CANCEL
}

// Encode validates f and returns its bytes.
func (f *Frame) Encode() ([]byte, error) {
	return f.Append(make([]byte, 0, f.encodedLen()))
}

// Append validates f and appends its bytes to b.
func (f *Frame) Append(b []byte) ([]byte, error) {
	if err := f.validate(); err != nil {
		return b, err
	}
	b = append(b, byte(f.Type), byte(len(f.TaskID)))
	b = append(b, f.TaskID...)
	switch f.Type {
	case TypeCmd:
		b = append(b, byte(len(f.Peer)))
		b = append(b, f.Peer...)
		b = append(b, f.Data...)
	case TypeOffer:
		b = append(b, byte(f.Kind), byte(len(f.Peer)))
		b = append(b, f.Peer...)
		b = binary.BigEndian.AppendUint64(b, f.Total)
		b = binary.BigEndian.AppendUint16(b, uint16(len(f.Name)))
		b = append(b, f.Name...)
	case TypeChunk:
		b = binary.BigEndian.AppendUint64(b, f.Offset)
		b = append(b, f.Data...)
	case TypeEnd:
		b = append(b, f.Hash[:]...)
	case TypeCredit:
		b = binary.BigEndian.AppendUint64(b, f.Taken)
		b = binary.BigEndian.AppendUint32(b, f.Window)
	case TypeResult:
		b = binary.BigEndian.AppendUint16(b, uint16(f.Code))
	case TypeCancel:
		b = append(b, byte(f.By))
		b = binary.BigEndian.AppendUint16(b, uint16(f.Code))
	}
	return b, nil
}

func (f *Frame) encodedLen() int {
	return 2 + len(f.TaskID) + 1 + len(f.Peer) + 16 + len(f.Name) + len(f.Data) + HashLen
}

// Decode parses one frame strictly: known type, bounded and exact lengths,
// no trailing bytes. Data aliases b. A malformed frame is an error wrapping
// ErrMalformed, never a panic.
func Decode(b []byte) (Frame, error) {
	var f Frame
	r := reader{b: b}
	f.Type = Type(r.u8())
	f.TaskID = TaskID(r.bytes(int(r.u8())))
	switch f.Type {
	case TypeCmd:
		f.Peer = UserID(r.bytes(int(r.u8())))
		f.Data = r.rest()
	case TypeOffer:
		f.Kind = Kind(r.u8())
		f.Peer = UserID(r.bytes(int(r.u8())))
		f.Total = r.u64()
		f.Name = string(r.bytes(int(r.u16())))
	case TypeChunk:
		f.Offset = r.u64()
		f.Data = r.rest()
	case TypeEnd:
		copy(f.Hash[:], r.bytes(HashLen))
	case TypeCredit:
		f.Taken = r.u64()
		f.Window = r.u32()
	case TypeResult:
		f.Code = protocol.Code(r.u16())
	case TypeCancel:
		f.By = CancelBy(r.u8())
		f.Code = protocol.Code(r.u16())
	}
	if r.err != nil {
		return Frame{}, fmt.Errorf("%w: %s: %w", ErrMalformed, f.Type, r.err)
	}
	if len(r.b) != 0 {
		return Frame{}, fmt.Errorf("%w: %s: %d trailing bytes", ErrMalformed, f.Type, len(r.b))
	}
	if err := f.validate(); err != nil {
		return Frame{}, err
	}
	return f, nil
}

// peekHeader returns a frame's type and task ID if at least those parse.
func peekHeader(b []byte) (Type, TaskID, bool) {
	r := reader{b: b}
	t := Type(r.u8())
	id := TaskID(r.bytes(int(r.u8())))
	return t, id, r.err == nil && validTaskID(id)
}

// validate checks every field of f's type against the wire limits.
func (f *Frame) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrMalformed, f.Type, fmt.Sprintf(format, args...))
	}
	if !validTaskID(f.TaskID) {
		return bad("task ID must be 1-%d bytes of [A-Za-z0-9._-]", MaxTaskIDLen)
	}
	switch f.Type {
	case TypeCmd:
		if !validPeer(f.Peer) {
			return bad("user ID must be 1-%d bytes of UTF-8 without control characters", MaxPeerLen)
		}
		if len(f.Data) > MaxCmdData {
			return bad("%d data bytes, limit %d", len(f.Data), MaxCmdData)
		}
	case TypeOffer:
		return f.validateOffer(bad)
	case TypeChunk:
		if len(f.Data) == 0 || len(f.Data) > MaxChunk {
			return bad("%d data bytes, want 1-%d", len(f.Data), MaxChunk)
		}
		if f.Offset > MaxTotal-uint64(len(f.Data)) {
			return bad("offset %d past the size limit", f.Offset)
		}
	case TypeEnd:
	case TypeCredit:
		if f.Taken > MaxTotal || f.Window > MaxWindow {
			return bad("taken %d or window %d out of range", f.Taken, f.Window)
		}
	case TypeResult, TypeCancel:
		if f.Code < 0 || f.Code > maxCode {
			return bad("code %d out of range", f.Code)
		}
		if f.Type == TypeCancel && f.By != CancelBySender && f.By != CancelByNode {
			return bad("unknown canceller %d", f.By)
		}
	default:
		return fmt.Errorf("%w: unknown frame type %#04x", ErrMalformed, uint8(f.Type))
	}
	return nil
}

func (f *Frame) validateOffer(bad func(string, ...any) error) error {
	if !validPeer(f.Peer) {
		return bad("user ID must be 1-%d bytes of UTF-8 without control characters", MaxPeerLen)
	}
	if f.Total > MaxTotal {
		return bad("size %d past the limit", f.Total)
	}
	switch f.Kind {
	case KindBuffer:
		if f.Name != "" {
			return bad("a buffer has no name")
		}
	case KindFile:
		if f.Name == "" || len(f.Name) > MaxNameLen || !utf8.ValidString(f.Name) {
			return bad("file name must be 1-%d bytes of UTF-8", MaxNameLen)
		}
	default:
		return bad("kind %d cannot be offered", f.Kind)
	}
	return nil
}

// validTaskID accepts what signaling accepts as a client-made ID.
func validTaskID(id TaskID) bool { return protocol.ValidClientID(string(id)) }

// validPeer accepts what signaling accepts as a userID.
func validPeer(u UserID) bool {
	if u == "" || len(u) > MaxPeerLen || !utf8.ValidString(u) {
		return false
	}
	for _, r := range u {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// reader consumes big-endian fields; the first shortfall sticks in err.
type reader struct {
	b   []byte
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.err = fmt.Errorf("truncated: want %d bytes, have %d", n, len(r.b))
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) rest() []byte { return r.bytes(len(r.b)) }

func (r *reader) u8() uint8 {
	if p := r.bytes(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if p := r.bytes(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if p := r.bytes(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if p := r.bytes(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}
