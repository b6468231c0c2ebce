package signaling

import (
	"encoding/json"

	"github.com/crvnode/crvnode/protocol"
)

// with adapts a handler that takes decoded params of type P: the params are
// decoded strictly (protocol.DecodeParams) before the handler runs.
func with[P any](fn func(*session, *P) (any, *protocol.Error)) handlerFunc {
	return func(s *session, raw json.RawMessage) (any, *protocol.Error) {
		var p P
		if e := protocol.DecodeParams(raw, &p); e != nil {
			return nil, e
		}
		return fn(s, &p)
	}
}

// protocolMethods is the method table of the whole client → node protocol
// (docs/protocol/): logins, presence and DND, meetings, calls and
// invites (under both spellings where the API documents differ), the media
// negotiation of the up and down connections, the media controls, and the
// queues of customer service.
func protocolMethods() map[string]method {
	invite := func(event string) handlerFunc {
		return with(func(s *session, p *protocol.InviteParams) (any, *protocol.Error) {
			return s.invite(p, event)
		})
	}
	return map[string]method{
		// logins, presence and DND (login.go, presence.go)
		protocol.MethodLogin:                 {fn: with((*session).login), anonymous: true},
		protocol.MethodLoginByToken:          {fn: with((*session).loginByToken), anonymous: true},
		protocol.MethodLogout:                {fn: with((*session).logout)},
		protocol.MethodSetDNDStatus:          {fn: with((*session).setDNDStatus)},
		protocol.MethodGetUserStatus:         {fn: with((*session).getUserStatus)},
		protocol.MethodStartUserStatusNotify: {fn: with((*session).startUserStatusNotify)},
		protocol.MethodStopUserStatusNotify:  {fn: with((*session).stopUserStatusNotify)},
		// the session's nickname and token (profile.go)
		protocol.MethodSetNickName: {fn: with((*session).setNickName)},
		protocol.MethodUpdateToken: {fn: with((*session).updateToken)},
		// meetings (meetings.go)
		protocol.MethodCreateMeeting:  {fn: with((*session).createMeeting)},
		protocol.MethodDestroyMeeting: {fn: with((*session).destroyMeeting)},
		protocol.MethodGetMeetings:    {fn: with((*session).getMeetings)},
		protocol.MethodEnterMeeting:   {fn: with((*session).enterMeeting)},
		protocol.MethodExitMeeting:    {fn: with((*session).exitMeeting)},
		// calls and invites (calls.go)
		protocol.MethodCall:                {fn: with((*session).call)},
		protocol.MethodAcceptCall:          {fn: with((*session).acceptCall)},
		protocol.MethodRejectCall:          {fn: with((*session).rejectCall)},
		protocol.MethodHungupCall:          {fn: with((*session).hungupCall)},
		protocol.MethodCallMoreParty:       {fn: invite(protocol.EventNotifyCallMorePartyStatus)},
		protocol.MethodClientInvite:        {fn: invite(protocol.EventNotifyInviteStatus)},
		protocol.MethodCancelCallMoreParty: {fn: with((*session).cancelInvite)},
		protocol.MethodClientCancelInvite:  {fn: with((*session).cancelInvite)},
		// in a meeting (meetings.go)
		protocol.MethodKickout:              {fn: with((*session).kickout)},
		protocol.MethodSendMeetingCustomMsg: {fn: with((*session).sendMeetingCustomMsg)},
		// customer service: queues, agents and assignments (queue_methods.go)
		protocol.MethodInitQueueDat:          {fn: with((*session).initQueueDat)},
		protocol.MethodRefreshAllQueueStatus: {fn: with((*session).refreshAllQueueStatus)},
		protocol.MethodGetQueueStatus:        {fn: with((*session).getQueueStatus)},
		protocol.MethodStartQueuing:          {fn: with((*session).startQueuing)},
		protocol.MethodStopQueuing:           {fn: with((*session).stopQueuing)},
		protocol.MethodStartService:          {fn: with((*session).startService)},
		protocol.MethodStopService:           {fn: with((*session).stopService)},
		protocol.MethodReqAssignUser:         {fn: with((*session).reqAssignUser)},
		protocol.MethodAcceptAssignUser:      {fn: with((*session).acceptAssignUser)},
		protocol.MethodRejectAssignUser:      {fn: with((*session).rejectAssignUser)},
		// resume and keepalive (resume.go)
		protocol.MethodResume: {fn: with((*session).resume), anonymous: true, unnumbered: true},
		protocol.MethodMoveIn: {fn: with((*session).moveIn), anonymous: true},
		protocol.MethodPing:   {fn: with(ping), anonymous: true, unnumbered: true},
		// media: ICE servers, negotiation and controls (login.go, media.go, mediactl.go)
		protocol.MethodRefreshICEServers:  {fn: with((*session).refreshICEServers)},
		protocol.MethodUpOffer:            {fn: with((*session).upOffer)},
		protocol.MethodUpCandidate:        {fn: with((*session).upCandidate)},
		protocol.MethodDownAnswer:         {fn: with((*session).downAnswer)},
		protocol.MethodDownCandidate:      {fn: with((*session).downCandidate)},
		protocol.MethodRestartDown:        {fn: with((*session).restartDown)},
		protocol.MethodUpClose:            {fn: with((*session).upClose)},
		protocol.MethodOpenMic:            {fn: with((*session).openMic)},
		protocol.MethodCloseMic:           {fn: with((*session).closeMic)},
		protocol.MethodOpenVideo:          {fn: with((*session).openVideo)},
		protocol.MethodCloseVideo:         {fn: with((*session).closeVideo)},
		protocol.MethodStartScreenShare:   {fn: with((*session).startScreenShare)},
		protocol.MethodStopScreenShare:    {fn: with((*session).stopScreenShare)},
		protocol.MethodGetWatchableVideos: {fn: with((*session).getWatchableVideos)},
		protocol.MethodSetVideo:           {fn: with((*session).setVideo)},
		protocol.MethodClearVideo:         {fn: with((*session).clearVideo)},
	}
}

// lock locks the session's app and returns it with the session's user, or
// NOT_LOGIN if the session was logged off meanwhile (kicked by a login
// elsewhere). On success the caller must unlock a.mu.
func (s *session) lock() (*app, *user, *protocol.Error) {
	a := s.app
	a.mu.Lock()
	if s.user == nil || s.user.sess != s {
		a.mu.Unlock()
		return nil, nil, protocol.Errorf(protocol.NotLogin, "this session was logged off")
	}
	return a, s.user, nil
}
