// Package e2e holds crvnode's end-to-end tests: they start real nodes (in
// process through package node, or the built binary as a child process)
// on loopback and drive them with Go clients through the public protocol.
package e2e
