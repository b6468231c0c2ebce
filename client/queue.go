package client

import (
	"context"

	"github.com/crvnode/crvnode/protocol"
)

// The queue component (customer-service desks): customers queue, agents
// serve queues, and the node assigns the longest-waiting customer to a free
// agent (the event autoAssignUser, or ReqAssignUser with DND on). The
// agent accepts and then calls the customer with Call. Counts and places
// arrive as queueStatusChanged and queuingInfoChanged.

// InitQueueDat returns the app's queues and their counts, where this user
// waits (QueID 0: nowhere) and the queues it serves.
func (c *Client) InitQueueDat(ctx context.Context) (*protocol.InitQueueDatResult, error) {
	var res protocol.InitQueueDatResult
	if err := c.Do(ctx, protocol.MethodInitQueueDat, protocol.Empty{}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// RefreshAllQueueStatus returns the counts of every queue of the app.
func (c *Client) RefreshAllQueueStatus(ctx context.Context) ([]protocol.QueStatus, error) {
	var res protocol.QueueStatusesResult
	if err := c.Do(ctx, protocol.MethodRefreshAllQueueStatus, protocol.Empty{}, &res); err != nil {
		return nil, err
	}
	return res.Statuses, nil
}

// GetQueueStatus returns one queue's counts; an unknown queID is 400
// (QUEUE_ID_ERR).
func (c *Client) GetQueueStatus(ctx context.Context, queID int) (protocol.QueStatus, error) {
	var res protocol.QueStatus
	err := c.Do(ctx, protocol.MethodGetQueueStatus, protocol.QueueIDParams{QueID: queID}, &res)
	return res, err
}

// StartQueuing puts this user, as a customer, at the end of queue queID;
// usrExtDat reaches the agent it is assigned to. A user waits in one queue
// at a time (404 QUEUE_ALREADYQUEUING).
func (c *Client) StartQueuing(ctx context.Context, queID int, usrExtDat string) error {
	return c.Do(ctx, protocol.MethodStartQueuing, protocol.StartQueuingParams{QueID: queID, UsrExtDat: usrExtDat}, nil)
}

// StopQueuing leaves the queue this user waits in (401 when it waits in
// none).
func (c *Client) StopQueuing(ctx context.Context) error {
	return c.Do(ctx, protocol.MethodStopQueuing, protocol.Empty{}, nil)
}

// StartService makes this user an agent of queue queID with priority (0,
// the highest, to 1000) among its agents; it may serve several queues.
func (c *Client) StartService(ctx context.Context, queID, priority int) error {
	return c.Do(ctx, protocol.MethodStartService, protocol.StartServiceParams{QueID: queID, Priority: priority}, nil)
}

// StopService stops serving queue queID (403 when not serving it).
func (c *Client) StopService(ctx context.Context, queID int) error {
	return c.Do(ctx, protocol.MethodStopService, protocol.QueueIDParams{QueID: queID}, nil)
}

// ReqAssignUser asks for the next customer, which is how an agent with DND
// on is given one: 401 when nobody waits for it, 403 when it serves no
// queue.
func (c *Client) ReqAssignUser(ctx context.Context) (protocol.QueUser, error) {
	var res protocol.QueUser
	err := c.Do(ctx, protocol.MethodReqAssignUser, protocol.Empty{}, &res)
	return res, err
}

// AcceptAssignUser takes the customer assigned to this agent out of its
// queue; the agent then calls it. 402 when the customer is no longer
// assigned to this agent (it left, or the assignment timed out).
func (c *Client) AcceptAssignUser(ctx context.Context, queID int, userID protocol.UserID) error {
	return c.Do(ctx, protocol.MethodAcceptAssignUser, protocol.AssignUserParams{QueID: queID, UserID: userID}, nil)
}

// RejectAssignUser puts the assigned customer back at the front of its
// queue; this agent is not given it again for a while.
func (c *Client) RejectAssignUser(ctx context.Context, queID int, userID protocol.UserID) error {
	return c.Do(ctx, protocol.MethodRejectAssignUser, protocol.AssignUserParams{QueID: queID, UserID: userID}, nil)
}
