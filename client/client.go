package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/crvnode/crvnode/internal/queue"
	"github.com/crvnode/crvnode/protocol"
)

const (
	defaultRequestTimeout = 10 * time.Second
	defaultPingInterval   = 2 * time.Second
	defaultUpIdleTimeout  = 30 * time.Second
	// writeTimeout bounds one write so that a node that stops reading fails
	// the writer instead of holding the write lock forever.
	writeTimeout = 10 * time.Second
	// closeGrace is how long Close waits for the node to answer its close
	// frame, so that the node sees a clean close rather than a reset.
	closeGrace = time.Second
	// maxMessageSize caps what one node message may allocate.
	maxMessageSize = 16 << 20
)

// Options configures a Client. The zero value is usable.
type Options struct {
	// Handler receives the node's events, one at a time on one goroutine,
	// in arrival order. It may call the Client's methods, Close included,
	// but must not wait on Done, which closes only after it has returned.
	// Nil discards events.
	Handler func(Event)
	// Header is sent with the WebSocket handshake, for whatever a proxy in
	// front of the node wants (an Origin, a cookie, a bearer token).
	Header http.Header
	// Dialer opens the WebSocket; set it for TLS settings, a proxy or a
	// handshake timeout. Nil means websocket.DefaultDialer.
	Dialer *websocket.Dialer
	// RequestTimeout bounds a request whose ctx has no deadline, so that a
	// node that never answers cannot hang the caller. Zero means 10s. Such a
	// request fails with code 202 NOSERVER_RSP (and errors.Is
	// context.DeadlineExceeded).
	RequestTimeout time.Duration
	// PingInterval is how often the client pings the node. If nothing,
	// pongs included, arrives for 2.5 intervals the connection is taken for
	// lost: the client resumes the session on a new one, or, where it
	// cannot, ends with lineOff 207. Zero means 2s, so that a dead
	// connection is noticed (after 5 s) well within the node's resume
	// grace window.
	PingInterval time.Duration
	// NoResume ends the session at once, with lineOff 207, when its
	// connection is lost, instead of resuming it on a new connection
	// within the node's grace window (resume.go).
	NoResume bool
	// NoMove hands the program the 803 of an entry into a meeting whose
	// media another node of the service forwards, instead of moving the
	// session there and entering (move.go).
	NoMove bool
	// Logger receives what the client drops (malformed or unmatched node
	// messages). Nil discards.
	Logger *slog.Logger
	// OnTrack receives each remote track the node sends: the audio of
	// members whose mic is open, the videos asked for with SetVideo. It runs
	// on the track's own goroutine and should read the track until it
	// ends. Nil reads and drops them.
	OnTrack func(*RemoteTrack)
	// SettingEngine customises the client's PeerConnections (network,
	// ICE, a virtual network in tests). Nil uses pion's defaults with
	// loopback candidates included.
	SettingEngine *webrtc.SettingEngine
	// ICETransportPolicy "relay" makes media go through TURN only.
	ICETransportPolicy webrtc.ICETransportPolicy
	// TransferDir is where received files land (notifyFileData); empty
	// means the system's temporary directory.
	TransferDir string
	// SignalingOnly opens the up connection only when the program
	// publishes or sends data: not when entering a meeting, and not when
	// the node asks for it (upNeeded) because someone sends this user data,
	// so such a user cannot receive transfers. Load tools set it.
	SignalingOnly bool
	// UpIdleTimeout closes the up connection (and tells the node:
	// upClose) once it has carried nothing for this long outside a
	// meeting: no transfer either way, nothing being opened. Sources still
	// published then stop (outside a meeting nobody receives them); the
	// next meeting, publish or transfer opens a new connection. 0 means
	// 30 s; negative, never.
	UpIdleTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Handler == nil {
		o.Handler = func(Event) {}
	}
	if o.Dialer == nil {
		o.Dialer = websocket.DefaultDialer
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = defaultRequestTimeout
	}
	if o.PingInterval <= 0 {
		o.PingInterval = defaultPingInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.UpIdleTimeout == 0 {
		o.UpIdleTimeout = defaultUpIdleTimeout
	}
	return o
}

// Client is one connection to a node, and the session logged in over it.
// It is safe for concurrent use. A Client is not reused: after its
// connection ends, Dial a new one.
type Client struct {
	url     string
	opts    Options
	log     *slog.Logger
	nextID  atomic.Int64
	writeMu sync.Mutex // gorilla allows one writer at a time

	mu          sync.Mutex
	link        *wsLink                // the connection; nil while the session resumes
	pending     map[int64]*pendingCall // nil once the session has ended
	closing     bool                   // Close was called
	lineOffSeen bool                   // the node sent lineOff itself
	resume      resumeState            // how to resume the session; zero without one
	moving      *moving                // a move to another node under way (move.go)
	userID      protocol.UserID
	iceServers  []protocol.ICEServer
	media       *media // nil until media is used or the node negotiates
	sources     map[protocol.Source]MediaSource
	meetID      protocol.MeetingID
	members     map[protocol.UserID]protocol.MemberInfo // nil when in no meeting

	// lastSeq is the highest seq received. Only the goroutine that reads
	// the node touches it: a link's reader, or between links the resumer.
	lastSeq uint64

	events    *queue.Queue[Event]
	closed    context.Context // done once Close was called: stops a resume
	cancel    context.CancelFunc
	done      chan struct{}
	ioWG      sync.WaitGroup // the readers, pingers and the resumer
	bg        sync.WaitGroup // work started for the program (opening the up connection in the background)
	closeOnce sync.Once
}

// wsLink is one WebSocket connection of the session.
type wsLink struct {
	conn       *websocket.Conn
	stop       chan struct{} // closed when the connection ends; stops its pinger
	readerDone chan struct{}
}

func newLink(conn *websocket.Conn) *wsLink {
	return &wsLink{conn: conn, stop: make(chan struct{}), readerDone: make(chan struct{})}
}

// Dial connects to a node's WebSocket endpoint (ws://host:port/ws or
// wss://...). ctx bounds the handshake only; the connection lives until
// Close or until it drops. A failure is code 203 CREATE_CONN_FAILED, wrapping
// the cause. Log in soon after: the node closes a connection that has not
// logged in within its login time (10 s by default).
func Dial(ctx context.Context, url string, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	conn, resp, err := opts.Dialer.DialContext(ctx, url, opts.Header)
	if err != nil {
		msg := "dial " + url
		if resp != nil {
			msg += ": handshake answered " + resp.Status
		}
		return nil, fmt.Errorf("%w: %w", protocol.Errorf(protocol.CreateConnFailed, "%s", msg), err)
	}
	c := newClient(conn, opts)
	c.url = url
	c.start()
	return c, nil
}

// newClient builds a Client around conn without starting its goroutines.
func newClient(conn *websocket.Conn, opts Options) *Client {
	c := &Client{
		opts:    opts,
		log:     opts.Logger,
		pending: map[int64]*pendingCall{},
		events:  queue.New[Event](),
		done:    make(chan struct{}),
	}
	if conn != nil {
		c.link = newLink(conn)
	}
	c.closed, c.cancel = context.WithCancel(context.Background())
	return c
}

func (c *Client) start() {
	c.startLink(c.link)
	go c.dispatchLoop()
}

// startLink starts the reader and the pinger of a connection. It is called
// by a goroutine counted in ioWG (or before any is), so that Close's Wait
// never sees the count drop to zero between two links.
func (c *Client) startLink(l *wsLink) {
	c.ioWG.Add(2)
	go c.readLoop(l)
	go c.pingLoop(l)
}

// Close ends the connection and the session: it sends a close frame (the
// node then logs the session off), waits briefly for the node's answer,
// closes the socket and waits for the reading and pinging goroutines. While
// the session resumes, Close stops the resume; the node then ends the
// session when its grace window passes. Events not yet handed to the Handler are dropped (no lineOff
// is made up for a connection the program closed); a Handler call already
// running may still be finishing when Close returns: Done closes once it
// has. Pending requests fail with code 207. Close may be called any number
// of times, from any goroutine, the Handler included; it always returns nil.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closing = true
		l := c.link
		if l == nil && c.moving != nil {
			l = c.moving.from // a move under way: end the session where it is
		}
		c.mu.Unlock()
		c.cancel() // a resume under way gives up
		c.events.Discard()
		if l != nil {
			closeLink(l, websocket.CloseNormalClosure)
		}
	})
	c.ioWG.Wait()
	c.bg.Wait()
	c.closeMedia()
	return nil
}

