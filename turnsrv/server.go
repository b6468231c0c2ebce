// Package turnsrv is crvnode's embedded TURN server (RFC 8656, on
// pion/turn) and its time-limited credentials.
//
// Credentials follow the TURN REST scheme that coturn's use-auth-secret
// also accepts, so a deployment can move relaying to a coturn fleet that
// shares the secret (see Credentials and ExternalICEServers). The server
// relays UDP only (what WebRTC uses; TCP relays, RFC 6062, are refused),
// over UDP, TCP and optionally TLS listeners; it refuses relaying to
// loopback, private and other special-purpose addresses unless allowed,
// caps allocations per user and in total, and reports to Prometheus.
package turnsrv

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"

	"github.com/crvnode/crvnode/protocol"
)

// closeTimeout bounds how long Close waits for allocations to end.
const closeTimeout = 5 * time.Second

// Server is a running TURN server. Its methods are safe for concurrent use.
type Server struct {
	set     *settings
	log     *slog.Logger
	addrs   Addrs
	urls    []string
	quota   *quota
	metrics *metrics
	conns   *connSet
	limiter *limiter
	pion    *turn.Server
	loops   sync.WaitGroup   // listener loops not yet ended
	now     func() time.Time // checks expiry and mints credentials

	closeOnce sync.Once
	closeErr  error
	closers   []func() error // the listeners, until pion owns them
}

// Addrs are the addresses a Server listens on, with ports resolved; nil
// for a listener not configured.
type Addrs struct {
	UDP *net.UDPAddr
	TCP *net.TCPAddr
	TLS *net.TCPAddr
}

// New starts a TURN server on the configured listeners. Close stops it.
func New(cfg Config) (*Server, error) {
	set, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	s := &Server{
		set:     set,
		log:     set.Logger.With("component", "turn"),
		quota:   newQuota(set.MaxAllocationsPerUser, set.MaxAllocations),
		limiter: newLimiter(),
		now:     set.now,
	}
	s.conns = newConnSet(2*set.MaxAllocations, set.connIdle, s.refuse)
	s.metrics, err = newMetrics(set.Registerer, func() float64 { return float64(s.quota.allocations()) })
	if err != nil {
		return nil, err
	}
	if err := s.start(); err != nil {
		for _, c := range s.closers {
			_ = c()
		}
		s.metrics.unregister()
		return nil, err
	}
	return s, nil
}

// start opens the listeners and starts pion on them.
func (s *Server) start() error {
	set := s.set
	var udp net.PacketConn
	var tcp, tlsLn net.Listener
	if set.UDPAddr != "" {
		pc, err := net.ListenPacket(set.network("udp"), set.UDPAddr)
		if err != nil {
			return fmt.Errorf("turnsrv: listen udp %s: %w", set.UDPAddr, err)
		}
		s.closers = append(s.closers, pc.Close)
		s.addrs.UDP, _ = pc.LocalAddr().(*net.UDPAddr)
		s.loops.Add(1)
		udp = newListenerPacketConn(pc, s.loops.Done)
	}
	listen := func(addr string) (*trackingListener, *net.TCPAddr, error) {
		ln, err := net.Listen(set.network("tcp"), addr)
		if err != nil {
			return nil, nil, fmt.Errorf("turnsrv: listen tcp %s: %w", addr, err)
		}
		s.closers = append(s.closers, ln.Close)
		s.loops.Add(1)
		a, _ := ln.Addr().(*net.TCPAddr)
		return newTrackingListener(ln, s.conns, s.loops.Done), a, nil
	}
	if set.TCPAddr != "" {
		ln, a, err := listen(set.TCPAddr)
		if err != nil {
			return err
		}
		tcp, s.addrs.TCP = ln, a
	}
	if set.TLSAddr != "" {
		ln, a, err := listen(set.TLSAddr)
		if err != nil {
			return err
		}
		tlsLn, s.addrs.TLS = tls.NewListener(ln, set.certs.tlsConfig()), a
	}
	return s.startPion(udp, tcp, tlsLn)
}

