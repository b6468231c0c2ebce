// Package signaling is crvnode's control plane: the WebSocket endpoint, the
// JSON-RPC dispatch, authentication, sessions, presence and do-not-disturb,
// meetings, calls and invites, and their persistence. It knows nothing of
// RTP.
package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/protocol"
)

// Server serves the CRVideo signaling protocol at its HTTP handler.
type Server struct {
	cfg      Config
	log      *slog.Logger
	store    *Store
	apps     map[string]*app
	methods  map[string]method
	metrics  *metrics
	upgrader websocket.Upgrader

	tokens *tokens // of sessions that can be resumed (resume.go)

	serials  atomic.Uint64 // of the sessions made here
	repl     *replication  // the cluster's log; nil on a node of its own (replica.go)
	caughtUp func()

	mu        sync.Mutex
	links     map[*link]struct{}    // open connections
	detached  map[*session]struct{} // sessions waiting for a resume
	upgrading int                   // handshakes under way: they hold a place under MaxConnections
	closed    bool
	wg        sync.WaitGroup
}

// handlerFunc serves one JSON-RPC method for a session. params are the raw
// params; the result is encoded as the JSON-RPC result.
type handlerFunc func(s *session, params json.RawMessage) (any, *protocol.Error)

type method struct {
	fn         handlerFunc
	anonymous  bool // may be called before login
	unnumbered bool // answered outside the session's numbered messages (ping, resume)
}

// New builds a server from cfg and loads every app's users and meetings
// from the store.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	srv := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		store:    cfg.Store,
		apps:     map[string]*app{},
		tokens:   newTokens(),
		links:    map[*link]struct{}{},
		detached: map[*session]struct{}{},
	}
	var err error
	if srv.metrics, err = newMetrics(cfg.Registerer, srv); err != nil {
		return nil, err
	}
	srv.upgrader = websocket.Upgrader{
		// Idle sessions hold no write buffer: buffers come from a pool for
		// the duration of a write. The read buffer is 1 KiB of the
		// connection's own rather than the HTTP server's 4 KiB (messages
		// larger than it are read in pieces): 3 KiB less per session.
		ReadBufferSize:  1 << 10,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     srv.checkOrigin,
	}
	srv.methods = protocolMethods()
	for _, ac := range cfg.Apps {
		a := newApp(ac, srv)
		if cfg.Cluster == nil { // in a cluster, the log is the store
			if err := a.load(context.Background()); err != nil {
				return nil, fmt.Errorf("signaling: load app %q: %w", ac.ID, err)
			}
		}
		srv.apps[ac.ID] = a
	}
	if cfg.Cluster != nil {
		if err := srv.startCluster(cfg.Cluster, cfg.SnapshotEvery); err != nil {
			return nil, err
		}
	}
	return srv, nil
}

func (srv *Server) checkOrigin(r *http.Request) bool {
	if len(srv.cfg.AllowedOrigins) == 0 {
		return true
	}
	origin := r.Header.Get("Origin")
	for _, o := range srv.cfg.AllowedOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// ServeHTTP upgrades the request to a WebSocket and serves it until it
// closes.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The place is taken before the handshake, so that a client that got
	// its 101 counts at once and concurrent handshakes cannot pass the cap.
	srv.mu.Lock()
	closed := srv.closed
	limit := srv.cfg.Limits.MaxConnections
	full := limit > 0 && len(srv.links)+srv.upgrading >= limit
	if !closed && !full {
		srv.upgrading++
	}
	srv.mu.Unlock()
	if closed {
		http.Error(w, "node is shutting down", http.StatusServiceUnavailable)
		return
	}
	if full {
		srv.metrics.refused.WithLabelValues("max_connections").Inc()
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many connections", http.StatusServiceUnavailable)
		return
	}
	conn, err := srv.upgrader.Upgrade(w, r, nil)
	if err != nil {
		srv.mu.Lock()
		srv.upgrading--
		srv.mu.Unlock()
		return // the upgrader has answered the client
	}
	l := newLink(conn, srv.cfg.Limits.SendQueue, srv.metrics.slowClients)
	s := newSession(srv, l, conn.RemoteAddr().String(), srv.baseURL(r))
	srv.mu.Lock()
	srv.upgrading--
	if srv.closed { // Shutdown began during the handshake: say so, as to everyone else
		srv.mu.Unlock()
		_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
		_ = conn.WriteMessage(websocket.TextMessage, srv.goodbye())
		_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "node shutting down"))
		conn.Close()
		return
	}
	srv.links[l] = struct{}{}
	srv.wg.Add(2)
	srv.mu.Unlock()
	go func() { defer srv.wg.Done(); l.writeLoop() }()
	go func() { defer srv.wg.Done(); defer srv.forget(l); l.readLoop(s) }()
}

func (srv *Server) baseURL(r *http.Request) string {
	if srv.cfg.PublicURL != "" {
		return strings.TrimRight(srv.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (srv *Server) forget(l *link) {
	srv.mu.Lock()
	delete(srv.links, l)
	srv.mu.Unlock()
}

// waiting notes whether s waits for a resume.
func (srv *Server) waiting(s *session, on bool) {
	srv.mu.Lock()
	if on {
		srv.detached[s] = struct{}{}
	} else {
		delete(srv.detached, s)
	}
	srv.mu.Unlock()
}

func (srv *Server) isClosed() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.closed
}

// Shutdown stops accepting connections, tells every connected client that
// the node is going away (lineOff with FORCEDCLOSECONNECTION), closes their
// sockets and waits for their goroutines, or for ctx.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.closed = true
	all := make([]*link, 0, len(srv.links))
	for l := range srv.links {
		all = append(all, l)
	}
	waiting := make([]*session, 0, len(srv.detached))
	for s := range srv.detached {
		waiting = append(waiting, s)
	}
	srv.mu.Unlock()
	bye := srv.goodbye()
	for _, l := range all {
		l.push(bye)
		l.close(websocket.CloseGoingAway, "node shutting down", true)
	}
	for _, s := range waiting {
		s.finish(protocol.ForcedCloseConnection)
	}
	done := make(chan struct{})
	go func() { srv.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		for _, l := range all {
			l.conn.Close()
		}
		err = ctx.Err()
	}
	if srv.repl != nil {
		// The node's users are offline everywhere at once, rather than
		// one logoff at a time or after its heartbeat expires.
		if e := srv.NodeDown(srv.repl.node); e != nil {
			srv.log.Error("cluster: telling the others this node stops; they will find its heartbeat gone", "err", e)
			err = errors.Join(err, e)
		}
		srv.stopCluster()
	}
	for _, a := range srv.apps {
		a.stopTimers()
	}
	return err
}

// goodbye is the lineOff every client gets when the node shuts down.
func (srv *Server) goodbye() []byte {
	return encodeEvent(protocol.EventLineOff, protocol.LineOff{SdkEr: protocol.ForcedCloseConnection})
}
