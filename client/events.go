package client

import (
	"encoding/json"

	"github.com/crvnode/crvnode/protocol"
)

// Event is one notification from the node, as the Handler gets it. Method is
// the event name (protocol.EventNotifyCallIn, ...). Data is a pointer to the
// event's protocol struct (*protocol.NotifyCallIn, ...) for the events this
// package knows, and the raw params as json.RawMessage for the others, so
// that events added to the node later reach the program undecoded rather
// than not at all.
type Event struct {
	Method string
	Data   any
}

// eventTypes maps each known event to a constructor of its params struct;
// typing a new event is one line here.
var eventTypes = map[string]func() any{
	protocol.EventNotifyCallIn:              newOf[protocol.NotifyCallIn],
	protocol.EventNotifyCallAccepted:        newOf[protocol.NotifyCallAccepted],
	protocol.EventNotifyCallRejected:        newOf[protocol.NotifyCallRejected],
	protocol.EventNotifyCallHungup:          newOf[protocol.NotifyCallHungup],
	protocol.EventNotifyCallMorePartyStatus: newOf[protocol.NotifyInviteStatus],
	protocol.EventNotifyInviteStatus:        newOf[protocol.NotifyInviteStatus],
	protocol.EventNotifyUserStatus:          newOf[protocol.NotifyUserStatus],
	protocol.EventLineOff:                   newOf[protocol.LineOff],
	protocol.EventUserEnterMeeting:          newOf[protocol.UserEnterMeeting],
	protocol.EventUserLeftMeeting:           newOf[protocol.UserLeftMeeting],
	protocol.EventMeetingStopped:            newOf[protocol.MeetingStopped],
	protocol.EventMeetingDropped:            newOf[protocol.MeetingDropped],
	protocol.EventNotifyMeetingCustomMsg:    newOf[protocol.NotifyMeetingCustomMsg],
	protocol.EventNotifyNickNameChanged:     newOf[protocol.NickNameChanged],
	protocol.EventNotifyTokenWillExpire:     newOf[protocol.TokenWillExpire],
	protocol.EventAudioStatusChanged:        newOf[protocol.StatusChanged],
	protocol.EventVideoStatusChanged:        newOf[protocol.StatusChanged],
	protocol.EventNotifyScreenShareStarted:  newOf[protocol.ScreenShareEvent],
	protocol.EventNotifyScreenShareStopped:  newOf[protocol.ScreenShareEvent],
	protocol.EventMicEnergyUpdate:           newOf[protocol.MicEnergy],
	protocol.EventDownOffer:                 newOf[protocol.DownOffer],
	protocol.EventUpCandidate:               newOf[protocol.CandidateParams],
	protocol.EventDownCandidate:             newOf[protocol.CandidateParams],
	protocol.EventAutoAssignUser:            newOf[protocol.QueUser],
	protocol.EventCancelAssignUser:          newOf[protocol.CancelAssignUser],
	protocol.EventQueueStatusChanged:        newOf[protocol.QueStatus],
	protocol.EventQueuingInfoChanged:        newOf[protocol.QueuingInfo],
}

func newOf[T any]() any { return new(T) }

// handleEvent decodes an event, applies it to the session state and queues
// it for the Handler, in that order, so that the Handler sees a member list
// that already includes the member who just entered.
func (c *Client) handleEvent(msg *protocol.Message) {
	ev := Event{Method: msg.Method, Data: c.decodeEvent(msg.Method, msg.Params)}
	if isNegotiation(ev.Method) {
		if m, err := c.mediaSide(); err == nil {
			m.handleEvent(ev)
		}
		return
	}
	c.mu.Lock()
	c.applyEventLocked(ev)
	c.mu.Unlock()
	c.events.Push(ev)
}

// decodeEvent returns the typed params of a known event. Params that do not
// fit the type are passed on raw rather than dropped.
func (c *Client) decodeEvent(method string, params json.RawMessage) any {
	newData, ok := eventTypes[method]
	if !ok {
		return params
	}
	v := newData()
	if len(params) == 0 {
		return v
	}
	if err := json.Unmarshal(params, v); err != nil {
		c.log.Warn("crvnode client: event params do not fit their type", "event", method, "err", err)
		return params
	}
	return v
}

// applyEventLocked keeps the local meeting state in step with the node.
func (c *Client) applyEventLocked(ev Event) {
	switch d := ev.Data.(type) {
	case *protocol.UserEnterMeeting:
		if c.members != nil {
			c.members[d.UserID] = d.MemberInfo
		}
	case *protocol.UserLeftMeeting:
		delete(c.members, d.UserID)
	case *protocol.MeetingStopped:
		// A late meetingStopped of an earlier meeting must not empty this one.
		if d.MeetID == c.meetID {
			c.leaveMeetingLocked()
		}
	case *protocol.MeetingDropped:
		c.leaveMeetingLocked()
	case *protocol.StatusChanged:
		if m, ok := c.members[d.UserID]; ok {
			if ev.Method == protocol.EventAudioStatusChanged {
				m.AudioStatus = d.NewStatus
			} else {
				m.VideoStatus = d.NewStatus
			}
			c.members[d.UserID] = m
		}
	case *protocol.NickNameChanged:
		if m, ok := c.members[d.UserID]; ok {
			m.NickName = d.NewName
			c.members[d.UserID] = m
		}
	case *protocol.LineOff:
		c.lineOffSeen = true
		c.leaveMeetingLocked()
	}
}

// dispatchLoop hands queued events to the Handler, then closes done once the
// queue is closed and drained and the I/O goroutines have stopped.
func (c *Client) dispatchLoop() {
	for {
		ev, ok := c.events.Pop()
		if !ok {
			break
		}
		c.opts.Handler(ev)
	}
	c.ioWG.Wait()
	close(c.done)
}
