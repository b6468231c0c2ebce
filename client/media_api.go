package client

import (
	"context"
	"fmt"

	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/protocol"
)

// MediaSource feeds one published source (a mic, a camera, a screen).
// Tracks are added to the up connection; Start is called once they are
// negotiated and must write to them until ctx ends. Synthetic and file
// sources are in this package; any TrackLocal works.
type MediaSource interface {
	// Tracks returns the tracks to send: one, or the simulcast layers of one
	// video (each with its RID), highest quality first.
	Tracks() []webrtc.TrackLocal
	// Start writes media until ctx ends. sender is the source's RTPSender
	// and mid its transceiver's mid. A source must read the sender's RTCP:
	// keyframe requests are its to honour, and the client's interceptors
	// answer NACKs only while someone reads.
	Start(ctx context.Context, sender *webrtc.RTPSender, mid string)
}

// publish adds src as source to the up connection (once) and negotiates.
func (m *media) publish(ctx context.Context, source protocol.Source, src MediaSource) error {
	m.mu.Lock()
	_, done := m.published[source]
	m.mu.Unlock()
	if done {
		return nil
	}
	m.hold()
	defer m.release()
	pc, err := m.upConn()
	if err != nil {
		return err
	}
	tracks := src.Tracks()
	if len(tracks) == 0 {
		return fmt.Errorf("crvnode client: %s source has no track", source)
	}
	tr, err := pc.AddTransceiverFromTrack(tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return err
	}
	for _, t := range tracks[1:] {
		if err := tr.Sender().AddEncoding(t); err != nil {
			return err
		}
	}
	sctx, cancel := context.WithCancel(context.Background())
	m.mu.Lock()
	m.published[source] = &published{src: src, sender: tr.Sender(), cancel: cancel}
	m.mu.Unlock()
	if err := m.negotiateUp(ctx); err != nil {
		return err
	}
	go src.Start(sctx, tr.Sender(), tr.Mid())
	return nil
}

// media returns the client's media side, creating it on first use.
func (c *Client) mediaSide() (*media, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.media == nil {
		m, err := newMedia(c)
		if err != nil {
			return nil, err
		}
		m.ice = iceServers(c.iceServers)
		c.media = m
	}
	return c.media, nil
}

// ConnectMedia opens the up connection now, with its transfer channel,
// and returns once the channel is open. It is otherwise opened on
// entering a meeting, by the first publish or data transfer, or when the
// node asks for it; outside a meeting it closes again after
// Options.UpIdleTimeout with nothing to carry.
func (c *Client) ConnectMedia(ctx context.Context) error {
	m, err := c.mediaSide()
	if err != nil {
		return err
	}
	_, err = m.ensureUp(ctx)
	return err
}

// SetMicSource, SetCameraSource and SetScreenSource choose what OpenMic,
// OpenVideo and StartScreenShare publish.
func (c *Client) SetMicSource(src MediaSource) { c.setSource(protocol.SourceMic, src) }

// SetCameraSource chooses what OpenVideo publishes.
func (c *Client) SetCameraSource(src MediaSource) { c.setSource(protocol.SourceCamera, src) }

// SetScreenSource chooses what StartScreenShare publishes.
func (c *Client) SetScreenSource(src MediaSource) { c.setSource(protocol.SourceScreen, src) }

func (c *Client) setSource(s protocol.Source, src MediaSource) {
	c.mu.Lock()
	if c.sources == nil {
		c.sources = map[protocol.Source]MediaSource{}
	}
	c.sources[s] = src
	c.mu.Unlock()
}

// openOwn publishes the user's own source before asking the node to open it.
func (c *Client) openOwn(ctx context.Context, userID protocol.UserID, source protocol.Source) error {
	if userID != c.UserID() {
		return nil
	}
	c.mu.Lock()
	src := c.sources[source]
	c.mu.Unlock()
	if src == nil {
		return protocol.Errorf(protocol.WebMediaOpenFailed, "no %s source set", source)
	}
	m, err := c.mediaSide()
	if err != nil {
		return err
	}
	return m.publish(ctx, source, src)
}

