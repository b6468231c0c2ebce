package sfu

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config.
const (
	DefaultUDPAddr     = ":7882"
	DefaultPacketCache = 512  // about 2 s of 1 Mbps video per layer
	MaxPacketCache     = 8192 // well inside half the 16-bit sequence space
)

// Config configures the SFU. Zero fields take the defaults above.
type Config struct {
	// UDPAddr is the one UDP address every participant's ICE uses (pion's
	// UDP mux). Default DefaultUDPAddr; "127.0.0.1:0" picks a free
	// loopback port.
	UDPAddr string
	// TCPAddr is the ICE-TCP fallback listener. Default: the UDP port's
	// number on the same host (with an ephemeral UDP port, one whose
	// number is also free for TCP). "-" disables ICE-TCP.
	TCPAddr string
	// PublicIP, when set, is the IP address put in the node's host
	// candidates instead of the local one: a node behind NAT with its
	// media port forwarded.
	PublicIP string
	// PacketConn, when set, is used instead of listening on UDPAddr;
	// tests inject lossy or throttled sockets through it. The SFU closes
	// it.
	PacketConn net.PacketConn
	// PacketCache is how many recent packets of each video layer are
	// kept, once for every subscriber, to answer their NACKs. Default
	// DefaultPacketCache, at most MaxPacketCache.
	PacketCache int
	// Logger receives the SFU's and pion's diagnostics (pion's info as
	// debug). Default slog.Default().
	Logger *slog.Logger
	// Registerer takes the SFU's metrics (crvnode_sfu_*). Default: a
	// registry of its own, which nothing serves.
	Registerer prometheus.Registerer
}

func (c Config) withDefaults() Config {
	if c.UDPAddr == "" {
		c.UDPAddr = DefaultUDPAddr
	}
	if c.PacketCache == 0 {
		c.PacketCache = DefaultPacketCache
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	return c
}

func (c Config) validate() error {
	if c.PacketConn == nil {
		if _, _, err := net.SplitHostPort(c.UDPAddr); err != nil {
			return fmt.Errorf("%w: UDPAddr %q: %v", ErrConfig, c.UDPAddr, err)
		}
	}
	if c.TCPAddr != "" && c.TCPAddr != "-" {
		if _, _, err := net.SplitHostPort(c.TCPAddr); err != nil {
			return fmt.Errorf("%w: TCPAddr %q: %v", ErrConfig, c.TCPAddr, err)
		}
	}
	if c.PublicIP != "" && net.ParseIP(c.PublicIP) == nil {
		return fmt.Errorf("%w: PublicIP %q is not an IP address", ErrConfig, c.PublicIP)
	}
	if c.PacketCache < 1 || c.PacketCache > MaxPacketCache {
		return fmt.Errorf("%w: PacketCache %d, want 1-%d", ErrConfig, c.PacketCache, MaxPacketCache)
	}
	return nil
}
