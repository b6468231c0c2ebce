package node

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crvnode/crvnode/protocol"
	"github.com/crvnode/crvnode/signaling"
	"github.com/crvnode/crvnode/turnsrv"
)

// turnSide is the node's TURN: the embedded server and the secret that
// also signs credentials for apps that use an external coturn fleet.
type turnSide struct {
	srv    *turnsrv.Server // nil when the embedded server is off
	secret []byte
	cfg    TURNConfig
}

// startTURN starts the embedded TURN server on addr ("" disables it).
// Relaying to the node's own addresses is always allowed: that is how a
// relayed client reaches the SFU.
func startTURN(addr, dataDir, publicIP string, tc TURNConfig, own []string, log *slog.Logger, reg prometheus.Registerer) (*turnSide, error) {
	t := &turnSide{cfg: tc}
	if tc.Secret != "" {
		t.secret = []byte(tc.Secret)
	} else {
		s, err := turnsrv.LoadOrCreateSecret(dataDir)
		if err != nil {
			return nil, err
		}
		t.secret = s
	}
	if addr == "" {
		return t, nil
	}
	srv, err := turnsrv.New(turnsrv.Config{
		UDPAddr: addr, TCPAddr: addr, TLSAddr: tc.TLSAddr, CertFile: tc.CertFile, KeyFile: tc.KeyFile, Host: tc.Host,
		PublicIP: publicIP, Secret: t.secret, CredentialTTL: tc.CredentialTTL,
		AllowedPeerCIDRs:      append(append([]string(nil), tc.AllowedPeerCIDRs...), own...),
		MaxAllocationsPerUser: tc.MaxAllocationsPerUser, MaxAllocations: tc.MaxAllocations,
		Logger: log, Registerer: reg,
	})
	if err != nil {
		return nil, fmt.Errorf("node: turn: %w", err)
	}
	t.srv = srv
	return t, nil
}

// iceServers is the login result's iceServers for one user: the app's
// external TURN servers, or the embedded server's, with fresh credentials.
// The credentials name "<appID>:<userID>" so quotas never mix apps.
func (t *turnSide) iceServers(app signaling.AppConfig, userID protocol.UserID) []protocol.ICEServer {
	id := app.ID + ":" + userID
	if len(app.TURNServers) > 0 {
		return turnsrv.ExternalICEServers(app.TURNServers, t.secret, id, t.ttl())
	}
	if t.srv == nil {
		return nil
	}
	return t.srv.ICEServers(id)
}

func (t *turnSide) ttl() time.Duration {
	if t.cfg.CredentialTTL > 0 {
		return t.cfg.CredentialTTL
	}
	return turnsrv.DefaultCredentialTTL
}

func (t *turnSide) close() error {
	if t == nil || t.srv == nil {
		return nil
	}
	return t.srv.Close()
}

// ownAddresses are the addresses the SFU may advertise: the public IP and
// every address of the machine's interfaces (loopback aside).
func ownAddresses(publicIP string) []string {
	var out []string
	if publicIP != "" {
		out = append(out, publicIP)
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && !p.Addr().IsLoopback() {
			out = append(out, p.Addr().String())
		}
	}
	return out
}