// Done is closed when the client has stopped: the connection has ended
// (Close, a drop, or the node closing it), and the Handler has returned
// from the last event it will get. A lost connection's lineOff has been
// handled by then.
func (c *Client) Done() <-chan struct{} { return c.done }

// closeLink sends a close frame with code, waits briefly for the node's
// answer (the reader sees it), and closes the socket.
func closeLink(l *wsLink, code int) {
	msg := websocket.FormatCloseMessage(code, "")
	if l.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeGrace)) == nil {
		t := time.NewTimer(closeGrace)
		select {
		case <-l.readerDone:
		case <-t.C:
		}
		t.Stop()
	}
	_ = l.conn.Close()
}

// readLoop owns all reads of a connection; it is the only goroutine that
// changes session state while the connection lives, so state changes
// follow the node's message order.
func (c *Client) readLoop(l *wsLink) {
	defer c.ioWG.Done()
	err := c.readMessages(l)
	close(l.readerDone)
	c.linkEnded(l, err)
}

func (c *Client) readMessages(l *wsLink) error {
	readTimeout := c.opts.PingInterval * 5 / 2
	extend := func(string) error { return l.conn.SetReadDeadline(time.Now().Add(readTimeout)) }
	l.conn.SetReadLimit(maxMessageSize)
	l.conn.SetPongHandler(extend)
	for {
		if err := extend(""); err != nil {
			return err
		}
		typ, data, err := l.conn.ReadMessage()
		if err != nil {
			return err
		}
		if typ != websocket.TextMessage {
			c.log.Warn("crvnode client: dropped binary message", "bytes", len(data))
			continue
		}
		c.handleMessage(data)
	}
}

