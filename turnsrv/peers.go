package turnsrv

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// specialPrefixes are the special-purpose ranges (IANA IPv4 and IPv6
// Special-Purpose Address Registries) that netip's predicates do not
// already cover. A TURN server relays wherever its clients ask, so without
// this list any client holding credentials could reach services on the
// server's own networks (cloud metadata at 169.254.169.254, databases on
// 10.0.0.0/8, the node itself on loopback).
var specialPrefixes = mustPrefixes(
	"0.0.0.0/8",       // "this network"
	"100.64.0.0/10",   // carrier-grade NAT shared space
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // TEST-NET-1
	"192.88.99.0/24",  // 6to4 relay anycast (deprecated)
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // TEST-NET-2
	"203.0.113.0/24",  // TEST-NET-3
	"240.0.0.0/4",     // reserved, and the limited broadcast address
	"::/96",           // IPv4-compatible (deprecated), with :: and ::1
	"64:ff9b:1::/48",  // local-use IPv4/IPv6 translation
	"100::/64",        // discard-only
	"2001::/23",       // IETF protocol assignments (Teredo, ORCHID, benchmarking)
	"2001:db8::/32",   // documentation
	"3fff::/20",       // documentation
	"5f00::/16",       // segment routing SIDs
	"fec0::/10",       // site-local (deprecated)
)

var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

func mustPrefixes(cidrs ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(cidrs))
	for i, c := range cidrs {
		out[i] = netip.MustParsePrefix(c)
	}
	return out
}

// peerPolicy decides which peer addresses an allocation may relay to.
type peerPolicy struct {
	allowed []netip.Prefix
}

// newPeerPolicy parses AllowedPeerCIDRs; a bare IP stands for itself.
func newPeerPolicy(cidrs []string) (peerPolicy, error) {
	var p peerPolicy
	for _, c := range cidrs {
		c = strings.TrimSpace(c)
		pfx, err := netip.ParsePrefix(c)
		if err != nil {
			addr, aerr := netip.ParseAddr(c)
			if aerr != nil {
				return p, fmt.Errorf("%w: AllowedPeerCIDRs entry %q", ErrPeerCIDR, c)
			}
			addr = addr.Unmap()
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		if pfx.Addr().Is4In6() {
			pfx = netip.PrefixFrom(pfx.Addr().Unmap(), max(pfx.Bits()-96, 0))
		}
		p.allowed = append(p.allowed, pfx.Masked())
	}
	return p, nil
}

// permits reports whether relaying to ip is allowed: always when an
// allowed prefix holds it, else only when it is an ordinary global
// unicast address. Addresses that embed an IPv4 address (IPv4-mapped,
// NAT64, 6to4) are judged by the IPv4 address they lead to.
func (p peerPolicy) permits(ip net.IP) bool {
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	return p.permitsAddr(addr.Unmap())
}

func (p peerPolicy) permitsAddr(addr netip.Addr) bool {
	for _, pfx := range p.allowed {
		if pfx.Contains(addr) {
			return true
		}
	}
	if embedded, ok := embeddedIPv4(addr); ok {
		return p.permitsAddr(embedded)
	}
	return !isSpecial(addr)
}

// embeddedIPv4 is the IPv4 address a NAT64 (RFC 6052 well-known prefix)
// or 6to4 address leads to.
func embeddedIPv4(addr netip.Addr) (netip.Addr, bool) {
	b := addr.As16()
	switch {
	case !addr.Is6():
		return netip.Addr{}, false
	case nat64Prefix.Contains(addr):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(addr):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// isSpecial reports whether addr is anything but ordinary global unicast.
func isSpecial(addr netip.Addr) bool {
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsMulticast() ||
		addr.IsUnspecified() || !addr.IsValid() {
		return true
	}
	for _, pfx := range specialPrefixes {
		if pfx.Contains(addr) {
			return true
		}
	}
	return false
}
