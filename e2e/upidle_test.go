package e2e

import (
	"testing"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
)

// upConns is the node's number of open up PeerConnections.
func upConns(t *testing.T, n *node.Node) float64 {
	t.Helper()
	v, ok := scrape(n, `crvnode_sfu_peer_connections{direction="up"}`)
	if !ok {
		return 0 // the gauge appears with the first connection
	}
	return v
}

// waitUpConns waits until the node has want up connections.
func waitUpConns(t *testing.T, n *node.Node, want float64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for upConns(t, n) != want {
		if time.Now().After(deadline) {
			t.Fatalf("the node has %v up connections, want %v", upConns(t, n), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasUp(c *client.Client) bool {
	up, _ := c.Connections()
	return up != nil
}

// TestIdleUsersCostNoPeerConnection: logged-in users who do nothing have
// no up connection; a command to one of them opens both sides' (the node
// asks the receiver with upNeeded), arrives and is answered; both close
// again once idle, and the next transfer opens new ones.
func TestIdleUsersCostNoPeerConnection(t *testing.T) {
	n := startMediaNode(t, node.FileConfig{})
	url := "ws://" + n.Addr() + "/ws"
	opts := client.Options{UpIdleTimeout: 700 * time.Millisecond}
	alice := coldTransferClient(t, url, "alice", opts)
	bob := coldTransferClient(t, url, "bob", opts)
	time.Sleep(300 * time.Millisecond)
	if hasUp(alice.Client) || hasUp(bob.Client) || upConns(t, n) != 0 {
		t.Fatalf("after login: alice up %v, bob up %v, node %v", hasUp(alice.Client), hasUp(bob.Client), upConns(t, n))
	}

	for round := range 2 { // the second round opens the closed connections anew
		start := time.Now()
		id, err := alice.SendCmd(ctxTimeout(t, 10*time.Second), "bob", []byte("ring"))
		must(t, err)
		got := bob.expect(client.EventNotifyCmdData, nil, 10*time.Second).(*datachannel.CmdData)
		res := alice.expect(client.EventSendCmdRlst, forTask(id), 10*time.Second).(*datachannel.Result)
		if string(got.Data) != "ring" || got.From != "alice" || res.Code != protocol.NoErr {
			t.Fatalf("round %d: bob got %q from %q, result %v", round, got.Data, got.From, res.Code)
		}
		t.Logf("round %d: a command between two idle users took %v, both up connections opened", round, time.Since(start))
		if !hasUp(alice.Client) || !hasUp(bob.Client) {
			t.Fatalf("round %d: up connections after the command: alice %v, bob %v", round, hasUp(alice.Client), hasUp(bob.Client))
		}
		waitUpConns(t, n, 0, 10*time.Second)
		deadline := time.Now().Add(5 * time.Second)
		for hasUp(alice.Client) || hasUp(bob.Client) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: an idle client kept its up connection", round)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// A file to a cold receiver, with progress, as with a warm one.
	src, sum := writeRandomFile(t, 512<<10)
	id, err := alice.SendFile(ctxTimeout(t, 10*time.Second), "bob", src)
	must(t, err)
	if r := alice.expect(client.EventSendFileRlst, forTask(id), 20*time.Second).(*datachannel.Result); r.Code != protocol.NoErr {
		t.Fatalf("file result %v", r.Code)
	}
	if f := bob.expect(client.EventNotifyFileData, forTask(id), 10*time.Second).(*datachannel.FileData); fileHash(t, f.Path) != sum {
		t.Fatal("the file arrived changed")
	}

	// Someone not logged in is refused at once, not after a wait.
	start := time.Now()
	id, err = alice.SendCmd(ctxTimeout(t, 10*time.Second), "nobody", []byte("x"))
	must(t, err)
	if r := alice.expect(client.EventSendCmdRlst, forTask(id), 5*time.Second).(*datachannel.Result); r.Code != protocol.SendDataTargetInvalid {
		t.Fatalf("to nobody: %v, want 1102", r.Code)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a user who is not logged in was refused after %v", d)
	}
}

// TestUpConnectionStaysInMeeting: entering a meeting opens the up
// connection, which stays open while in it however long it carries
// nothing, and closes once idle after the meeting is left.
func TestUpConnectionStaysInMeeting(t *testing.T) {
	n := startMediaNode(t, node.FileConfig{})
	url := "ws://" + n.Addr() + "/ws"
	alice := coldTransferClient(t, url, "alice", client.Options{UpIdleTimeout: 500 * time.Millisecond})
	ctx := ctxTimeout(t, 10*time.Second)
	meet, err := alice.CreateMeeting(ctx, "m", 1)
	must(t, err)
	_, err = alice.EnterMeeting(ctx, meet.ID, meet.Pswd, "")
	must(t, err)
	waitUpConns(t, n, 1, 10*time.Second)
	time.Sleep(1500 * time.Millisecond) // three idle times
	if upConns(t, n) != 1 || !hasUp(alice.Client) {
		t.Fatalf("in a meeting: node %v up, client up %v", upConns(t, n), hasUp(alice.Client))
	}
	must(t, alice.ExitMeeting(ctx))
	waitUpConns(t, n, 0, 10*time.Second)
}

// TestSignalingOnlyUserIsNotWoken: a SignalingOnly client does not open
// its up connection when the node asks, so a transfer to it is refused
// once the node's wait ends, and nothing is left at the relay.
func TestSignalingOnlyUserIsNotWoken(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the node's 10 s wake timeout")
	}
	n := startMediaNode(t, node.FileConfig{})
	url := "ws://" + n.Addr() + "/ws"
	alice := coldTransferClient(t, url, "alice", client.Options{})
	coldTransferClient(t, url, "bob", client.Options{SignalingOnly: true})
	id, err := alice.SendCmd(ctxTimeout(t, 10*time.Second), "bob", []byte("x"))
	must(t, err)
	r := alice.expect(client.EventSendCmdRlst, forTask(id), 15*time.Second).(*datachannel.Result)
	if r.Code != protocol.SendDataTargetInvalid {
		t.Fatalf("result %v, want 1102", r.Code)
	}
	if v, _ := scrape(n, "crvnode_transfer_waiting_receivers"); v != 0 {
		t.Fatalf("%v receivers still awaited", v)
	}
	if v, _ := scrape(n, "crvnode_transfer_active"); v != 0 {
		t.Fatalf("%v transfers still active", v)
	}
}
