package protocol

// Queue methods: the CRVideo queue component (customer-service desks).
// Customers queue in one queue at a time, agents serve queues, and the node
// assigns waiting customers to free agents, who then call them with call.
const (
	MethodInitQueueDat          = "initQueueDat"
	MethodRefreshAllQueueStatus = "refreshAllQueueStatus"
	MethodGetQueueStatus        = "getQueueStatus"
	MethodStartQueuing          = "startQueuing"
	MethodStopQueuing           = "stopQueuing"
	MethodStartService          = "startService"
	MethodStopService           = "stopService"
	MethodReqAssignUser         = "reqAssignUser"
	MethodAcceptAssignUser      = "acceptAssignUser"
	MethodRejectAssignUser      = "rejectAssignUser"
)

// Queue events.
const (
	EventAutoAssignUser     = "autoAssignUser"
	EventCancelAssignUser   = "cancelAssignUser"
	EventQueueStatusChanged = "queueStatusChanged"
	EventQueuingInfoChanged = "queuingInfoChanged"
)

// QueueMethods and QueueEvents list the queue part of the protocol.
var (
	QueueMethods = []string{
		MethodInitQueueDat, MethodRefreshAllQueueStatus, MethodGetQueueStatus,
		MethodStartQueuing, MethodStopQueuing, MethodStartService, MethodStopService,
		MethodReqAssignUser, MethodAcceptAssignUser, MethodRejectAssignUser,
	}
	QueueEvents = []string{
		EventAutoAssignUser, EventCancelAssignUser, EventQueueStatusChanged, EventQueuingInfoChanged,
	}
)

// MaxServicePriority bounds an agent's priority in startService: 0 is the
// highest, MaxServicePriority the lowest.
const MaxServicePriority = 1000

// QueueInfo is one queue as the app configured it. Prio orders the queues:
// the smaller is served first.
type QueueInfo struct {
	QueID int    `json:"queID"`
	Name  string `json:"name"`
	Desc  string `json:"desc"`
	Prio  int    `json:"prio"`
}

// QueStatus is a queue's counts: AgentNum agents serve it, WaitNum
// customers wait in it, SrvNum of its agents hold an assignment from it or
// serve a customer it gave them.
type QueStatus struct {
	QueID    int `json:"queID"`
	AgentNum int `json:"agent_num"`
	WaitNum  int `json:"wait_num"`
	SrvNum   int `json:"srv_num"`
}

// QueuingInfo is where a customer waits: Position 1 is next, QueuingTime
// the seconds waited so far. QueID and Position are 0 when not queuing.
type QueuingInfo struct {
	QueID       int `json:"queID"`
	Position    int `json:"position"`
	QueuingTime int `json:"queuingTime"`
}

// QueUser is a waiting customer as an agent is given it: the
// autoAssignUser event and the result of reqAssignUser.
type QueUser struct {
	QueID       int    `json:"queID"`
	UserID      UserID `json:"userID"`
	NickName    string `json:"nickname"`
	QueuingTime int    `json:"queuingTime"`
	UsrExtDat   string `json:"usrExtDat"`
}

// SessionInfo is the CRVideo SessionInfo an SDK keeps from its own call
// state (CRVideo_GetSessionInfo); no method carries it.
type SessionInfo struct {
	CallID        string    `json:"callID"`
	PeerID        UserID    `json:"peerID"`
	PeerName      string    `json:"peerName"`
	BCallAccepted bool      `json:"bCallAccepted"`
	MeetingID     MeetingID `json:"meetingID"`
	MeetingPswd   string    `json:"meetingPswd"`
	Duration      int       `json:"duration"`
}

// InitQueueDatResult is the result of initQueueDat: the app's queues and
// their counts, where the session's user waits, and the queues it serves.
type InitQueueDatResult struct {
	Queues   []QueueInfo `json:"queues"`
	Statuses []QueStatus `json:"statuses"`
	Queuing  QueuingInfo `json:"queuing"`
	Serving  []int       `json:"serving"`
}

// QueueStatusesResult is the result of refreshAllQueueStatus.
type QueueStatusesResult struct {
	Statuses []QueStatus `json:"statuses"`
}

// QueueIDParams are the params of getQueueStatus and stopService.
type QueueIDParams struct {
	QueID int `json:"queID" crv:"required"`
}

// StartQueuingParams are the params of startQueuing.
type StartQueuingParams struct {
	QueID     int    `json:"queID" crv:"required"`
	UsrExtDat string `json:"usrExtDat"`
}

// StartServiceParams are the params of startService: Priority is the
// agent's in this queue, 0 (the default, highest) to MaxServicePriority.
type StartServiceParams struct {
	QueID    int `json:"queID" crv:"required"`
	Priority int `json:"priority"`
}

// AssignUserParams are the params of acceptAssignUser and
// rejectAssignUser: the assignment answered.
type AssignUserParams struct {
	QueID  int    `json:"queID" crv:"required"`
	UserID UserID `json:"userID" crv:"required"`
}

// CancelAssignUser tells an agent that the assignment it holds is gone:
// the customer stopped queuing or went offline, or the agent let the
// assignment time out.
type CancelAssignUser struct {
	QueID  int    `json:"queID"`
	UserID UserID `json:"userID"`
}
