package protocol

// Event names: the CRVideo callback name without "CRVideo_", first letter
// lower-cased. Params are keyed by the callback's argument names, with
// usrID/id normalised to userID.
const (
	EventNotifyCallIn              = "notifyCallIn"
	EventNotifyCallAccepted        = "notifyCallAccepted"
	EventNotifyCallRejected        = "notifyCallRejected"
	EventNotifyCallHungup          = "notifyCallHungup"
	EventNotifyCallMorePartyStatus = "notifyCallMorePartyStatus"
	EventNotifyInviteStatus        = "notifyInviteStatus" // sent for invites made with clientInvite
	EventNotifyUserStatus          = "notifyUserStatus"
	EventLineOff                   = "lineOff"
	EventUserEnterMeeting          = "userEnterMeeting"
	EventUserLeftMeeting           = "userLeftMeeting"
	EventMeetingStopped            = "meetingStopped"
	EventMeetingDropped            = "meetingDropped"
	EventNotifyMeetingCustomMsg    = "notifyMeetingCustomMsg"
)

// Events lists every event the node sends, in documentation order.
var Events = []string{
	EventNotifyCallIn, EventNotifyCallAccepted, EventNotifyCallRejected, EventNotifyCallHungup,
	EventNotifyCallMorePartyStatus, EventNotifyInviteStatus, EventNotifyUserStatus, EventLineOff, EventNotifyTokenWillExpire,
	EventUserEnterMeeting, EventUserLeftMeeting, EventMeetingStopped, EventMeetingDropped,
	EventNotifyMeetingCustomMsg, EventNotifyNickNameChanged,
}

// NotifyCallIn tells a user that someone calls or invites them. For an
// invite, CallID is the inviteID.
type NotifyCallIn struct {
	CallID    string   `json:"callID"`
	MeetObj   MeetInfo `json:"meetObj"`
	CallerID  UserID   `json:"callerID"`
	UsrExtDat string   `json:"usrExtDat"`
}

// NotifyCallAccepted tells the caller that the callee accepted.
type NotifyCallAccepted struct {
	CallID    string   `json:"callID"`
	MeetObj   MeetInfo `json:"meetObj"`
	UsrExtDat string   `json:"usrExtDat"`
}

// NotifyCallRejected tells the caller that the call did not connect:
// SdkErr is ErrRefuse when the callee rejected, ErrNoAnswer on timeout.
type NotifyCallRejected struct {
	CallID    string `json:"callID"`
	SdkErr    Code   `json:"sdkErr"`
	UsrExtDat string `json:"usrExtDat"`
}

// NotifyCallHungup tells one side of a call that the other side, or the
// node, ended it.
type NotifyCallHungup struct {
	CallID    string `json:"callID"`
	UsrExtDat string `json:"usrExtDat"`
}

// NotifyInviteStatus tells the inviter what became of an invite (sent as
// notifyCallMorePartyStatus or notifyInviteStatus).
type NotifyInviteStatus struct {
	InviteID string `json:"inviteID"`
	Status   int    `json:"status"`
}

// NotifyUserStatus carries one user's new presence to sessions that
// started user-status notifications.
type NotifyUserStatus struct {
	UserStatus UserStatus `json:"userStatus"`
}

// LineOff tells a session that the node has logged it off: UserBeenKickout
// when the same user logged in elsewhere, ForcedCloseConnection when the
// node shuts down.
type LineOff struct {
	SdkEr Code `json:"sdkEr"`
}

// UserEnterMeeting tells meeting members that someone entered.
type UserEnterMeeting struct {
	MemberInfo
}

// UserLeftMeeting tells meeting members that someone left.
type UserLeftMeeting struct {
	UserID UserID `json:"userID"`
}

// MeetingStopped tells members that the creator destroyed the meeting.
type MeetingStopped struct {
	MeetID MeetingID `json:"meetID"`
}

// MeetingDropped tells a member that the node removed it from the meeting.
type MeetingDropped struct {
	Reason int `json:"reason"`
}

// NotifyMeetingCustomMsg carries a member's sendMeetingCustomMsg to every
// member of the meeting, the sender included.
type NotifyMeetingCustomMsg struct {
	UserID UserID `json:"userID"`
	Msg    string `json:"msg"`
}
