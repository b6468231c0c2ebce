package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/protocol"
)

// callTimeout bounds one call's setup.
const callTimeout = 10 * time.Second

// errCallRejected is a call the callee did not take.
var errCallRejected = errors.New("call rejected")

// callPeer is a user of the call storms: it accepts every call it gets
// and hands the outcome of its own calls to the goroutine that placed
// them. Its Handler runs on the client's event goroutine.
type callPeer struct {
	ctx    context.Context // for the AcceptCall the handler sends
	onErr  func(error)
	events chan client.Event // notifyCallAccepted and notifyCallRejected

	mu sync.Mutex
	c  *client.Client
}

func newCallPeer(ctx context.Context, onErr func(error)) *callPeer {
	return &callPeer{ctx: ctx, onErr: onErr, events: make(chan client.Event, 16)}
}

func (p *callPeer) setClient(c *client.Client) {
	p.mu.Lock()
	p.c = c
	p.mu.Unlock()
}

func (p *callPeer) client() *client.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.c
}

// handle is the client's Handler.
func (p *callPeer) handle(ev client.Event) {
	switch d := ev.Data.(type) {
	case *protocol.NotifyCallIn:
		c := p.client()
		if c == nil {
			return
		}
		// 600: the caller hung up first (its wait ended with the phase).
		if err := c.AcceptCall(p.ctx, d.CallID, nil, ""); err != nil && p.ctx.Err() == nil && protocol.CodeOf(err) != protocol.InvalidCallID {
			p.onErr(fmt.Errorf("acceptCall: %w", err))
		}
	case *protocol.NotifyCallAccepted, *protocol.NotifyCallRejected:
		select {
		case p.events <- ev:
		default: // a late outcome nobody waits for
		}
	}
}

// callOnce places one call from caller to callee and hangs it up once
// accepted. Setup is call → the callee's notifyCallIn → its acceptCall →
// the caller's notifyCallAccepted.
func callOnce(ctx context.Context, caller *callPeer, callee protocol.UserID) (time.Duration, error) {
	c := caller.client()
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	t0 := time.Now()
	callID, err := c.Call(ctx, callee, nil, "")
	if err != nil {
		return 0, fmt.Errorf("call: %w", err)
	}
	var setup time.Duration
	for setup == 0 {
		select {
		case ev := <-caller.events:
			switch d := ev.Data.(type) {
			case *protocol.NotifyCallAccepted:
				if d.CallID == callID {
					setup = time.Since(t0)
				}
			case *protocol.NotifyCallRejected:
				if d.CallID == callID {
					return 0, fmt.Errorf("%w: code %d", errCallRejected, d.SdkErr)
				}
			}
		case <-ctx.Done():
			_ = c.HungupCall(context.Background(), callID, "")
			return 0, fmt.Errorf("call %s: %w", callID, ctx.Err())
		}
	}
	if err := c.HungupCall(ctx, callID, ""); err != nil {
		return setup, fmt.Errorf("hungupCall: %w", err)
	}
	return setup, nil
}