// connectionEnded ends the session: it fails what waits on it and tells
// the Handler why with lineOff code, unless the program closed it or the
// node already said so.
func (c *Client) connectionEnded(cause error, code protocol.Code) {
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.link = nil
	closing := c.closing
	lineOff := !c.closing && !c.lineOffSeen
	c.resume = resumeState{}
	c.leaveMeetingLocked()
	c.mu.Unlock()

	for _, p := range pending {
		p.ch <- &protocol.Message{JSONRPC: protocol.Version, Error: lostError(closing, cause)}
	}
	c.bg.Add(1) // Close waits for it
	go func() {
		defer c.bg.Done()
		// Not on the reader: closing waits for pion's goroutines. Media
		// closes first, so that the results of transfers it fails
		// (sendFileRlst 1000, ...) reach the Handler before lineOff.
		c.closeMedia()
		if lineOff {
			c.log.Info("crvnode client: connection lost", "err", cause)
			c.events.Push(Event{Method: protocol.EventLineOff, Data: &protocol.LineOff{SdkEr: code}})
		}
		c.events.Close()
	}()
}

// lostError is what a request gets once the connection has ended.
func lostError(closing bool, cause error) *protocol.Error {
	if closing {
		return protocol.Errorf(protocol.ConnectionLost, "connection closed")
	}
	return protocol.Errorf(protocol.ConnectionLost, "connection lost: %v", cause)
}

// pingLoop keeps NATs and proxies from dropping an idle connection and makes
// the node answer, so that readMessages notices a dead node by its silence.
func (c *Client) pingLoop(l *wsLink) {
	defer c.ioWG.Done()
	t := time.NewTicker(c.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if err := l.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				_ = l.conn.Close() // the reader sees the loss and reports it
				return
			}
		}
	}
}