func (s *Server) startPion(udp net.PacketConn, tcp, tlsLn net.Listener) error {
	set := s.set
	var bound []net.Addr // typed nils must not become non-nil interfaces
	if s.addrs.UDP != nil {
		bound = append(bound, s.addrs.UDP)
	}
	if s.addrs.TCP != nil {
		bound = append(bound, s.addrs.TCP)
	}
	if s.addrs.TLS != nil {
		bound = append(bound, s.addrs.TLS)
	}
	public, derived := set.publicIP(bound)
	gen, err := s.relayGenerator(public, set.relayBind(bound))
	if err != nil {
		return err
	}
	pcfg := turn.ServerConfig{
		LoggerFactory: slogFactory{log: s.log, min: pionLogMin},
		Realm:         set.Realm,
		AuthHandler:   s.authenticate,
		QuotaHandler:  s.admit,
		EventHandler: turn.EventHandler{
			OnAuth:              s.onAuth,
			OnAllocationCreated: s.onCreated,
			OnAllocationDeleted: s.onDeleted,
			OnAllocationError:   func(src, _ net.Addr, _, _ string) { s.quota.failed(src) },
		},
	}
	if udp != nil {
		pcfg.PacketConnConfigs = append(pcfg.PacketConnConfigs,
			turn.PacketConnConfig{PacketConn: udp, RelayAddressGenerator: gen, PermissionHandler: s.permit})
	}
	for _, ln := range []net.Listener{tcp, tlsLn} {
		if ln != nil {
			pcfg.ListenerConfigs = append(pcfg.ListenerConfigs,
				turn.ListenerConfig{Listener: ln, RelayAddressGenerator: gen, PermissionHandler: s.permit})
		}
	}
	if s.pion, err = turn.NewServer(pcfg); err != nil {
		return fmt.Errorf("turnsrv: %w", err)
	}
	s.closers = nil // pion closes the listeners from now on
	host := set.Host
	if host == "" {
		host = public.String()
	}
	s.urls = buildURLs(host, s.addrs)
	s.log.Info("TURN server listening", "relayIP", public, "realm", set.Realm, "urls", s.urls)
	if derived && (public.IsLoopback() || public.IsPrivate()) {
		s.log.Warn("TURN relay address is not public: clients outside this network cannot use it; set the public IP",
			"relayIP", public)
	}
	return nil
}

// relayGenerator makes relays on bind, announced as public.
func (s *Server) relayGenerator(public, bind netip.Addr) (*relayGen, error) {
	set := s.set
	var inner turn.RelayAddressGenerator = &turn.RelayAddressGeneratorStatic{
		RelayAddress: net.IP(public.AsSlice()),
		Address:      bind.String(),
	}
	if set.RelayPortMin != 0 {
		inner = &turn.RelayAddressGeneratorPortRange{
			RelayAddress: net.IP(public.AsSlice()),
			Address:      bind.String(),
			MinPort:      uint16(set.RelayPortMin), // 1-65535: checked by validate
			MaxPort:      uint16(set.RelayPortMax),
			MaxRetries:   32,
		}
	}
	gen := &relayGen{inner: inner, network: set.network("udp"), bytes: s.metrics.relayed}
	if err := gen.Validate(); err != nil {
		return nil, fmt.Errorf("turnsrv: relay addresses: %w", err)
	}
	return gen, nil
}

