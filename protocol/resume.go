package protocol

// Resume: a session that outlives its connection (docs/protocol/resume.md).
const (
	// MethodResume picks a session up on a new connection.
	MethodResume = "resume"
	// MethodRestartDown asks the node to restart ICE on the down connection.
	MethodRestartDown = "restartDown"
	// MethodPing is the application-level keepalive of clients that cannot
	// send WebSocket pings; answered at once, logged in or not.
	MethodPing = "ping"
)

// CloseLost is the WebSocket close code with which a client says that it
// takes the connection for lost (no answer for too long) and will resume:
// the node keeps the session as after a network failure.
const CloseLost = 4001

// MaxResumeTokenLen bounds a resume token.
const MaxResumeTokenLen = 128

// ResumeParams are the params of resume.
type ResumeParams struct {
	Token   string `json:"token"`
	AppID   string `json:"appID"`
	UserID  UserID `json:"userID"`
	LastSeq uint64 `json:"lastSeq"`
}

// ResumeResult is the result of resume, sent after the replayed messages.
// Seq is that of the last message the node sent the session so far.
type ResumeResult struct {
	ResumeToken   string `json:"resumeToken"`
	ResumeGraceMs int64  `json:"resumeGraceMs"`
	Seq           uint64 `json:"seq"`
}

// NetStateChanged is the client-side event (not sent by the node) with
// which both SDKs tell the app that the connection was lost or is back.
const EventNetStateChanged = "netStateChanged"

// Net states of EventNetStateChanged.
const (
	NetLost     = "lost"
	NetRestored = "restored"
)

// NetState is the params of the client-side netStateChanged event.
type NetState struct {
	State string `json:"state"`
}

// Moving a session between the nodes of one service
// (docs/protocol/resume.md#moving-to-another-node): a member entering a
// meeting whose media another node forwards is answered 803 with a
// MoveTo in the error's data, and its session moves there with moveIn.
const (
	// MethodMoveIn takes a session of another node over on this
	// connection, with the token that node handed out in its MoveTo.
	MethodMoveIn = "moveIn"
)

// MoveTo is the data of the 803 that sends a session to another node:
// the WebSocket URL to connect to and the single-use token to present
// there, valid for MoveTokenTTLMs.
type MoveTo struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

// MoveData is the error data carrying a MoveTo.
type MoveData struct {
	MoveTo *MoveTo `json:"moveTo,omitempty"`
}

// MoveTokenTTLMs is how long a move token is valid, in milliseconds.
const MoveTokenTTLMs = 30000

// MaxMoveTokenLen bounds a move token.
const MaxMoveTokenLen = 512

// MoveInParams are the params of moveIn.
type MoveInParams struct {
	Token  string `json:"token"`
	AppID  string `json:"appID"`
	UserID UserID `json:"userID"`
}
