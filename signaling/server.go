// Package signaling is crvnode's control plane: the WebSocket endpoint, the
// JSON-RPC dispatch, authentication, sessions, presence and do-not-disturb,
// meetings, calls and invites, and their persistence. It knows nothing of
// RTP.
package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
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

	mu        sync.Mutex
	sessions  map[*session]struct{}
	upgrading int // handshakes under way: they hold a place under MaxConnections
	closed    bool
	wg        sync.WaitGroup
}

// handlerFunc serves one JSON-RPC method for a session. params are the raw
// params; the result is encoded as the JSON-RPC result.
type handlerFunc func(s *session, params json.RawMessage) (any, *protocol.Error)

type method struct {
	fn        handlerFunc
	anonymous bool // may be called before login
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
		sessions: map[*session]struct{}{},
	}
	var err error
	if srv.metrics, err = newMetrics(cfg.Registerer, srv); err != nil {
		return nil, err
	}
	srv.upgrader = websocket.Upgrader{
		// Idle sessions hold no write buffer: buffers come from a pool for
		// the duration of a write. The read side reuses the HTTP server's.
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     srv.checkOrigin,
	}
	srv.methods = protocolMethods()
	for _, ac := range cfg.Apps {
		a := newApp(ac, srv)
		if err := a.load(context.Background()); err != nil {
			return nil, fmt.Errorf("signaling: load app %q: %w", ac.ID, err)
		}
		srv.apps[ac.ID] = a
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
	full := limit > 0 && len(srv.sessions)+srv.upgrading >= limit
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
	s := newSession(srv, conn, srv.baseURL(r))
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
	srv.sessions[s] = struct{}{}
	srv.wg.Add(2)
	srv.mu.Unlock()
	go func() { defer srv.wg.Done(); s.writeLoop() }()
	go func() { defer srv.wg.Done(); s.readLoop() }()
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

func (srv *Server) forget(s *session) {
	srv.mu.Lock()
	delete(srv.sessions, s)
	srv.mu.Unlock()
}

// Shutdown stops accepting connections, tells every connected client that
// the node is going away (lineOff with FORCEDCLOSECONNECTION), closes their
// sockets and waits for their goroutines, or for ctx.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.closed = true
	all := make([]*session, 0, len(srv.sessions))
	for s := range srv.sessions {
		all = append(all, s)
	}
	srv.mu.Unlock()
	bye := srv.goodbye()
	for _, s := range all {
		s.send(bye)
		s.close(websocket.CloseGoingAway, "node shutting down")
	}
	done := make(chan struct{})
	go func() { srv.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		for _, s := range all {
			s.conn.Close()
		}
		return ctx.Err()
	}
	for _, a := range srv.apps {
		a.stopTimers()
	}
	return nil
}

// goodbye is the lineOff every client gets when the node shuts down.
func (srv *Server) goodbye() []byte {
	return encodeEvent(protocol.EventLineOff, protocol.LineOff{SdkEr: protocol.ForcedCloseConnection})
}
