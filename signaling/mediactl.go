package signaling

import (
	"github.com/crvnode/crvnode/protocol"
)

// memberLocked finds the member id in u's meeting.
func (a *app) memberLocked(u *user, id protocol.UserID) (*member, *protocol.Error) {
	if u.meeting == nil {
		return nil, protocol.Errorf(protocol.MeetNotExist, "you are in no meeting")
	}
	m := u.meeting.members[id]
	if m == nil {
		return nil, protocol.Errorf(protocol.ParamErr, "%q is not in your meeting", id)
	}
	return m, nil
}

// setDevice opens or closes a member's mic or camera. Members open their
// own; the meeting's creator may also close anyone's.
func (s *session) setDevice(target protocol.UserID, source protocol.Source, open bool) (any, *protocol.Error) {
	return s.change(changeDevice, &deviceParams{Target: target, Source: source, Open: open})
}

const changeDevice, changeScreen = "device", "screen"

type deviceParams struct {
	Target protocol.UserID `json:"target"`
	Source protocol.Source `json:"source"`
	Open   bool            `json:"open"`
}

type screenParams struct {
	On bool `json:"on"`
}

func init() {
	sessionChange(changeDevice, func(a *app, u *user, p *deviceParams, x *applied) (any, *protocol.Error) {
		target, source, open, ob := p.Target, p.Source, p.Open, x.ob
		m, e := a.memberLocked(u, target)
		if e != nil {
			return nil, e
		}
		if target != u.id && open {
			return nil, protocol.Errorf(protocol.APINoPermission, "members open only their own devices")
		}
		if target != u.id && u.meeting.info.Creator != u.id {
			return nil, protocol.Errorf(protocol.APINoPermission, "only the meeting's creator may close another member's devices")
		}
		status, event := &m.info.AudioStatus, protocol.EventAudioStatusChanged
		if source == protocol.SourceCamera {
			status, event = &m.info.VideoStatus, protocol.EventVideoStatusChanged
		}
		next := protocol.AStatusClosed // the ASTATUS and VSTATUS values are the same
		if open {
			next = protocol.AStatusOpen
		}
		if *status == next {
			return nil, nil
		}
		ev := protocol.StatusChanged{UserID: target, OldStatus: *status, NewStatus: next}
		*status = next
		if tu := a.users[target]; tu.media != nil {
			tu.media.SetSending(source, open)
		}
		for id := range u.meeting.members {
			ob.addUser(a.users[id], event, ev)
		}
		if source == protocol.SourceMic && !open && m.energy != 0 {
			a.energyLocked(u.meeting, m, 0, ob) // a closed mic is silent
		}
		return nil, nil
	})
	// screen starts or stops the user's screen share in its meeting.
	sessionChange(changeScreen, func(a *app, u *user, p *screenParams, x *applied) (any, *protocol.Error) {
		on := p.On
		m, e := a.memberLocked(u, u.id)
		if e != nil {
			return nil, e
		}
		if m.screen == on {
			return nil, nil
		}
		m.screen = on
		if u.media != nil {
			u.media.SetSending(protocol.SourceScreen, on)
		}
		event := protocol.EventNotifyScreenShareStopped
		if on {
			event = protocol.EventNotifyScreenShareStarted
		}
		for id := range u.meeting.members {
			x.ob.addUser(a.users[id], event, protocol.ScreenShareEvent{UserID: u.id})
		}
		return nil, nil
	})
}

func (s *session) openMic(p *protocol.MemberParams) (any, *protocol.Error) {
	return s.setDevice(p.UserID, protocol.SourceMic, true)
}

func (s *session) closeMic(p *protocol.MemberParams) (any, *protocol.Error) {
	return s.setDevice(p.UserID, protocol.SourceMic, false)
}

func (s *session) openVideo(p *protocol.MemberParams) (any, *protocol.Error) {
	return s.setDevice(p.UserID, protocol.SourceCamera, true)
}

func (s *session) closeVideo(p *protocol.MemberParams) (any, *protocol.Error) {
	return s.setDevice(p.UserID, protocol.SourceCamera, false)
}

func (s *session) startScreenShare(*protocol.Empty) (any, *protocol.Error) {
	return s.screenShare(true)
}

func (s *session) stopScreenShare(*protocol.Empty) (any, *protocol.Error) {
	return s.screenShare(false)
}

// screenShare starts or stops the user's screen share in its meeting.
func (s *session) screenShare(on bool) (any, *protocol.Error) {
	return s.change(changeScreen, &screenParams{On: on})
}

// getWatchableVideos lists the other members' open cameras (videoID 1) and
// screen shares (videoID 2).
func (s *session) getWatchableVideos(*protocol.Empty) (any, *protocol.Error) {
	return s.locked(func(a *app, u *user, _ *outbox) (any, *protocol.Error) {
		if u.meeting == nil {
			return nil, protocol.Errorf(protocol.MeetNotExist, "you are in no meeting")
		}
		videos := []protocol.WatchableVideo{}
		for _, m := range u.meeting.membersLocked() {
			if m.UserID == u.id {
				continue
			}
			if m.VideoStatus == protocol.VStatusOpen {
				videos = append(videos, protocol.WatchableVideo{UserID: m.UserID, VideoID: protocol.VideoIDCamera})
			}
			if u.meeting.members[m.UserID].screen {
				videos = append(videos, protocol.WatchableVideo{UserID: m.UserID, VideoID: protocol.VideoIDScreen})
			}
		}
		return protocol.WatchableVideosResult{Videos: videos}, nil
	})
}

func (s *session) setVideo(p *protocol.SetVideoParams) (any, *protocol.Error) {
	return s.watchVideo(p, true)
}

func (s *session) clearVideo(p *protocol.SetVideoParams) (any, *protocol.Error) {
	return s.watchVideo(p, false)
}

// watchVideo starts or stops receiving a member's camera or screen. Watching
// a camera that is closed is allowed: the video flows once it opens.
func (s *session) watchVideo(p *protocol.SetVideoParams, on bool) (any, *protocol.Error) {
	source := protocol.SourceCamera
	switch p.VideoID {
	case protocol.VideoIDCamera:
	case protocol.VideoIDScreen:
		source = protocol.SourceScreen
	default:
		return nil, protocol.Errorf(protocol.ParamErr, "videoID must be %d (camera) or %d (screen)", protocol.VideoIDCamera, protocol.VideoIDScreen)
	}
	if p.MaxHeight < 0 {
		return nil, protocol.Errorf(protocol.ParamErr, "maxHeight must not be negative")
	}
	return s.locked(func(a *app, u *user, _ *outbox) (any, *protocol.Error) {
		if _, e := a.memberLocked(u, p.UserID); e != nil && on {
			return nil, e // stopping is allowed after the member left
		}
		if p.UserID == u.id {
			return nil, protocol.Errorf(protocol.ParamErr, "your own video is shown locally")
		}
		if u.media == nil {
			return nil, protocol.Errorf(protocol.ResourceAllocateError, "this node has no media")
		}
		u.media.Watch(p.UserID, source, p.MaxHeight, on)
		return nil, nil
	})
}