// buildURLs lists the ICE server URLs of the listeners that exist.
func buildURLs(host string, a Addrs) []string {
	hp := func(port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
	var urls []string
	if a.UDP != nil {
		urls = append(urls, "stun:"+hp(a.UDP.Port), "turn:"+hp(a.UDP.Port)+"?transport=udp")
	}
	if a.TCP != nil {
		urls = append(urls, "turn:"+hp(a.TCP.Port)+"?transport=tcp")
	}
	if a.TLS != nil {
		urls = append(urls, "turns:"+hp(a.TLS.Port)+"?transport=tcp")
	}
	return urls
}

// Addrs returns the addresses the server listens on.
func (s *Server) Addrs() Addrs { return s.addrs }

// ICEServers mints credentials for userID (valid for CredentialTTL) and
// returns them with this server's URLs: stun: and turn: over UDP,
// turn: over TCP, turns: over TLS, for the listeners that exist. Give
// every PeerConnection fresh ones: an expired username cannot allocate.
// userID must not be empty (nil is returned); it is what the per-user
// quota counts, so make it unique across apps.
func (s *Server) ICEServers(userID string) []protocol.ICEServer {
	if userID == "" {
		return nil
	}
	user, pass, _ := Credentials(s.set.Secret, userID, s.set.CredentialTTL, s.now())
	return []protocol.ICEServer{{URLs: append([]string(nil), s.urls...), Username: user, Credential: pass}}
}

// authenticate is pion's AuthHandler: it accepts well-formed TURN REST
// usernames and returns the long-term key their password implies, which
// pion checks against MESSAGE-INTEGRITY (in constant time). Expiry is
// checked on Allocate only: an allocation made with valid credentials may
// be refreshed, and its permissions and channels renewed, after they
// expire, so that a call outlives its credentials; a new allocation
// cannot.
func (s *Server) authenticate(ra *turn.RequestAttributes) (userID string, key []byte, ok bool) {
	expires, userID, ok := parseUsername(ra.Username)
	if !ok {
		s.refuse(reasonAuth, "client", addrString(ra.SrcAddr), "username", truncate(ra.Username, 64),
			"why", "malformed username")
		return "", nil, false
	}
	if ra.Method == stun.MethodAllocate && s.now().After(expires) {
		s.refuse(reasonExpired, "client", addrString(ra.SrcAddr), "user", userID, "expired", expires)
		return "", nil, false
	}
	pass := password64(s.set.Secret, ra.Username)
	return userID, turn.GenerateAuthKey(ra.Username, s.set.Realm, pass), true
}

// onAuth counts requests whose MESSAGE-INTEGRITY did not match: a wrong
// password, another secret, or another realm.
func (s *Server) onAuth(src, _ net.Addr, _, username, _, method string, verdict bool) {
	if !verdict {
		s.refuse(reasonAuth, "client", addrString(src), "username", truncate(username, 64), "method", method,
			"why", "bad password")
	}
}

// admit is pion's QuotaHandler, asked before each new allocation.
func (s *Server) admit(userID, _ string, src net.Addr) bool {
	reason, ok := s.quota.reserve(userID, src, s.now())
	if !ok {
		s.refuse(reason, "client", addrString(src), "user", userID)
	}
	return ok
}

func (s *Server) onCreated(src, dst net.Addr, _, userID, _ string, relay net.Addr, _ int) {
	s.quota.created(userID, src)
	s.conns.hold(src, dst, true)
	s.log.Debug("TURN allocation created", "user", userID, "client", addrString(src), "relay", addrString(relay))
}

func (s *Server) onDeleted(src, dst net.Addr, _, userID, _ string) {
	s.quota.deleted(userID)
	s.conns.hold(src, dst, false)
	s.log.Debug("TURN allocation deleted", "user", userID, "client", addrString(src))
}

// permit is pion's PermissionHandler, asked for every CreatePermission
// and ChannelBind.
func (s *Server) permit(client net.Addr, peer net.IP) bool {
	if s.set.policy.permits(peer) {
		return true
	}
	s.refuse(reasonPeerAddress, "client", addrString(client), "peer", peer.String())
	return false
}

// refuse counts a refusal and logs it, at most once a second per reason.
func (s *Server) refuse(reason string, attrs ...any) {
	s.metrics.refuse(reason)
	suppressed, ok := s.limiter.allow(reason, time.Now())
	if !ok {
		return
	}
	attrs = append(attrs, "reason", reason)
	if suppressed > 0 {
		attrs = append(attrs, "suppressed", suppressed)
	}
	s.log.Info("TURN refused", attrs...)
}

// Close stops the listeners, closes every client connection and
// allocation, waits (up to a few seconds) for them to end, and removes
// the metrics. It returns the same result when called again.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := s.pion.Close()
		s.conns.closeAll()
		loops := make(chan struct{})
		go func() { s.loops.Wait(); close(loops) }()
		timeout := time.NewTimer(closeTimeout)
		defer timeout.Stop()
		select {
		case <-loops:
			select {
			case <-s.quota.drained():
			case <-timeout.C:
				err = errors.Join(err, fmt.Errorf("%w: %d allocations left", ErrCloseTimeout, s.quota.allocations()))
			}
		case <-timeout.C:
			err = errors.Join(err, fmt.Errorf("%w: listeners still running", ErrCloseTimeout))
		}
		s.metrics.unregister()
		s.closeErr = err
	})
	return s.closeErr
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
