// Package sfu is crvnode's media plane: per-meeting routing of audio and
// video between the members of a meeting. Each member has an up
// PeerConnection (offered by the client: what it publishes) and a down
// PeerConnection (offered by the node: what it receives). Published tracks
// are read by one goroutine each and fanned out to subscribers over a
// copy-on-write list. The SFU knows nothing of logins or calls: signaling
// drives it through Peer's methods and hears from it through Events.
package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/webrtc/v4"
)

// SFU routes media between the peers of each room.
type SFU struct {
	cfg     Config
	log     *slog.Logger
	conn    net.PacketConn
	tcp     net.Listener
	udpMux  ice.UDPMux
	tcpMux  ice.TCPMux
	upAPI   *webrtc.API // answers clients' up offers: receives media
	downAPI *webrtc.API // offers down connections: sends media
	metrics *metrics

	mu           sync.Mutex
	rooms        map[string]*Room
	participants map[*Participant]struct{}
	closed       bool
	wg           sync.WaitGroup
}

// New listens on the configured addresses and builds the SFU.
func New(cfg Config) (*SFU, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &SFU{cfg: cfg, log: cfg.Logger, rooms: map[string]*Room{}, participants: map[*Participant]struct{}{}}
	var err error
	if s.metrics, err = newMetrics(cfg.Registerer, s); err != nil {
		return nil, err
	}
	if err := s.listen(); err != nil {
		return nil, err
	}
	lf := newLoggerFactory(cfg.Logger)
	s.udpMux = webrtc.NewICEUDPMux(lf.NewLogger("udpmux"), s.conn)
	if s.tcp != nil {
		s.tcpMux = webrtc.NewICETCPMux(lf.NewLogger("tcpmux"), s.tcp, 64)
	}
	if s.upAPI, err = s.newAPI(lf, true); err != nil {
		s.closeListeners()
		return nil, err
	}
	if s.downAPI, err = s.newAPI(lf, false); err != nil {
		s.closeListeners()
		return nil, err
	}
	s.log.Info("sfu listening", "udp", s.conn.LocalAddr().String(), "tcp", s.tcpAddr())
	return s, nil
}

func (s *SFU) listen() error {
	// With an ephemeral UDP port, the same number may already be taken
	// for TCP (by any outgoing connection on this host): pick another.
	ephemeral := s.cfg.PacketConn == nil && s.cfg.TCPAddr == "" && isEphemeral(s.cfg.UDPAddr)
	for attempt := 1; ; attempt++ {
		err := s.listenOnce()
		if err == nil || !ephemeral || !errors.Is(err, syscall.EADDRINUSE) || attempt == 20 {
			return err
		}
	}
}

func (s *SFU) listenOnce() error {
	s.conn = s.cfg.PacketConn
	if s.conn == nil {
		c, err := listenUDP("udp", s.cfg.UDPAddr)
		if err != nil {
			return fmt.Errorf("sfu: listen udp %s: %w", s.cfg.UDPAddr, err)
		}
		s.conn = c
	}
	tcpAddr := s.cfg.TCPAddr
	if tcpAddr == "-" {
		return nil
	}
	if tcpAddr == "" {
		tcpAddr = s.conn.LocalAddr().String() // same host and port number
	}
	ln, err := net.Listen("tcp", tcpAddr)
	if err != nil {
		s.conn.Close()
		return fmt.Errorf("sfu: listen tcp %s: %w", tcpAddr, err)
	}
	s.tcp = ln
	return nil
}

// listenUDP is net.ListenPacket; tests replace it.
var listenUDP = net.ListenPacket

// isEphemeral reports whether addr asks for a port the system picks.
func isEphemeral(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	return err == nil && (port == "" || port == "0")
}

func (s *SFU) tcpAddr() string {
	if s.tcp == nil {
		return ""
	}
	return s.tcp.Addr().String()
}

