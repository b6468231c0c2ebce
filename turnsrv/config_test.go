package turnsrv

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Every refused Config is an ErrConfig, through the error of its kind,
// with a message that names the field at fault.
func TestConfigErrors(t *testing.T) {
	base := func() Config { return Config{UDPAddr: "127.0.0.1:0", Secret: testSecret} }
	for _, tc := range []struct {
		name  string
		mod   func(*Config)
		want  error
		field string
	}{
		{"no listener", func(c *Config) { c.UDPAddr = "" }, ErrNoListener, "UDPAddr"},
		{"no secret", func(c *Config) { c.Secret = nil }, ErrWeakSecret, "Secret"},
		{"short secret", func(c *Config) { c.Secret = []byte("short") }, ErrWeakSecret, "Secret"},
		{"public IP not an IP", func(c *Config) { c.PublicIP = "turn.example.com" }, ErrPublicIP, "PublicIP"},
		{"public IP unspecified", func(c *Config) { c.PublicIP = "0.0.0.0" }, ErrPublicIP, "PublicIP"},
		{"families differ", func(c *Config) { c.PublicIP = "2001:db8::1" }, ErrPublicIP, "PublicIP"},
		{"listeners' families differ", func(c *Config) { c.TCPAddr = "[::1]:0" }, ErrPublicIP, "listener"},
		{"bad peer CIDR", func(c *Config) { c.AllowedPeerCIDRs = []string{"nope"} }, ErrPeerCIDR, "AllowedPeerCIDRs"},
		{"TLS without cert", func(c *Config) { c.TLSAddr = "127.0.0.1:0" }, ErrTLSConfig, "CertFile"},
		{"TLS cert missing", func(c *Config) {
			c.TLSAddr, c.CertFile, c.KeyFile = "127.0.0.1:0", "/nonexistent/cert.pem", "/nonexistent/key.pem"
		}, ErrTLSConfig, "CertFile"},
		{"half port range", func(c *Config) { c.RelayPortMin = 50000 }, ErrRelayPorts, "RelayPortMin"},
		{"inverted port range", func(c *Config) { c.RelayPortMin, c.RelayPortMax = 50010, 50000 }, ErrRelayPorts, "RelayPortMin"},
		{"port past 65535", func(c *Config) { c.RelayPortMin, c.RelayPortMax = 50000, 70000 }, ErrRelayPorts, "RelayPortMax"},
		{"negative port", func(c *Config) { c.RelayPortMin, c.RelayPortMax = -1, 50000 }, ErrRelayPorts, "RelayPortMin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.mod(&cfg)
			s, err := New(cfg)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrConfig) {
				t.Errorf("New = %v, want %v wrapping %v", err, tc.want, ErrConfig)
			} else if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("New = %q, which does not name %s", err, tc.field)
			}
			if s != nil {
				_ = s.Close()
			}
		})
	}
}

// Fields left zero take their defaults; the TTL and the caps take them
// when negative too.
func TestConfigDefaults(t *testing.T) {
	for _, cfg := range []Config{{}, {CredentialTTL: -time.Second, MaxAllocationsPerUser: -1, MaxAllocations: -1}} {
		c := cfg.withDefaults()
		if c.Realm != DefaultRealm || c.CredentialTTL != DefaultCredentialTTL ||
			c.MaxAllocationsPerUser != DefaultMaxAllocationsPerUser || c.MaxAllocations != DefaultMaxAllocations ||
			c.Logger == nil || c.now == nil || c.connIdle != connIdle {
			t.Errorf("%+v.withDefaults() = %+v", cfg, c)
		}
	}
	set := Config{Realm: "acme", CredentialTTL: time.Minute, MaxAllocationsPerUser: 2, MaxAllocations: 3}.withDefaults()
	if set.Realm != "acme" || set.CredentialTTL != time.Minute || set.MaxAllocationsPerUser != 2 || set.MaxAllocations != 3 {
		t.Errorf("withDefaults changed set fields: %+v", set)
	}
	if err := (Config{UDPAddr: "127.0.0.1:0", Secret: testSecret}).withDefaults().validate(); err != nil {
		t.Errorf("minimal config refused: %v", err)
	}
}

// A listener that fails to open releases the ones opened before it and
// the metrics.
func TestNewCleansUpOnListenError(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	reg := prometheus.NewRegistry()
	cfg := Config{UDPAddr: "127.0.0.1:0", TCPAddr: busy.Addr().String(), Secret: testSecret,
		Registerer: reg, Logger: testLogger(t)}
	if _, err := New(cfg); err == nil {
		t.Fatal("New succeeded on a busy port")
	}
	cfg.TCPAddr = "127.0.0.1:0"
	s, err := New(cfg) // the same registry again: nothing was left registered
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = New(cfg); err != nil { // and Close unregistered
		t.Fatal(err)
	}
	_ = s.Close()
}

