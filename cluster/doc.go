// Package cluster keeps, in Redis, what the nodes of one crvnode service
// share: the log of changes that every node applies to its own copy of
// the apps' shared state (logins, DND, nicknames, meetings, calls,
// queues), and which nodes are alive. Package signaling uses a *Cluster
// as its Cluster; a single node needs none and keeps its state in
// process.
//
// Redis is the only engine the nodes share. It holds the log the nodes
// agree on, not rows of its own: no node asks Redis what a user or a
// meeting is, each applies the log's entries in its order and answers
// from its copy. What is in Redis, under Config.Prefix ("crv:"):
//
//   - <prefix>log, a stream: the log. Every entry is one change, in the
//     field "e", appended with XADD … * (Append); its stream ID is its
//     position. Every node reads it in order (Follow), so all apply the
//     same changes in the same order. Entries are at most MaxEntry
//     (1 MiB).
//   - <prefix>snapshot, a hash of pos, state and trimmed: the newest
//     shared state a node saved, the position of the last entry it
//     includes (SaveSnapshot), and the last entry trimmed. Saving trims
//     the log of the entries before the previous snapshot's pos, so that
//     the log does not grow without end and a node that lags by less
//     than one interval keeps following; a node that joins restores the
//     snapshot and follows the log after pos. A node that follows from
//     before trimmed would miss entries: Follow tells it with ErrTrimmed.
//   - <prefix>epoch: a random name for the log, set when there is none.
//     A Redis that restarted without its data has no epoch until a node
//     sets a new one, and a follower that sees the name change, or finds
//     the entry it read last gone (a log that lost its end), returns
//     ErrLogLost: its copy is of a log that is no more. Stream IDs cannot
//     tell this by themselves: those of the new log are made from Redis's
//     clock and can be above or below the last one a node read.
//   - <prefix>node:<id>, one per live node, holding Config.Info, with a
//     time to live of Config.NodeTTL that its heartbeat renews every
//     Config.Heartbeat; and <prefix>nodes, the set of the node IDs.
//     A member of the set whose key has expired stopped without Close
//     (it crashed, hung, or lost Redis): a node finds it at its next
//     heartbeat, so NodeTTL plus up to one Heartbeat after the last beat
//     (6 to 8 s by default), and calls Config.NodeDown for it.
//   - <prefix>reap:<id>: which node reports node id down. It is set with
//     SET NX, so that one node only calls NodeDown for it; it lives 60 s,
//     or is deleted when NodeDown fails so that the next heartbeat tries
//     again.
//
// A node that loses Redis keeps serving from its copy but can make no
// change (Append fails); Follow waits and reads on from where it was, and
// Healthy reports the failure for the node's health check.
package cluster
