package protocol

import (
	"bytes"
	"encoding/json"
)

// Version is the JSON-RPC version every message carries.
const Version = "2.0"

// Message is one JSON-RPC 2.0 message in either direction: a request
// (ID and Method), a notification (Method, no ID), or a response (ID with
// Result or Error). Params and Result stay raw so that the receiver decodes
// them into the type the method names.
type Message struct {
	// Seq numbers the messages the node sends a logged-in session
	// (docs/protocol/resume.md); 0 (absent) on everything else.
	Seq     uint64          `json:"seq,omitempty"`
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// IsRequest reports whether m is a request that expects a response.
func (m *Message) IsRequest() bool { return m.Method != "" && len(m.ID) > 0 }

// IsNotification reports whether m is a notification (an event from the
// node, or a request from a client that wants no response).
func (m *Message) IsNotification() bool { return m.Method != "" && len(m.ID) == 0 }

// IsResponse reports whether m answers a request.
func (m *Message) IsResponse() bool { return m.Method == "" && len(m.ID) > 0 }

// ValidID reports whether id is a JSON string or number, the two kinds of
// request id crvnode accepts.
func ValidID(id json.RawMessage) bool {
	id = bytes.TrimSpace(id)
	if len(id) == 0 {
		return false
	}
	switch c := id[0]; {
	case c == '"':
		var s string
		return json.Unmarshal(id, &s) == nil
	case c == '-' || (c >= '0' && c <= '9'):
		var n json.Number
		return json.Unmarshal(id, &n) == nil
	}
	return false
}

// NewRequest builds a request message with params encoded as JSON.
func NewRequest(id int64, method string, params any) (*Message, error) {
	p, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	idRaw, _ := json.Marshal(id)
	return &Message{JSONRPC: Version, ID: idRaw, Method: method, Params: p}, nil
}

// NewNotification builds a notification (an event) with params encoded as JSON.
func NewNotification(method string, params any) (*Message, error) {
	p, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	return &Message{JSONRPC: Version, Method: method, Params: p}, nil
}

// NewResult builds a success response to the request with the given id.
func NewResult(id json.RawMessage, result any) (*Message, error) {
	r, err := json.Marshal(result)
	if err != nil {
		return nil, err
	}
	return &Message{JSONRPC: Version, ID: id, Result: r}, nil
}

// NewError builds an error response. A nil id (unknown, e.g. after a parse
// error) is sent as JSON null, as JSON-RPC requires.
func NewError(id json.RawMessage, e *Error) *Message {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	return &Message{JSONRPC: Version, ID: id, Error: e}
}
