// Package datachannel is crvnode's data-transfer plane: the wire format of
// SendCmd, SendBuffer and SendFile over WebRTC data channels, the client
// side that sends and receives them (Endpoint), and the node side that
// relays them (Relay). Transfers go sender → node → receiver; the node
// never reassembles one. Content moves in chunks of at most 16 KiB under
// end-to-end credit, so the node holds at most one window (256 KiB by
// default) per transfer whatever the size and however slow the receiver.
// FORMAT.md in this directory is the same specification as below.
//
// # Channel
//
// One data channel per client, label "crv-data" (ChannelLabel), created by
// the client on its up PeerConnection before it makes the offer: reliable,
// ordered, binary. One frame per message. The largest frame is a CMD of
// 65,731 bytes (MaxFrameLen); every other frame is at most 16,458 bytes.
// The node forwards frames byte for byte, except that it writes the
// sender's user ID into the Peer field of CMD and OFFER, clamps CREDIT
// windows to its limit, and writes By = 1 into a client's CANCEL.
//
// # Encoding
//
// Integers are unsigned big-endian. Every frame starts with
//
//	type u8 | idLen u8 (1-64) | taskID (idLen bytes of [A-Za-z0-9._-])
//
// and goes on with the body of its type. A peer is a user ID: peerLen u8
// (1-128), then UTF-8 without control characters; it is the target in
// frames a client sends and the source in frames the node delivers.
//
//	0x01 CMD    sender → receiver    peer, data (the rest, 0-65,536 bytes)
//	0x02 OFFER  sender → receiver    kind u8 (2 buffer, 3 file), peer, total u64,
//	                                 nameLen u16, name (file: 1-1,024 bytes UTF-8; buffer: none)
//	0x03 CHUNK  sender → receiver    offset u64, data (the rest, 1-16,384 bytes)
//	0x04 END    sender → receiver    SHA-256 of the whole content (32 bytes)
//	0x05 CREDIT receiver → sender    taken u64, window u32 (≤ 16 MiB)
//	0x06 RESULT receiver/node → sender   code u16 (CRVideo code)
//	0x07 CANCEL sender/node → receiver   by u8 (1 sender, 2 node), code u16
//
// Sizes, offsets and taken are at most 2^53-1 (exact in JavaScript). A
// frame shorter than its fields, with bytes after its last field, or
// breaking a bound is malformed; the encoding is canonical. Example, a
// CREDIT of task "t1" with taken 65536 and window 256 KiB:
//
//	05 02 74 31 00 00 00 00 00 01 00 00 00 04 00 00
//
// # Rules
//
// Commands: the sender sends one CMD; the receiver hands it over and
// answers RESULT 0 (or 1100 if too large). No progress, no cancel.
//
// Transfers:
//
//  1. The sender sends OFFER, then nothing for the task until a CREDIT.
//  2. The receiver accepts with CREDIT(0, W) or refuses with a RESULT
//     (1101 buffer too large, 1405 file too large, 1402 cannot write, 1000
//     too many transfers).
//  3. The sender's limit is the largest taken+window of all CREDITs so far.
//     It sends CHUNKs in order (offset = bytes sent before), never past the
//     total or the limit.
//  4. The receiver sends CREDIT(taken, W) after every W/4 bytes taken and
//     when taken = total. Taken never decreases nor exceeds what was sent;
//     it is the sender's progress.
//  5. With all bytes sent, the sender sends END with the SHA-256.
//  6. The receiver checks length and hash; if they match it hands the
//     buffer over or renames the file from its hidden partial name to a
//     unique safe name, and answers RESULT 0 (after CREDIT(total)).
//     Otherwise it removes what it has, announces nothing, and answers
//     RESULT 1000.
//  7. The sender may send CANCEL(1, 0) any time before the RESULT (or
//     CANCEL(1, 1401) when its file cannot be read); the receiver removes
//     what it has and reports Cancelled. No RESULT follows a CANCEL.
//
// Frames of unknown or finished tasks are dropped silently: they can cross
// a CANCEL or a RESULT.
//
// The node answers a CMD or OFFER itself with RESULT 1102 (target not
// attached in the sender's app), 1100/1101/1405 (over the node's limits),
// 1104 (task ID in use) or 1000 (too many tasks). It fails a task (RESULT
// 1000 to the sender, CANCEL(2, 1000) to the receiver) on a malformed
// frame naming it, a CHUNK out of order or beyond the credit, an END
// before all bytes, a CREDIT going backwards or acknowledging unsent
// bytes, or RESULT 0 before END; and when either side's channel closes.
//
// # Priority
//
// A command never waits behind a large transfer: the Endpoint's writer
// sends control frames first, then commands, then one frame per transfer
// in round-robin order, and hands commands and chunks to the channel only
// while BufferedAmount is at most Config.HighWater, waiting for
// OnBufferedAmountLow rather than polling. A command thus waits at most for
// HighWater bytes at the sender plus one window per transfer queued towards
// the same receiver at the node. A second channel for chunks would not
// help: SCTP stacks (pion; usrsctp by default) send queued messages first
// come, first served across streams, and two channels would let END or
// CANCEL overtake chunks.
//
// # Wiring
//
// Client: right after creating the "crv-data" channel on the up
// PeerConnection (before the offer), NewEndpoint(dc, cfg, handler) (a
// pion *webrtc.DataChannel is a Conn) and dc.OnMessage forwarding the data
// to Endpoint.Handle, so that no message can arrive before the Endpoint
// exists; offer SendCmd/SendBuffer/SendFile once the channel is open (a
// send before that fails with 1000); call Endpoint.Close on OnClose, when
// the up connection fails, and on logout.
//
// Node: in the up PeerConnection's OnDataChannel handler for label
// "crv-data" (pion runs it before any message is read),
// Relay.Attach(appID, userID, dc.Send) and dc.OnMessage forwarding the
// data to Peer.Handle; call Peer.Close on OnClose and when the session
// ends (logout, kick, shutdown).
package datachannel
