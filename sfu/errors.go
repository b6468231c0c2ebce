package sfu

import "errors"

// ErrClosed is returned by operations on a closed SFU or participant.
var ErrClosed = errors.New("sfu: closed")

// ErrConfig wraps every configuration New refuses.
var ErrConfig = errors.New("sfu: bad configuration")

// requestError is an error caused by what the client sent; BadRequest
// lets signaling answer it as a parameter error.
type requestError string

func (e requestError) Error() string    { return string(e) }
func (e requestError) BadRequest() bool { return true }

// Errors for client input the SFU cannot use.
var (
	// ErrBadSDP is returned for an offer or answer pion cannot apply.
	ErrBadSDP error = requestError("sfu: unacceptable session description")
	// ErrNoConnection is returned for a candidate or answer to a
	// connection that does not exist (yet).
	ErrNoConnection error = requestError("sfu: no such connection")
	// ErrBadCandidate is returned for an ICE candidate pion cannot parse.
	ErrBadCandidate error = requestError("sfu: unacceptable ICE candidate")
)
