// Package datachannel is crvnode's data-transfer plane: SendCmd,
// SendBuffer and SendFile over WebRTC data channels. It holds the frames
// (Frame, Encode, Decode), the client side that sends and receives them
// (Endpoint, used by the Go client), and the node side that relays them
// (Relay). Transfers go sender → node → receiver on each client's
// "crv-data" channel (ChannelLabel); the node never reassembles one.
// Content moves in chunks of at most 16 KiB under end-to-end credit, so
// the node holds at most one window (256 KiB by default) per transfer
// whatever the size and however slow the receiver, and an Endpoint's
// writer sends control frames, then commands, then one chunk per transfer
// in turn, so a command never waits behind a large file.
//
// The wire format is specified in FORMAT.md, in this directory: the
// channel, the encoding of every frame, the rules of commands and
// transfers, what the node answers itself, and the priority of commands.
// docs/protocol/transfers.md maps the CRVideo API onto it.
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
// data to RelayChannel.Handle; call RelayChannel.Close on OnClose and when
// the session ends (logout, kick, shutdown).
package datachannel
