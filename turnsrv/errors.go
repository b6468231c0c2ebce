package turnsrv

import "errors"

// Errors returned by New, LoadOrCreateSecret and Close. They are wrapped
// with details; test them with errors.Is.
var (
	// ErrNoListener: the Config names no UDP, TCP or TLS address.
	ErrNoListener = errors.New("turnsrv: no listener address configured")
	// ErrWeakSecret: the shared secret is missing or shorter than MinSecretLen.
	ErrWeakSecret = errors.New("turnsrv: shared secret missing or too short")
	// ErrSecretFile: the secret file exists but cannot be used (unreadable,
	// readable by group or others, or holding a weak secret).
	ErrSecretFile = errors.New("turnsrv: unusable secret file")
	// ErrPublicIP: PublicIP is not an IP address, or it and a listener
	// address are of different families.
	ErrPublicIP = errors.New("turnsrv: bad public IP")
	// ErrPeerCIDR: an AllowedPeerCIDRs entry is neither a CIDR nor an IP.
	ErrPeerCIDR = errors.New("turnsrv: bad allowed peer CIDR")
	// ErrTLSConfig: TLSAddr is set without CertFile and KeyFile, or they do
	// not load.
	ErrTLSConfig = errors.New("turnsrv: bad TLS configuration")
	// ErrRelayPorts: the relay port range is half set or inverted.
	ErrRelayPorts = errors.New("turnsrv: bad relay port range")
	// ErrCloseTimeout: Close gave up waiting for allocations and
	// connections to wind down.
	ErrCloseTimeout = errors.New("turnsrv: timed out waiting for shutdown")

	// errTCPRelay refuses RFC 6062 TCP allocations: WebRTC never asks for
	// them, and a TCP relay would let a client open connections to
	// arbitrary TCP services.
	errTCPRelay = errors.New("turnsrv: TCP relay allocations are not supported")
	// errFamily refuses an allocation in the family the relay address is not.
	errFamily = errors.New("turnsrv: requested address family not served")
)