func TestURLs(t *testing.T) {
	t.Run("tcp only", func(t *testing.T) {
		s, _ := startServer(t, func(c *Config) { c.UDPAddr = "" })
		ice := s.ICEServers("alice")
		want := []string{fmt.Sprintf("turn:127.0.0.1:%d?transport=tcp", s.Addrs().TCP.Port)}
		if s.Addrs().UDP != nil || !slices.Equal(ice[0].URLs, want) {
			t.Errorf("URLs = %q, UDP = %v", ice[0].URLs, s.Addrs().UDP)
		}
	})
	t.Run("host and public IP", func(t *testing.T) {
		s, _ := startServer(t, func(c *Config) {
			c.TCPAddr = ""
			c.UDPAddr = "0.0.0.0:0"
			c.PublicIP = "203.0.113.7"
			c.Host = "turn.example.com"
		})
		p := s.Addrs().UDP.Port
		want := []string{fmt.Sprintf("stun:turn.example.com:%d", p), fmt.Sprintf("turn:turn.example.com:%d?transport=udp", p)}
		if ice := s.ICEServers("alice"); !slices.Equal(ice[0].URLs, want) {
			t.Errorf("URLs = %q, want %q", ice[0].URLs, want)
		}
		if got := s.ICEServers(""); got != nil {
			t.Errorf("empty userID gave %+v", got)
		}
	})
	t.Run("derived public IP", func(t *testing.T) {
		s, _ := startServer(t, func(c *Config) { c.UDPAddr, c.TCPAddr = ":0", "" })
		u := s.ICEServers("alice")[0].URLs[0]
		host, _, _ := net.SplitHostPort(strings.TrimPrefix(u, "stun:"))
		if ip := net.ParseIP(host); ip == nil || ip.To4() == nil || ip.IsUnspecified() {
			t.Errorf("URL %q: want a specific IPv4 address", u)
		}
	})
}

func TestTLSListener(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	s, _ := startServer(t, func(c *Config) {
		c.TLSAddr, c.CertFile, c.KeyFile = "127.0.0.1:0", certFile, keyFile
	})
	ice := s.ICEServers("alice")
	want := fmt.Sprintf("turns:127.0.0.1:%d?transport=tcp", s.Addrs().TLS.Port)
	if !slices.Contains(ice[0].URLs, want) {
		t.Errorf("URLs %q lack %q", ice[0].URLs, want)
	}
	c := dialTLS(t, s, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}, ice[0].Username, ice[0].Credential)
	c.mustAllocate(t)

	// A failed handshake does not keep the server from closing cleanly.
	d := &tls.Dialer{Config: &tls.Config{ServerName: "127.0.0.1"}} // untrusted
	if conn, err := d.DialContext(context.Background(), "tcp", s.Addrs().TLS.String()); err == nil {
		conn.Close()
		t.Error("handshake with an untrusted certificate succeeded")
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "turnsrv test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestPionLogBridge(t *testing.T) {
	buf := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: levelTrace}))
	l := slogFactory{log: log, min: slog.LevelWarn}.NewLogger("turn")
	l.Infof("chatter %d", 1)
	l.Debug("chatter")
	l.Warnf("careful %d", 2)
	l.Error("broken")
	out := buf.String()
	if strings.Contains(out, "chatter") {
		t.Errorf("below the floor got through:\n%s", out)
	}
	for _, want := range []string{"level=WARN msg=\"careful 2\" pion=turn", "level=ERROR msg=broken pion=turn"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	all := slogFactory{log: log, min: levelTrace}.NewLogger("x")
	all.Tracef("t%d", 1)
	if !strings.Contains(buf.String(), "level=DEBUG-4 msg=t1") {
		t.Errorf("trace missing:\n%s", buf.String())
	}
}

func TestRefusalLogIsRateLimited(t *testing.T) {
	l := newLimiter()
	now := time.Unix(0, 0)
	if _, ok := l.allow("auth", now); !ok {
		t.Fatal("first refusal not logged")
	}
	for range 5 {
		if _, ok := l.allow("auth", now.Add(10*time.Millisecond)); ok {
			t.Fatal("logged within the limit")
		}
	}
	if _, ok := l.allow("expired", now); !ok {
		t.Error("another reason held back")
	}
	if n, ok := l.allow("auth", now.Add(logLimit)); !ok || n != 5 {
		t.Errorf("after the limit: suppressed %d, logged %v; want 5, true", n, ok)
	}
}
