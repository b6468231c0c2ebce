package turnsrv

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of the Config fields left zero.
const (
	DefaultRealm                 = "crvnode"
	DefaultCredentialTTL         = time.Hour
	DefaultMaxAllocationsPerUser = 10
	DefaultMaxAllocations        = 1000
)

// Config configures a Server. The zero value of every field but Secret
// and one listener address is usable.
type Config struct {
	// UDPAddr and TCPAddr are the plain TURN listeners, e.g. ":3478" (the
	// usual port for both); "127.0.0.1:0" picks a free port. Either may
	// be empty to skip that listener.
	UDPAddr, TCPAddr string
	// TLSAddr is an optional TURN-over-TLS listener ("turns:", usually
	// ":5349"), serving the certificate in CertFile and KeyFile (PEM),
	// which are re-read when they change. Browsers check the certificate
	// against the host in the URL, so set Host to a name it covers.
	TLSAddr, CertFile, KeyFile string

	// Realm is the STUN realm of the long-term credentials. Default
	// DefaultRealm.
	Realm string
	// PublicIP is the address of the relays and, unless Host is set, the
	// host in the URLs ICEServers returns: the address clients reach this
	// machine at, which behind 1:1 NAT is not a local one. Default: the
	// listeners' IP if they are bound to a specific one, else the
	// machine's primary address of the listeners' family (IPv4 unless an
	// IPv6 address is given). One family is served: a client asking for
	// a relay in the other is refused.
	PublicIP string
	// Host replaces PublicIP in the URLs: a DNS name, needed for "turns:".
	Host string

	// Secret is the shared secret that signs credentials (see
	// Credentials); at least MinSecretLen bytes. LoadOrCreateSecret keeps
	// one in the data directory. A coturn fleet with the same
	// static-auth-secret accepts the same credentials.
	Secret []byte
	// CredentialTTL is how long credentials minted by ICEServers allow new
	// allocations. Default DefaultCredentialTTL.
	CredentialTTL time.Duration

	// AllowedPeerCIDRs opens relaying to these peers (CIDRs, or single
	// IPs) even though they are loopback, private, link-local or
	// otherwise special-purpose, which are refused by default. Add the
	// LAN's range when clients and the server share a private network, or
	// when PublicIP itself is private and two relayed clients must reach
	// each other's relays.
	AllowedPeerCIDRs []string

	// MaxAllocationsPerUser caps the live allocations of one userID (the
	// part of the username after the expiry). Default
	// DefaultMaxAllocationsPerUser.
	MaxAllocationsPerUser int
	// MaxAllocations caps the server's live allocations; twice as many
	// TCP and TLS client connections are accepted at once. Default
	// DefaultMaxAllocations.
	MaxAllocations int

	// RelayPortMin and RelayPortMax, when both set, confine relay ports to
	// that range (for firewalls and container port mappings); by default
	// the system picks ephemeral ports.
	RelayPortMin, RelayPortMax int

	// Logger receives the server's and pion's log lines. Default
	// slog.Default().
	Logger *slog.Logger
	// Registerer, if not nil, gets the server's metrics; Close removes
	// them.
	Registerer prometheus.Registerer

	now      func() time.Time // tests: the clock credentials are checked against
	connIdle time.Duration    // tests: replaces connIdle
}

// settings is a validated Config with defaults applied and its strings
// parsed.
type settings struct {
	Config
	family  int        // 4 or 6: of PublicIP, the listeners and the relays
	fixedIP netip.Addr // PublicIP if given
	policy  peerPolicy
	certs   *certLoader
}

