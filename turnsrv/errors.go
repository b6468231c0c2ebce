package turnsrv

import (
	"errors"
	"fmt"
)

// Errors returned by New, LoadOrCreateSecret and Close. They are wrapped
// with details; test them with errors.Is.
var (
	// ErrConfig wraps every reason New refuses a Config; the errors
	// below that name a Config field wrap it too, so either test works.
	ErrConfig = errors.New("turnsrv: invalid config")
	// ErrNoListener: the Config names no UDP, TCP or TLS address.
	ErrNoListener = fmt.Errorf("%w: no listener address", ErrConfig)
	// ErrWeakSecret: the shared secret is missing or shorter than MinSecretLen.
	ErrWeakSecret = fmt.Errorf("%w: shared secret missing or too short", ErrConfig)
	// ErrSecretFile: the secret file exists but cannot be used (unreadable,
	// readable by group or others, or holding a weak secret).
	ErrSecretFile = errors.New("turnsrv: unusable secret file")
	// ErrPublicIP: PublicIP is not an IP address, or it and a listener
	// address are of different families.
	ErrPublicIP = fmt.Errorf("%w: bad public IP", ErrConfig)
	// ErrPeerCIDR: an AllowedPeerCIDRs entry is neither a CIDR nor an IP.
	ErrPeerCIDR = fmt.Errorf("%w: bad allowed peer CIDR", ErrConfig)
	// ErrTLSConfig: TLSAddr is set without CertFile and KeyFile, or they do
	// not load.
	ErrTLSConfig = fmt.Errorf("%w: bad TLS configuration", ErrConfig)
	// ErrRelayPorts: the relay port range is half set or inverted.
	ErrRelayPorts = fmt.Errorf("%w: bad relay port range", ErrConfig)
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
