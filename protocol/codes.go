// Package protocol holds crvnode's wire contract: JSON-RPC 2.0 envelopes,
// the method and event names, their params and results, and the CRVideo
// error codes. The node, the Go client and tests import it; it imports
// nothing of theirs. docs/protocol/README.md describes the same contract in prose.
package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Code is a CRVideo sdkEr number. On the wire it is the JSON-RPC error code
// of a failed request and the sdkEr/sdkErr field of events.
type Code int

// CRVideo error codes (the CRVIDEOSDK_ERR_DEF table).
const (
	NoErr                  Code = 0
	UnknownErr             Code = 1
	OutOfMem               Code = 2
	InnerErr               Code = 3
	MismatchClientVer      Code = 4
	ParamErr               Code = 5
	ErrData                Code = 6
	AcntPswdErr            Code = 7
	ServerException        Code = 8
	LoginStateError        Code = 9
	UserBeenKickout        Code = 10
	NotInit                Code = 11
	NotLogin               Code = 12
	CustomAuthNoInfo       Code = 14
	CustomAuthNotSupport   Code = 15
	CustomAuthFailed       Code = 17
	TokenTimeout           Code = 18
	TokenAuthInfoErr       Code = 19
	TokenAppIDNotExist     Code = 20
	TokenAuthFailed        Code = 21
	APINoPermission        Code = 23
	NetworkInitFailed      Code = 200
	NoServerRsp            Code = 202
	CreateConnFailed       Code = 203
	SocketException        Code = 204
	SocketTimeout          Code = 205
	ForcedCloseConnection  Code = 206
	ConnectionLost         Code = 207
	QueueIDErr             Code = 400
	QueueNoUser            Code = 401
	QueueUserCancelled     Code = 402
	QueueServiceNotStart   Code = 403
	QueueAlreadyQueuing    Code = 404
	InvalidCallID          Code = 600
	ErrCallExist           Code = 601
	ErrBusy                Code = 602
	ErrOffline             Code = 603
	ErrNoAnswer            Code = 604
	ErrUserNotFound        Code = 605
	ErrRefuse              Code = 606
	MeetNotExist           Code = 800
	AuthError              Code = 801
	MemberOverflowError    Code = 802
	ResourceAllocateError  Code = 803
	MeetRoomLocked         Code = 804
	AlreadyLogin           Code = 807
	SendFail               Code = 1000
	SendCmdLarge           Code = 1100
	SendBufferLarge        Code = 1101
	SendDataTargetInvalid  Code = 1102
	SendFileFileInError    Code = 1103
	TransIDInvalid         Code = 1104
	FileNotExist           Code = 1400
	FileReadErr            Code = 1401
	FileWriteErr           Code = 1402
	FileSizeUnsupport      Code = 1405
	WebMediaPermissionDeny Code = 8002
	WebMediaOpenFailed     Code = 8007
)

// JSON-RPC 2.0's own error codes, used for envelope and shape errors only.
const (
	RPCParseError     Code = -32700
	RPCInvalidRequest Code = -32600
	RPCMethodNotFound Code = -32601
	RPCInvalidParams  Code = -32602
)

var codeNames = map[Code]string{
	NoErr: "NOERR", UnknownErr: "UNKNOWERR", OutOfMem: "OUTOF_MEM", InnerErr: "INNER_ERR",
	MismatchClientVer: "MISMATCHCLIENTVER", ParamErr: "PARAM_ERR", ErrData: "ERR_DATA",
	AcntPswdErr: "ANCTPSWD_ERR", ServerException: "SERVER_EXCEPTION", LoginStateError: "LOGINSTATE_ERROR",
	UserBeenKickout: "USER_BEEN_KICKOUT", NotInit: "NOT_INIT", NotLogin: "NOT_LOGIN",
	CustomAuthNoInfo: "CUSTOMAUTH_NOINFO", CustomAuthNotSupport: "CUSTOMAUTH_NOTSUPPORT",
	CustomAuthFailed: "CUSTOMAUTH_FAILED", TokenTimeout: "TOKEN_TIMEOUT", TokenAuthInfoErr: "TOKEN_AUTHINFOERR",
	TokenAppIDNotExist: "TOKEN_APPIDNOTEXIST", TokenAuthFailed: "TOKEN_AUTH_FAILED",
	APINoPermission: "API_NO_PERMISSION", NetworkInitFailed: "NETWORK_INITFAILED",
	NoServerRsp: "NOSERVER_RSP", CreateConnFailed: "CREATE_CONN_FAILED", SocketException: "SOCKETEXCEPTION",
	SocketTimeout: "SOCKETTIMEOUT", ForcedCloseConnection: "FORCEDCLOSECONNECTION",
	ConnectionLost: "CONNECTIONLOST", InvalidCallID: "INVALID_CALLID", ErrCallExist: "ERR_CALL_EXIST",
	ErrBusy: "ERR_BUSY", ErrOffline: "ERR_OFFLINE", ErrNoAnswer: "ERR_NOANSWER",
	ErrUserNotFound: "ERR_USER_NOT_FOUND", ErrRefuse: "ERR_REFUSE", MeetNotExist: "MEETNOTEXIST",
	AuthError: "AUTHERROR", MemberOverflowError: "MEMBEROVERFLOWERROR",
	ResourceAllocateError: "RESOURCEALLOCATEERROR", MeetRoomLocked: "MEETROOMLOCKED",
	QueueIDErr: "QUEUE_ID_ERR", QueueNoUser: "QUEUE_NOUSER", QueueUserCancelled: "QUEUE_USERCANCELLED",
	QueueServiceNotStart: "QUEUE_SERVICE_NOT_START", QueueAlreadyQueuing: "QUEUE_ALREADYQUEUING",
	AlreadyLogin: "ALREADYLOGIN", SendFail: "SENDFAIL", SendCmdLarge: "SENDCMD_LARGE",
	SendBufferLarge: "SENDBUFFER_LARGE", SendDataTargetInvalid: "SENDDATA_TARGETINVALID",
	SendFileFileInError: "SENDFILE_FILEINERROR", TransIDInvalid: "TRANSID_INVALID",
	FileNotExist: "FILE_NOT_EXIST", FileReadErr: "FILE_READ_ERR", FileWriteErr: "FILE_WRITE_ERR",
	FileSizeUnsupport: "FILE_SIZE_UNSUPPORT", WebMediaPermissionDeny: "WEB_MEDIA_PERMISSION_DENIED",
	WebMediaOpenFailed: "WEB_MEDIA_OPEN_FAILED",
	RPCParseError:      "PARSE_ERROR", RPCInvalidRequest: "INVALID_REQUEST",
	RPCMethodNotFound: "METHOD_NOT_FOUND", RPCInvalidParams: "INVALID_PARAMS",
}

// String returns the code's CRVideo name, e.g. "ERR_BUSY".
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("CODE_%d", int(c))
}

// Error is a failed request as a client sees it: a CRVideo code and a
// readable message. It is the JSON-RPC error object on the wire.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	// Data is JSON-RPC's optional error data: a MoveData on the 803 that
	// moves a session to another node, absent otherwise.
	Data json.RawMessage `json:"data,omitempty"`
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	return fmt.Sprintf("crvideo %s (%d): %s", e.Code, int(e.Code), e.Message)
}

// CodeOf returns the CRVideo code carried by err: NoErr for nil, the code of
// an *Error anywhere in its chain, UnknownErr otherwise.
func CodeOf(err error) Code {
	if err == nil {
		return NoErr
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return UnknownErr
}
