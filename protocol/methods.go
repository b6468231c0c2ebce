package protocol

// Method names: the CRVideo function name without "CRVideo_", first letter
// lower-cased. Where the two API documents spell a function differently,
// both names are methods and reach the same code.
const (
	MethodLogin                 = "login"
	MethodLoginByToken          = "loginByToken"
	MethodLogout                = "logout"
	MethodSetDNDStatus          = "setDNDStatus"
	MethodGetUserStatus         = "getUserStatus"
	MethodStartUserStatusNotify = "startUserStatusNotify"
	MethodStopUserStatusNotify  = "stopUserStatusNotify"
	MethodCreateMeeting         = "createMeeting"
	MethodDestroyMeeting        = "destroyMeeting"
	MethodGetMeetings           = "getMeetings"
	MethodEnterMeeting          = "enterMeeting"
	MethodExitMeeting           = "exitMeeting"
	MethodCall                  = "call"
	MethodAcceptCall            = "acceptCall"
	MethodRejectCall            = "rejectCall"
	MethodHungupCall            = "hungupCall"
	MethodCallMoreParty         = "callMoreParty"
	MethodClientInvite          = "clientInvite" // alias of callMoreParty
	MethodCancelCallMoreParty   = "cancelCallMoreParty"
	MethodClientCancelInvite    = "clientCancelInvite" // alias of cancelCallMoreParty
	MethodKickout               = "kickout"
	// MethodRefreshICEServers returns fresh TURN credentials (the login's
	// expire, by default after an hour); clients call it before opening a
	// PeerConnection late in a session.
	MethodRefreshICEServers    = "refreshIceServers"
	MethodSendMeetingCustomMsg = "sendMeetingCustomMsg"
)

// Methods lists every method the node serves, in documentation order.
var Methods = []string{
	MethodLogin, MethodLoginByToken, MethodLogout, MethodUpdateToken, MethodSetNickName, MethodSetDNDStatus,
	MethodGetUserStatus, MethodStartUserStatusNotify, MethodStopUserStatusNotify,
	MethodCreateMeeting, MethodDestroyMeeting, MethodGetMeetings,
	MethodEnterMeeting, MethodExitMeeting,
	MethodCall, MethodAcceptCall, MethodRejectCall, MethodHungupCall,
	MethodCallMoreParty, MethodClientInvite, MethodCancelCallMoreParty, MethodClientCancelInvite,
	MethodKickout, MethodSendMeetingCustomMsg, MethodRefreshICEServers,
	MethodResume, MethodRestartDown, MethodPing, MethodMoveIn,
}

// LoginParams are the params of login. The authAcnt/authPswd/privAcnt/
// privAuthCode spellings of the second API document are accepted too; use
// Normalize to fold them into the first spelling.
type LoginParams struct {
	AppID        string `json:"appID,omitempty"`
	AppSecret    string `json:"appSecret,omitempty"` // lower-case hex MD5 of the app secret
	NickName     string `json:"nickName"`
	UserID       UserID `json:"userID,omitempty"`
	UserAuthCode string `json:"userAuthCode,omitempty"` // "" or an HS256 JWT

	AuthAcnt     string `json:"authAcnt,omitempty"`
	AuthPswd     string `json:"authPswd,omitempty"`
	PrivAcnt     string `json:"privAcnt,omitempty"`
	PrivAuthCode string `json:"privAuthCode,omitempty"`
}

// Normalize folds the second document's spellings into the first one.
func (p *LoginParams) Normalize() {
	pick := func(dst *string, alt *string) {
		if *dst == "" {
			*dst = *alt
		}
		*alt = ""
	}
	pick(&p.AppID, &p.AuthAcnt)
	pick(&p.AppSecret, &p.AuthPswd)
	pick(&p.UserID, &p.PrivAcnt)
	pick(&p.UserAuthCode, &p.PrivAuthCode)
}

// LoginByTokenParams are the params of loginByToken: token is an HS256 JWT
// signed with the app's secret whose "appID" claim names the app.
type LoginByTokenParams struct {
	Token        string `json:"token" crv:"required"`
	NickName     string `json:"nickName"`
	UserID       UserID `json:"userID"`
	UserAuthCode string `json:"userAuthCode,omitempty"`
}