// UDPAddr is the UDP address the SFU answers on.
func (s *SFU) UDPAddr() net.Addr { return s.conn.LocalAddr() }

func (s *SFU) closeListeners() {
	if s.udpMux != nil {
		s.udpMux.Close()
	}
	if s.tcpMux != nil {
		s.tcpMux.Close()
	}
	s.conn.Close()
	if s.tcp != nil {
		s.tcp.Close()
	}
}

// newAPI builds the pion API for one direction. Up connections receive:
// they NACK what publishers lose, send receiver reports and transport-wide
// congestion feedback (which browsers need to ramp up simulcast). Down
// connections send: sender reports only; NACKs from subscribers are
// answered from the SFU's own packet cache, shared by all subscribers,
// instead of a per-subscriber copy of every packet.
func (s *SFU) newAPI(lf *loggerFactory, up bool) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := registerCodecs(me, up); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if up {
		gen, err := nack.NewGeneratorInterceptor()
		if err != nil {
			return nil, err
		}
		reg.Add(gen)
		rr, err := report.NewReceiverInterceptor()
		if err != nil {
			return nil, err
		}
		reg.Add(rr)
		tw, err := twcc.NewSenderInterceptor()
		if err != nil {
			return nil, err
		}
		reg.Add(tw)
	} else {
		sr, err := report.NewSenderInterceptor()
		if err != nil {
			return nil, err
		}
		reg.Add(sr)
	}
	se := webrtc.SettingEngine{LoggerFactory: lf}
	se.SetICEUDPMux(s.udpMux)
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if s.tcpMux != nil {
		se.SetICETCPMux(s.tcpMux)
		types = append(types, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(types)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetICETimeouts(10*time.Second, 20*time.Second, 2*time.Second)
	se.DisableActiveTCP(true)
	se.SetSRTPProtectionProfiles(srtpProfiles...)
	if s.cfg.PublicIP != "" {
		// Host candidates carry the public address instead of the local one.
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{External: []string{s.cfg.PublicIP},
			AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace}); err != nil {
			return nil, err
		}
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)), nil
}

// srtpProfiles are the SRTP protection profiles the node accepts, the one
// it prefers first; the DTLS server of a connection picks from the DTLS
// client's list in its own order. Down connections are offered by the
// node and answered as DTLS clients by browsers and the Go client, so the
// node picks there: AES-128-GCM, one AEAD pass per packet and subscriber,
// cheaper here than AES-256-GCM (pion's default first choice) and than
// AES-CM with HMAC-SHA1, which every WebRTC peer supports and stays the
// fallback. On up connections the node answers as DTLS client and the
// client picks (Chromium puts AES-CM first, the Go client AES-128-GCM).
var srtpProfiles = []dtls.SRTPProtectionProfile{
	dtls.SRTP_AEAD_AES_128_GCM,
	dtls.SRTP_AEAD_AES_256_GCM,
	dtls.SRTP_AES128_CM_HMAC_SHA1_80,
}

// room returns the room named key, creating it.
func (s *SFU) room(key string) *Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[key]
	if r == nil {
		r = newRoom(s, key)
		s.rooms[key] = r
	}
	return r
}

// dropRoom forgets an empty room.
func (s *SFU) dropRoom(r *Room) {
	s.mu.Lock()
	if s.rooms[r.key] == r {
		delete(s.rooms, r.key)
	}
	s.mu.Unlock()
}

// Close closes every peer and the listeners, and waits for every goroutine.
func (s *SFU) Close() error {
	s.mu.Lock()
	s.closed = true
	peers := make([]*Participant, 0, len(s.participants))
	for p := range s.participants {
		peers = append(peers, p)
	}
	s.mu.Unlock()
	for _, p := range peers {
		p.Close()
	}
	s.wg.Wait()
	s.closeListeners()
	return nil
}

// goroutine runs f on a goroutine the SFU waits for at Close.
func (s *SFU) goroutine(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}
