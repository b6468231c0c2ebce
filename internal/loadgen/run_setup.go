package loadgen

import (
	"context"
	"sync"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/protocol"
)

// setup logs everyone in, fills the meetings and waits (up to
// SetupTimeout) for every member's media. Failures are counted, not
// fatal: the report says who failed where.
func (st *runState) setup(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, st.s.SetupTimeout)
	defer cancel()
	st.setPhase("login")
	st.each(ctx, st.users, st.loginUser)
	st.setPhase("meetings")
	st.createMeetings(ctx)
	var pubs, subs []*simUser
	for _, u := range st.users {
		if u.meeting >= 0 && u.c != nil && st.meets[u.meeting].ID != 0 {
			if u.publisher {
				pubs = append(pubs, u)
			} else {
				subs = append(subs, u)
			}
		}
	}
	st.setPhase("publish")
	st.each(ctx, pubs, st.publish)
	st.each(ctx, pubs, st.watchAll) // publishers watch each other
	st.setPhase("subscribe")
	st.each(ctx, subs, st.subscribe)
	st.setPhase("media")
	st.waitMedia(ctx)
}

// each runs f for every user, Concurrency at a time, and waits.
func (st *runState) each(ctx context.Context, users []*simUser, f func(context.Context, *simUser)) {
	parallel(ctx, len(users), st.s.Concurrency, func(i int) { f(ctx, users[i]) })
}

// parallel runs fn(i) for i in [0, n), k at a time, and waits; it starts
// none once ctx has ended.
func parallel(ctx context.Context, n, k int, fn func(i int)) {
	sem := make(chan struct{}, k)
	var wg sync.WaitGroup
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}

func (st *runState) loginUser(ctx context.Context, u *simUser) {
	opts := client.Options{OnTrack: func(rt *client.RemoteTrack) { u.recv.Consume(rt.Track) }}
	if st.s.Loopback {
		opts.SettingEngine = LoopbackSettings()
	}
	if u.call != nil {
		// Callers only signal: no up connection (members open theirs
		// after login, as the SDK does by default).
		opts.Handler, opts.SignalingOnly = u.call.handle, true
	}
	c, err := client.Dial(ctx, st.s.URL, opts)
	if err != nil {
		st.fail(&st.counts.LoginFailures, "%s: dial: %v", u.id, err)
		return
	}
	t0 := time.Now()
	if _, err := c.Login(ctx, protocol.LoginParams{AppID: st.s.App, AppSecret: MD5Hex(st.s.Secret), UserID: u.id, NickName: u.id}); err != nil {
		_ = c.Close()
		st.fail(&st.counts.LoginFailures, "%s: login: %v", u.id, err)
		return
	}
	st.record(&st.login, time.Since(t0))
	if u.call != nil {
		u.call.setClient(c)
	}
	st.mu.Lock()
	u.c = c
	st.counts.LoggedIn++
	st.mu.Unlock()
}

// createMeetings has the first logged-in member of each meeting create it.
func (st *runState) createMeetings(ctx context.Context) {
	for m := range st.meets {
		for _, u := range st.users {
			if u.meeting != m || u.c == nil {
				continue
			}
			meet, err := u.c.CreateMeeting(ctx, "crvload", 0)
			if err != nil {
				st.fail(nil, "%s: createMeeting: %v", u.id, err)
				continue
			}
			st.meets[m] = meet
			break
		}
	}
}

func (st *runState) enter(ctx context.Context, u *simUser) bool {
	meet := st.meets[u.meeting]
	if _, err := u.c.EnterMeeting(ctx, meet.ID, meet.Pswd, ""); err != nil {
		st.fail(&st.counts.EnterFailures, "%s: enterMeeting: %v", u.id, err)
		return false
	}
	st.mu.Lock()
	u.entered = true
	st.counts.Entered++
	st.mu.Unlock()
	return true
}

func (st *runState) publish(ctx context.Context, u *simUser) {
	if !st.enter(ctx, u) {
		return
	}
	u.c.SetMicSource(client.NewSyntheticAudio())
	u.c.SetCameraSource(client.NewSyntheticVideo(st.s.Bitrate, st.s.FPS, st.s.Simulcast))
	if err := u.c.OpenMic(ctx, u.id); err != nil {
		st.fail(&st.counts.PublishFailures, "%s: openMic: %v", u.id, err)
		return
	}
	if err := u.c.OpenVideo(ctx, u.id); err != nil {
		st.fail(&st.counts.PublishFailures, "%s: openVideo: %v", u.id, err)
		return
	}
	st.count(&st.counts.Publishing)
}

// subscribe enters the meeting and watches every camera in it; the time
// from entering to the first video packet is what a user waits to see
// someone.
func (st *runState) subscribe(ctx context.Context, u *simUser) {
	st.mu.Lock()
	u.enterAt = time.Now()
	st.mu.Unlock()
	if !st.enter(ctx, u) {
		return
	}
	st.watchAll(ctx, u)
}

func (st *runState) watchAll(ctx context.Context, u *simUser) {
	vids, err := u.c.GetWatchableVideos(ctx)
	if err != nil {
		st.fail(&st.counts.SubscribeFailures, "%s: getWatchableVideos: %v", u.id, err)
		return
	}
	for _, v := range vids {
		if v.VideoID != protocol.VideoIDCamera || v.UserID == u.id {
			continue
		}
		if err := u.c.SetVideo(ctx, v.UserID, v.VideoID, 0); err != nil {
			st.fail(&st.counts.SubscribeFailures, "%s: setVideo %s: %v", u.id, v.UserID, err)
		}
	}
}

// receiving reports whether u gets every track it should.
func (u *simUser) receiving() bool {
	c := u.recv.Counts()
	return c.VideoTracks >= u.wantVideo && c.Tracks-c.VideoTracks >= u.wantAudio
}

// waitMedia waits until every member in a meeting receives what it
// should, or ctx ends.
func (st *runState) waitMedia(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		all := true
		for _, u := range st.users {
			if u.meeting >= 0 && u.c != nil && !u.receiving() {
				all = false
				break
			}
		}
		if all {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
