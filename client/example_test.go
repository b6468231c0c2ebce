package client_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/node"
	"github.com/crvnode/crvnode/protocol"
)

// Example runs the CRVideo call flow between two users of a node started
// in-process: alice creates a meeting and calls bob, bob accepts, both
// enter, and each SDK answers member queries locally.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// A node on a free loopback port, serving the demo app (secret "demo").
	dir, _ := os.MkdirTemp("", "crvnode-example")
	defer os.RemoveAll(dir)
	n, err := node.Start(node.Config{HTTPAddr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer n.Shutdown(ctx)
	url := "ws://" + n.Addr() + "/ws"

	// Each user is one Client; events arrive at its Handler.
	calls := make(chan *protocol.NotifyCallIn, 1)
	accepted := make(chan *protocol.NotifyCallAccepted, 1)
	alice := login(ctx, url, "alice", func(ev client.Event) {
		if d, ok := ev.Data.(*protocol.NotifyCallAccepted); ok {
			accepted <- d
		}
	})
	bob := login(ctx, url, "bob", func(ev client.Event) {
		if d, ok := ev.Data.(*protocol.NotifyCallIn); ok {
			calls <- d
		}
	})
	defer alice.Close()
	defer bob.Close()

	meet, _ := alice.CreateMeeting(ctx, "standup", 1)
	callID, err := alice.Call(ctx, "bob", &meet, "quick sync?")
	if protocol.CodeOf(err) == protocol.ErrBusy {
		fmt.Println("bob is busy")
		return
	}
	in := <-calls
	fmt.Printf("bob: %s calls: %q\n", in.CallerID, in.UsrExtDat)
	_ = bob.AcceptCall(ctx, in.CallID, &in.MeetObj, "")
	acc := <-accepted
	_, _ = alice.EnterMeeting(ctx, acc.MeetObj.ID, acc.MeetObj.Pswd, "")
	_, _ = bob.EnterMeeting(ctx, in.MeetObj.ID, in.MeetObj.Pswd, "")
	for _, m := range bob.Members() {
		fmt.Println("member:", m.UserID, m.NickName)
	}
	_ = alice.HungupCall(ctx, callID, "")
	_ = alice.ExitMeeting(ctx)
	// Output:
	// bob: alice calls: "quick sync?"
	// member: alice Alice
	// member: bob Bob
}

func login(ctx context.Context, url, userID string, handler func(client.Event)) *client.Client {
	c, err := client.Dial(ctx, url, client.Options{Handler: handler})
	if err != nil {
		panic(err)
	}
	sum := md5.Sum([]byte("demo")) // clients send the MD5 of the app secret
	nick := string(userID[0]-32) + userID[1:]
	if _, err := c.Login(ctx, protocol.LoginParams{AppID: "demo", AppSecret: hex.EncodeToString(sum[:]),
		UserID: userID, NickName: nick}); err != nil {
		panic(err)
	}
	return c
}
