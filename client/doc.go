// Package client is the Go SDK of crvnode: the CRVideo operations (login,
// presence, meetings, calls, invites) as Go methods over one WebSocket to a
// node, for Go programs, end-to-end tests and load tools.
//
// # Flow
//
// A program dials the node's /ws endpoint, logs in, and then uses the
// meeting and call methods. The node's events (an incoming call, a member
// entering the meeting, being logged off) arrive at Options.Handler:
//
//	c, err := client.Dial(ctx, "wss://node.example.com/ws", client.Options{
//		Handler: func(ev client.Event) {
//			switch d := ev.Data.(type) {
//			case *protocol.NotifyCallIn:
//				// someone calls: AcceptCall(ctx, d.CallID, &d.MeetObj, "")
//			case *protocol.NotifyCallAccepted:
//				// the callee took the call: EnterMeeting(ctx, d.MeetObj.ID, ...)
//			case *protocol.NetState:
//				// the connection was lost ("lost") or the session resumed ("restored")
//			case *protocol.LineOff:
//				// logged off (d.SdkEr 10: logged in elsewhere; 207: connection lost)
//			}
//		},
//	})
//	defer c.Close()
//	_, err = c.Login(ctx, protocol.LoginParams{AppID: id, AppSecret: md5hex, UserID: "alice", NickName: "Alice"})
//	meet, err := c.CreateMeeting(ctx, "standup", 0)
//	callID, err := c.Call(ctx, "bob", &meet, "")
//	_, err = c.EnterMeeting(ctx, meet.ID, meet.Pswd, "")
//	members := c.Members() // a local query, kept up to date by events
//
// # Errors
//
// A request the node refuses returns the node's *protocol.Error, so
// protocol.CodeOf(err) is the CRVideo code (602 ERR_BUSY, 800 MEETNOTEXIST,
// ...). Once the connection has ended, every pending and later request fails
// with code 207 CONNECTIONLOST. A request whose ctx ends returns ctx.Err().
//
// # Network loss
//
// A connection that is lost (a network that drops or goes silent for 5 s,
// not a logout, a login elsewhere or Close) does not end the session: the
// Handler gets a netStateChanged event with *protocol.NetState "lost", the
// client reconnects with backoff and jitter for as long as the node's grace
// window lasts (20 s by default) and resumes the session, then the Handler
// gets "restored" followed by the events the node sent meanwhile, each
// once. Requests made before or during the loss are answered once; media
// connections that failed meanwhile are restarted without leaving the
// meeting. When the session cannot be resumed, pending requests fail with
// 207 and lineOff comes with 207 (10 if a login elsewhere kicked it).
// Options.NoResume turns this off. docs/protocol/resume.md has the details.
//
// # Events
//
// The Handler runs on one goroutine of the client, one event at a time, in
// the order the node sent them. Events wait in an unbounded queue, so a slow
// Handler delays later events but never the responses to requests: a Handler
// may call request methods (AcceptCall from notifyCallIn, say). Events this
// package has no type for arrive with their params as json.RawMessage.
//
// The CRVideo API's cookie argument is not part of this SDK: a Go caller
// keeps its own context across the call, and the cookie never goes on the
// wire.
package client
