package protocol

// Media methods. The client offers the up connection (what it publishes,
// and its data channel) when it first needs it: entering a meeting,
// publishing, sending data, or when the node asks (upNeeded); it may
// close it again (upClose) when idle. The node offers the down
// connection (what it receives) once the client is in a meeting. Each
// connection has one offerer, so offers never collide.
const (
	MethodUpOffer       = "upOffer"       // client → node: SDP offer of the up connection; result: the answer
	MethodUpCandidate   = "upCandidate"   // client → node: a trickled ICE candidate of the up connection
	MethodDownAnswer    = "downAnswer"    // client → node: SDP answer to the node's downOffer
	MethodDownCandidate = "downCandidate" // client → node: a trickled ICE candidate of the down connection
	MethodUpClose       = "upClose"       // client → node: close the up connection; the next upOffer opens a new one

	MethodOpenMic            = "openMic"
	MethodCloseMic           = "closeMic"
	MethodOpenVideo          = "openVideo"
	MethodCloseVideo         = "closeVideo"
	MethodStartScreenShare   = "startScreenShare"
	MethodStopScreenShare    = "stopScreenShare"
	MethodGetWatchableVideos = "getWatchableVideos"
	MethodSetVideo           = "setVideo"   // a video object starts showing (userID, videoID)
	MethodClearVideo         = "clearVideo" // a video object stops showing it
)

// Media events.
const (
	EventUpCandidate              = "upCandidate"   // node → client: the node's ICE candidate of the up connection
	EventDownOffer                = "downOffer"     // node → client: SDP offer of the down connection
	EventDownCandidate            = "downCandidate" // node → client: the node's ICE candidate of the down connection
	EventUpNeeded                 = "upNeeded"      // node → client: data waits for this client: open the up connection with its crv-data channel
	EventAudioStatusChanged       = "audioStatusChanged"
	EventVideoStatusChanged       = "videoStatusChanged"
	EventNotifyScreenShareStarted = "notifyScreenShareStarted"
	EventNotifyScreenShareStopped = "notifyScreenShareStopped"
	EventMicEnergyUpdate          = "micEnergyUpdate"
)

// MediaMethods and MediaEvents list the media part of the protocol.
var (
	MediaMethods = []string{
		MethodUpOffer, MethodUpCandidate, MethodDownAnswer, MethodDownCandidate, MethodUpClose,
		MethodOpenMic, MethodCloseMic, MethodOpenVideo, MethodCloseVideo,
		MethodStartScreenShare, MethodStopScreenShare, MethodGetWatchableVideos, MethodSetVideo, MethodClearVideo,
	}
	MediaEvents = []string{
		EventUpCandidate, EventDownOffer, EventDownCandidate, EventUpNeeded,
		EventAudioStatusChanged, EventVideoStatusChanged,
		EventNotifyScreenShareStarted, EventNotifyScreenShareStopped, EventMicEnergyUpdate,
	}
)

// Source names what a published track carries.
type Source = string

// The sources a member publishes.
const (
	SourceMic    Source = "mic"
	SourceCamera Source = "camera"
	SourceScreen Source = "screen"
)

// Video IDs of getWatchableVideos and setVideo: a member's camera and its
// screen share.
const (
	VideoIDCamera = 1
	VideoIDScreen = 2
)

// ICECandidate is an RTCIceCandidateInit as browsers and pion produce it.
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// UpTrack tells the node what the up connection's transceiver with this
// mid carries.
type UpTrack struct {
	Mid    string `json:"mid"`
	Source Source `json:"source"`
}

// UpOfferParams are the params of upOffer.
type UpOfferParams struct {
	SDP    string    `json:"sdp" crv:"required"`
	Tracks []UpTrack `json:"tracks"`
}

// SDPResult is the result of upOffer: the node's answer.
type SDPResult struct {
	SDP string `json:"sdp"`
}

// CandidateParams are the params of upCandidate and downCandidate, in both
// directions. A null candidate is not sent: the end of candidates is implied.
type CandidateParams struct {
	Candidate ICECandidate `json:"candidate" crv:"required"`
}

// DownAnswerParams are the params of downAnswer.
type DownAnswerParams struct {
	SDP string `json:"sdp" crv:"required"`
}

// DownTrack tells the client whose media the down connection's
// transceiver with this mid carries.
type DownTrack struct {
	Mid    string `json:"mid"`
	UserID UserID `json:"userID"`
	Source Source `json:"source"`
}

// DownOffer is the downOffer event: an offer to answer with downAnswer.
type DownOffer struct {
	SDP    string      `json:"sdp"`
	Tracks []DownTrack `json:"tracks"`
}

// MemberParams names a member: openMic, closeMic, openVideo, closeVideo.
type MemberParams struct {
	UserID UserID `json:"userID" crv:"required"`
}

// WatchableVideo is one video a member can ask for with setVideo.
type WatchableVideo struct {
	UserID  UserID `json:"userID"`
	VideoID int    `json:"videoID"`
}

// WatchableVideosResult is the result of getWatchableVideos.
type WatchableVideosResult struct {
	Videos []WatchableVideo `json:"videos"`
}

// SetVideoParams are the params of setVideo and clearVideo. MaxHeight is
// the height the video object shows (0: no limit); with simulcast it
// bounds the layer the node sends.
type SetVideoParams struct {
	UserID    UserID `json:"userID" crv:"required"`
	VideoID   int    `json:"videoID" crv:"required"`
	MaxHeight int    `json:"maxHeight,omitempty"`
}

// StatusChanged is audioStatusChanged and videoStatusChanged.
type StatusChanged struct {
	UserID    UserID `json:"userID"`
	OldStatus int    `json:"oldStatus"`
	NewStatus int    `json:"newStatus"`
}

// ScreenShareEvent is notifyScreenShareStarted and notifyScreenShareStopped.
type ScreenShareEvent struct {
	UserID UserID `json:"userID"`
}

// MicEnergy is micEnergyUpdate: a member's speaking level, 0-10.
type MicEnergy struct {
	UserID   UserID `json:"userID"`
	OldLevel int    `json:"oldLevel"`
	NewLevel int    `json:"newLevel"`
}
