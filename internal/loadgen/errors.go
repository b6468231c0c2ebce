package loadgen

import "errors"

// Errors the load generator returns, wrapped with details.
var (
	// ErrProcess is a server process that would not build, start, listen
	// or stop, or whose /proc entries could not be read.
	ErrProcess = errors.New("loadgen: server process")
	// ErrConfig is a scenario whose counts do not fit together.
	ErrConfig = errors.New("loadgen: bad configuration")
	// ErrMetrics is a /metrics page that could not be read or lacks the
	// process collector's series.
	ErrMetrics = errors.New("loadgen: node metrics")
	// ErrSignaling is a baseline signaling exchange that failed.
	ErrSignaling = errors.New("loadgen: signaling")
	// ErrNoMedia is a subscriber that received no video in time.
	ErrNoMedia = errors.New("loadgen: no media")
)
