package protocol

// UserID is an app's own identifier for one of its users.
type UserID = string

// MeetingID is a meeting number. 0 means no meeting.
type MeetingID = uint32

// MeetInfo is the CRVideo MeetInfoObj: what createMeeting returns, what
// calls carry, and what getMeetings lists.
type MeetInfo struct {
	ID          MeetingID `json:"ID"`
	Pswd        string    `json:"pswd"`
	Subject     string    `json:"subject"`
	PubMeetURL  string    `json:"pubMeetUrl"`
	Creator     UserID    `json:"creator"`
	MemberCount int       `json:"memberCount"`
	StartTime   int64     `json:"startTime"`
}

// Audio status (ASTATUS) values of a meeting member.
const (
	AStatusUnknown = 0
	AStatusNoMic   = 1
	AStatusClosed  = 2
	AStatusOpen    = 3
	AStatusOpening = 4
)

// Video status (VSTATUS) values of a meeting member.
const (
	VStatusUnknown  = 0
	VStatusNoCamera = 1
	VStatusClosed   = 2
	VStatusOpen     = 3
	VStatusOpening  = 4
)

// MemberInfo describes one member of a meeting.
type MemberInfo struct {
	UserID      UserID `json:"userID"`
	NickName    string `json:"nickName"`
	AudioStatus int    `json:"audioStatus"`
	VideoStatus int    `json:"videoStatus"`
}

// User presence values (userStatus).
const (
	UserOffline   = 0
	UserIdle      = 1
	UserBusy      = 2 // ringing or in a call
	UserInMeeting = 3
)

// UserStatus is one user's presence and do-not-disturb state.
type UserStatus struct {
	UserID     UserID `json:"userID"`
	UserStatus int    `json:"userStatus"`
	DNDType    int    `json:"DNDType"`
}

// Invite status values of notifyCallMorePartyStatus / notifyInviteStatus.
const (
	InviteRinging  = 0
	InviteAccepted = 1
	InviteRejected = 2
	InviteNoAnswer = 3
	InviteHungup   = 4
)

// Reasons of meetingDropped.
const (
	DropTimeout      = 0
	DropKickedOut    = 1
	DropBalance      = 2
	DropTokenInvalid = 3
)

// ICEServer is an RTCIceServer as browsers and pion take it.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// MaxClientIDLen bounds the IDs clients generate (callID, inviteID,
// taskID).
const MaxClientIDLen = 64

// ValidClientID accepts the IDs clients generate: 1-64 bytes of
// [A-Za-z0-9._-]. A UUID fits, and such an ID is safe to log.
func ValidClientID(id string) bool {
	if id == "" || len(id) > MaxClientIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
