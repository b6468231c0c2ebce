package datachannel

import "errors"

// Errors of this package. Failures a user of the CRVideo API sees (a
// command too large, an unknown target) are *protocol.Error values with
// their CRVideo code instead.
var (
	// ErrMalformed wraps every reason a frame does not decode or encode.
	ErrMalformed = errors.New("datachannel: malformed frame")
	// ErrConfig wraps an invalid Config or RelayConfig.
	ErrConfig = errors.New("datachannel: invalid config")
)