// OpenMic opens a member's mic: for the user itself it publishes the mic
// source (SetMicSource) first. Members hear it from then on.
func (c *Client) OpenMic(ctx context.Context, userID protocol.UserID) error {
	if err := c.openOwn(ctx, userID, protocol.SourceMic); err != nil {
		return err
	}
	return c.Do(ctx, protocol.MethodOpenMic, protocol.MemberParams{UserID: userID}, nil)
}

// CloseMic closes a member's mic (the meeting's creator may close anyone's).
func (c *Client) CloseMic(ctx context.Context, userID protocol.UserID) error {
	return c.Do(ctx, protocol.MethodCloseMic, protocol.MemberParams{UserID: userID}, nil)
}

// OpenVideo opens a member's camera: for the user itself it publishes the
// camera source (SetCameraSource) first.
func (c *Client) OpenVideo(ctx context.Context, userID protocol.UserID) error {
	if err := c.openOwn(ctx, userID, protocol.SourceCamera); err != nil {
		return err
	}
	return c.Do(ctx, protocol.MethodOpenVideo, protocol.MemberParams{UserID: userID}, nil)
}

// CloseVideo closes a member's camera.
func (c *Client) CloseVideo(ctx context.Context, userID protocol.UserID) error {
	return c.Do(ctx, protocol.MethodCloseVideo, protocol.MemberParams{UserID: userID}, nil)
}

// StartScreenShare publishes the screen source (SetScreenSource) and
// shares it with the meeting.
func (c *Client) StartScreenShare(ctx context.Context) error {
	if err := c.openOwn(ctx, c.UserID(), protocol.SourceScreen); err != nil {
		return err
	}
	return c.Do(ctx, protocol.MethodStartScreenShare, protocol.Empty{}, nil)
}

// StopScreenShare stops sharing the screen.
func (c *Client) StopScreenShare(ctx context.Context) error {
	return c.Do(ctx, protocol.MethodStopScreenShare, protocol.Empty{}, nil)
}

// GetWatchableVideos lists the cameras and screens of other members that
// SetVideo can show.
func (c *Client) GetWatchableVideos(ctx context.Context) ([]protocol.WatchableVideo, error) {
	var res protocol.WatchableVideosResult
	if err := c.Do(ctx, protocol.MethodGetWatchableVideos, protocol.Empty{}, &res); err != nil {
		return nil, err
	}
	return res.Videos, nil
}

// SetVideo asks the node for a member's camera (protocol.VideoIDCamera) or
// screen (protocol.VideoIDScreen), shown at maxHeight pixels (0: any): the
// track arrives at Options.OnTrack.
func (c *Client) SetVideo(ctx context.Context, userID protocol.UserID, videoID, maxHeight int) error {
	if _, err := c.mediaSide(); err != nil {
		return err
	}
	return c.Do(ctx, protocol.MethodSetVideo, protocol.SetVideoParams{UserID: userID, VideoID: videoID, MaxHeight: maxHeight}, nil)
}

// ClearVideo stops receiving a video asked for with SetVideo.
func (c *Client) ClearVideo(ctx context.Context, userID protocol.UserID, videoID int) error {
	return c.Do(ctx, protocol.MethodClearVideo, protocol.SetVideoParams{UserID: userID, VideoID: videoID}, nil)
}

// RefreshICEServers fetches fresh ICE servers (TURN credentials) from the
// node. The client does it itself before each new PeerConnection.
func (c *Client) RefreshICEServers(ctx context.Context) ([]protocol.ICEServer, error) {
	var res protocol.ICEServersResult
	if err := c.Do(ctx, protocol.MethodRefreshICEServers, protocol.Empty{}, &res); err != nil {
		return nil, err
	}
	return res.ICEServers, nil
}

// Connections returns the up and down PeerConnections, nil until they
// exist, for what this package does not wrap (statistics, say).
func (c *Client) Connections() (up, down *webrtc.PeerConnection) {
	c.mu.Lock()
	m := c.media
	c.mu.Unlock()
	if m == nil {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.up, m.down
}
