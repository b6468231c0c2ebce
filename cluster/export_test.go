package cluster

import "time"

// StopHeartbeat stops c's heartbeat and reaper without leaving the
// cluster: c is then, to the other nodes, a node that hung or crashed.
func StopHeartbeat(c *Cluster) { c.stopLoops() }

// SetReadTimeout sets how long a read of the log may take beyond its
// BLOCK: for tests of a hung Redis that must not wait 5 s. Call it
// before Follow.
func SetReadTimeout(c *Cluster, d time.Duration) { c.readSlack = d }