// LoginResult is the result of login and loginByToken.
type LoginResult struct {
	UserID     UserID      `json:"userID"`
	NickName   string      `json:"nickName"`
	AppID      string      `json:"appID"`
	ICEServers []ICEServer `json:"iceServers"`
	// ResumeToken and ResumeGraceMs let the client resume the session on
	// a new connection (resume.go); absent when the node keeps no session
	// past its connection.
	ResumeToken   string `json:"resumeToken,omitempty"`
	ResumeGraceMs int64  `json:"resumeGraceMs,omitempty"`
}

// ICEServersResult is the result of refreshIceServers.
type ICEServersResult struct {
	ICEServers []ICEServer `json:"iceServers"`
}

// Empty is the params or result of methods that carry nothing.
type Empty struct{}

// SetDNDStatusParams are the params of setDNDStatus.
type SetDNDStatusParams struct {
	DNDStatus int `json:"DNDStatus" crv:"required"`
}

// GetUserStatusResult is the result of getUserStatus.
type GetUserStatusResult struct {
	UserStatus []UserStatus `json:"userStatus"`
}

// CreateMeetingParams are the params of createMeeting.
type CreateMeetingParams struct {
	MeetSubject string `json:"meetSubject" crv:"required"`
	CreatePswd  int    `json:"createPswd"` // 0: no password; > 0: the node generates one
}

// MeetObjResult is the result of createMeeting.
type MeetObjResult struct {
	MeetObj MeetInfo `json:"meetObj"`
}

// DestroyMeetingParams are the params of destroyMeeting.
type DestroyMeetingParams struct {
	MeetID MeetingID `json:"meetID" crv:"required"`
}

// GetMeetingsResult is the result of getMeetings.
type GetMeetingsResult struct {
	Meetings []MeetInfo `json:"meetings"`
}

// EnterMeetingParams are the params of enterMeeting. UserID, when given,
// must be the logged-in user; NickName, when given, is the name shown in
// this meeting.
type EnterMeetingParams struct {
	MeetID   MeetingID `json:"meetID" crv:"required"`
	Pswd     string    `json:"pswd"`
	UserID   UserID    `json:"userID"`
	NickName string    `json:"nickName"`
}

// EnterMeetingResult is the result of enterMeeting: the meeting and its
// members, the entering user included.
type EnterMeetingResult struct {
	MeetObj MeetInfo     `json:"meetObj"`
	Members []MemberInfo `json:"members"`
}

// CallParams are the params of call. CallID is generated by the client.
type CallParams struct {
	CallID       string    `json:"callID" crv:"required"`
	CalledUserID UserID    `json:"calledUserID" crv:"required"`
	MeetObj      *MeetInfo `json:"meetObj,omitempty"`
	UsrExtDat    string    `json:"usrExtDat"`
}

// CallIDResult is the result of call, acceptCall, rejectCall and hungupCall.
type CallIDResult struct {
	CallID string `json:"callID"`
}

// AcceptCallParams are the params of acceptCall.
type AcceptCallParams struct {
	CallID    string    `json:"callID" crv:"required"`
	MeetObj   *MeetInfo `json:"meetObj,omitempty"`
	UsrExtDat string    `json:"usrExtDat"`
}

// CallActionParams are the params of rejectCall and hungupCall.
type CallActionParams struct {
	CallID    string `json:"callID" crv:"required"`
	UsrExtDat string `json:"usrExtDat"`
}

// InviteParams are the params of callMoreParty / clientInvite. InviteID is
// generated by the client.
type InviteParams struct {
	InviteID  string    `json:"inviteID" crv:"required"`
	Called    UserID    `json:"called" crv:"required"`
	MeetObj   *MeetInfo `json:"meetObj,omitempty"`
	UsrExtDat string    `json:"usrExtDat"`
}

// CancelInviteParams are the params of cancelCallMoreParty / clientCancelInvite.
type CancelInviteParams struct {
	InviteID  string `json:"inviteID" crv:"required"`
	UsrExtDat string `json:"usrExtDat"`
}

// InviteIDResult is the result of the invite methods.
type InviteIDResult struct {
	InviteID string `json:"inviteID"`
}

// KickoutParams are the params of kickout: the meeting's creator removes a
// member from the meeting both are in.
type KickoutParams struct {
	UserID UserID `json:"userID" crv:"required"`
}

// MeetingCustomMsgParams are the params of sendMeetingCustomMsg: a message
// for every member of the sender's meeting.
type MeetingCustomMsgParams struct {
	Msg string `json:"msg" crv:"required"`
}