// withDefaults fills the fields left zero (or, for the TTL and the caps,
// negative) with their defaults.
func (c Config) withDefaults() Config {
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.CredentialTTL <= 0 {
		c.CredentialTTL = DefaultCredentialTTL
	}
	if c.MaxAllocationsPerUser <= 0 {
		c.MaxAllocationsPerUser = DefaultMaxAllocationsPerUser
	}
	if c.MaxAllocations <= 0 {
		c.MaxAllocations = DefaultMaxAllocations
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.connIdle <= 0 {
		c.connIdle = connIdle
	}
	return c
}

// validate checks a Config with defaults applied. Every error wraps
// ErrConfig, through the more specific error of the field it names.
func (c Config) validate() error {
	if c.UDPAddr == "" && c.TCPAddr == "" && c.TLSAddr == "" {
		return fmt.Errorf("%w: UDPAddr, TCPAddr and TLSAddr are all empty", ErrNoListener)
	}
	if len(c.Secret) < MinSecretLen {
		return fmt.Errorf("%w: Secret has %d bytes, want at least %d", ErrWeakSecret, len(c.Secret), MinSecretLen)
	}
	if (c.RelayPortMin == 0) != (c.RelayPortMax == 0) || c.RelayPortMin < 0 || c.RelayPortMax > 65535 ||
		c.RelayPortMin > c.RelayPortMax {
		return fmt.Errorf("%w: RelayPortMin-RelayPortMax %d-%d", ErrRelayPorts, c.RelayPortMin, c.RelayPortMax)
	}
	if _, err := newPeerPolicy(c.AllowedPeerCIDRs); err != nil {
		return err
	}
	if _, _, err := c.family(); err != nil {
		return err
	}
	if c.TLSAddr != "" && (c.CertFile == "" || c.KeyFile == "") {
		return fmt.Errorf("%w: TLSAddr needs CertFile and KeyFile", ErrTLSConfig)
	}
	return nil
}

// settings applies the defaults, validates, and parses what the server
// uses: the family, the peer policy and the certificate, which is loaded
// here, so a certificate that does not load fails New (ErrTLSConfig).
func (c Config) settings() (*settings, error) {
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	s := &settings{Config: c}
	s.Secret = append([]byte(nil), c.Secret...)
	s.policy, _ = newPeerPolicy(c.AllowedPeerCIDRs) // checked by validate
	s.family, s.fixedIP, _ = c.family()
	if c.TLSAddr != "" {
		var err error
		if s.certs, err = newCertLoader(c.CertFile, c.KeyFile); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// family decides the address family (4 or 6): PublicIP's if given, else
// that of the listeners' IPs, else IPv4; a listener of the other family is
// an error. fixed is PublicIP parsed, if given.
func (c Config) family() (family int, fixed netip.Addr, err error) {
	if c.PublicIP != "" {
		ip, err := netip.ParseAddr(c.PublicIP)
		if err != nil || ip.Unmap().IsUnspecified() {
			return 0, netip.Addr{}, fmt.Errorf("%w: PublicIP %q is not a specific IP address", ErrPublicIP, c.PublicIP)
		}
		fixed = ip.Unmap()
		family = familyOf(fixed)
	}
	for _, a := range []string{c.UDPAddr, c.TCPAddr, c.TLSAddr} {
		ip, ok := hostIP(a)
		if !ok {
			continue
		}
		switch {
		case family == 0:
			family = familyOf(ip)
		case familyOf(ip) != family:
			return 0, netip.Addr{}, fmt.Errorf("%w: listener %s and PublicIP %q (or another listener) differ in family",
				ErrPublicIP, a, c.PublicIP)
		}
	}
	if family == 0 {
		family = 4
	}
	return family, fixed, nil
}

// hostIP is the IP literal of a listen address ("" and names give none;
// "0.0.0.0" and "::" do: they fix the family).
func hostIP(addr string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

func familyOf(ip netip.Addr) int {
	if ip.Is4() {
		return 4
	}
	return 6
}

// network is "udp4", "tcp6", ... for base "udp" or "tcp".
func (s *settings) network(base string) string { return fmt.Sprintf("%s%d", base, s.family) }

// publicIP is PublicIP if given, else the first listener bound to a
// specific IP, else the machine's primary address. derived tells the
// caller to warn when the result is unlikely to be reachable.
func (s *settings) publicIP(bound []net.Addr) (ip netip.Addr, derived bool) {
	if s.fixedIP.IsValid() {
		return s.fixedIP, false
	}
	for _, a := range bound {
		if ip, ok := addrIP(a); ok && !ip.IsUnspecified() {
			return ip, true
		}
	}
	return primaryIP(s.family), true
}

// relayBind is the address relay sockets bind to: the first listener's
// specific IP, else the unspecified address of the family.
func (s *settings) relayBind(bound []net.Addr) netip.Addr {
	for _, a := range bound {
		if ip, ok := addrIP(a); ok && !ip.IsUnspecified() {
			return ip
		}
	}
	if s.family == 6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

func addrIP(a net.Addr) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// primaryIP finds the machine's address of the family: the source address
// of its default route (found by connecting a UDP socket, which sends
// nothing), else the first global unicast address of an interface that is
// up, else loopback.
func primaryIP(family int) netip.Addr {
	probe := "udp4"
	target := "203.0.113.1:9" // TEST-NET-3: only the route lookup matters
	if family == 6 {
		probe, target = "udp6", "[2001:db8::1]:9"
	}
	if c, err := net.Dial(probe, target); err == nil {
		ip, ok := addrIP(c.LocalAddr())
		_ = c.Close()
		if ok && ip.IsGlobalUnicast() {
			return ip
		}
	}
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			if ip := pfx.Addr().Unmap(); ip.IsGlobalUnicast() && familyOf(ip) == family {
				return ip
			}
		}
	}
	if family == 6 {
		return netip.IPv6Loopback()
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}
