package client

import (
	"context"

	"github.com/google/uuid"

	"github.com/crvnode/crvnode/protocol"
)

// Login logs in with an app's ID and the MD5 of its secret (the CRVideo
// Login). The second API document's spellings (AuthAcnt, PrivAcnt, ...) are
// sent as given; the node accepts both. A connection carries one login.
func (c *Client) Login(ctx context.Context, p protocol.LoginParams) (*protocol.LoginResult, error) {
	var res protocol.LoginResult
	if err := c.Do(ctx, protocol.MethodLogin, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// LoginByToken logs in with a JWT that the app's server signed, so that the
// app secret never has to be in the program.
func (c *Client) LoginByToken(ctx context.Context, p protocol.LoginByTokenParams) (*protocol.LoginResult, error) {
	var res protocol.LoginResult
	if err := c.Do(ctx, protocol.MethodLoginByToken, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Logout ends the session but keeps the connection, so that another user
// may log in on it. It leaves the current meeting locally.
func (c *Client) Logout(ctx context.Context) error {
	return c.Do(ctx, protocol.MethodLogout, protocol.Empty{}, nil)
}

// UpdateToken hands the node a fresh JWT for the logged-in user before the
// login's expires (notifyTokenWillExpire warns of that).
func (c *Client) UpdateToken(ctx context.Context, token string) error {
	return c.Do(ctx, protocol.MethodUpdateToken, protocol.UpdateTokenParams{Token: token}, nil)
}

// SetNickName renames the logged-in user; its meeting's members get
// notifyNickNameChanged.
func (c *Client) SetNickName(ctx context.Context, nickName string) error {
	return c.Do(ctx, protocol.MethodSetNickName, protocol.SetNickNameParams{UserID: c.UserID(), NickName: nickName}, nil)
}

// SetDNDStatus turns do-not-disturb off (0) or on (any other value, meaning
// chosen by the app); while on, calls to this user fail with ERR_BUSY.
func (c *Client) SetDNDStatus(ctx context.Context, status int) error {
	return c.Do(ctx, protocol.MethodSetDNDStatus, protocol.SetDNDStatusParams{DNDStatus: status}, nil)
}

// GetUserStatus returns the presence of every user of the app.
func (c *Client) GetUserStatus(ctx context.Context) ([]protocol.UserStatus, error) {
	var res protocol.GetUserStatusResult
	if err := c.Do(ctx, protocol.MethodGetUserStatus, protocol.Empty{}, &res); err != nil {
		return nil, err
	}
	return res.UserStatus, nil
}

// StartUserStatusNotify subscribes this session to notifyUserStatus events,
// which a presence list needs; they are off by default because they fan out
// to every subscriber of the app.
func (c *Client) StartUserStatusNotify(ctx context.Context) error {
	return c.Do(ctx, protocol.MethodStartUserStatusNotify, protocol.Empty{}, nil)
}

// StopUserStatusNotify ends the subscription StartUserStatusNotify began.
func (c *Client) StopUserStatusNotify(ctx context.Context) error {
	return c.Do(ctx, protocol.MethodStopUserStatusNotify, protocol.Empty{}, nil)
}

// CreateMeeting creates a meeting to enter or to call someone into.
// createPswd > 0 has the node generate a password (returned in Pswd).
func (c *Client) CreateMeeting(ctx context.Context, subject string, createPswd int) (protocol.MeetInfo, error) {
	var res protocol.MeetObjResult
	p := protocol.CreateMeetingParams{MeetSubject: subject, CreatePswd: createPswd}
	if err := c.Do(ctx, protocol.MethodCreateMeeting, p, &res); err != nil {
		return protocol.MeetInfo{}, err
	}
	return res.MeetObj, nil
}

// DestroyMeeting ends a meeting this user created; its members get
// meetingStopped.
func (c *Client) DestroyMeeting(ctx context.Context, meetID protocol.MeetingID) error {
	return c.Do(ctx, protocol.MethodDestroyMeeting, protocol.DestroyMeetingParams{MeetID: meetID}, nil)
}

// GetMeetings lists the app's meetings, for a lobby or for rejoining.
func (c *Client) GetMeetings(ctx context.Context) ([]protocol.MeetInfo, error) {
	var res protocol.GetMeetingsResult
	if err := c.Do(ctx, protocol.MethodGetMeetings, protocol.Empty{}, &res); err != nil {
		return nil, err
	}
	return res.Meetings, nil
}

// EnterMeeting enters a meeting as the logged-in user; nickName, if not "",
// is the name shown in this meeting. On success the local member list
// (Members, Member, ...) is the result's members.
func (c *Client) EnterMeeting(ctx context.Context, meetID protocol.MeetingID, pswd, nickName string) (*protocol.EnterMeetingResult, error) {
	p := protocol.EnterMeetingParams{MeetID: meetID, Pswd: pswd, UserID: c.UserID(), NickName: nickName}
	var res protocol.EnterMeetingResult
	if err := c.Do(ctx, protocol.MethodEnterMeeting, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ExitMeeting leaves the current meeting; on success the local member list
// is emptied.
func (c *Client) ExitMeeting(ctx context.Context) error {
	return c.Do(ctx, protocol.MethodExitMeeting, protocol.Empty{}, nil)
}

// Call rings calledUserID, who gets notifyCallIn with meetObj (the meeting
// both will enter) and usrExtDat. The call ID is made here, a UUID, and is
// returned even with an error: when ctx ends before the node answers, the
// call may exist and the ID is what hangs it up.
func (c *Client) Call(ctx context.Context, calledUserID protocol.UserID, meetObj *protocol.MeetInfo, usrExtDat string) (callID string, err error) {
	callID = uuid.NewString()
	p := protocol.CallParams{CallID: callID, CalledUserID: calledUserID, MeetObj: meetObj, UsrExtDat: usrExtDat}
	return callID, c.Do(ctx, protocol.MethodCall, p, nil)
}

// AcceptCall answers a call from notifyCallIn; the caller gets
// notifyCallAccepted with meetObj (nil keeps the caller's meeting).
func (c *Client) AcceptCall(ctx context.Context, callID string, meetObj *protocol.MeetInfo, usrExtDat string) error {
	p := protocol.AcceptCallParams{CallID: callID, MeetObj: meetObj, UsrExtDat: usrExtDat}
	return c.Do(ctx, protocol.MethodAcceptCall, p, nil)
}

// RejectCall declines a call from notifyCallIn; the caller gets
// notifyCallRejected with ERR_REFUSE.
func (c *Client) RejectCall(ctx context.Context, callID, usrExtDat string) error {
	return c.Do(ctx, protocol.MethodRejectCall, protocol.CallActionParams{CallID: callID, UsrExtDat: usrExtDat}, nil)
}

// HungupCall ends a call from either side; the other side gets
// notifyCallHungup. Leaving the meeting is a separate ExitMeeting.
func (c *Client) HungupCall(ctx context.Context, callID, usrExtDat string) error {
	return c.Do(ctx, protocol.MethodHungupCall, protocol.CallActionParams{CallID: callID, UsrExtDat: usrExtDat}, nil)
}

// CallMoreParty invites one more user into a meeting; its progress arrives
// as notifyCallMorePartyStatus. Like Call, the invite ID is made here and
// returned even with an error.
func (c *Client) CallMoreParty(ctx context.Context, called protocol.UserID, meetObj *protocol.MeetInfo, usrExtDat string) (inviteID string, err error) {
	return c.invite(ctx, protocol.MethodCallMoreParty, called, meetObj, usrExtDat)
}

// ClientInvite is CallMoreParty under the second API document's name; the
// node reports its progress as notifyInviteStatus instead.
func (c *Client) ClientInvite(ctx context.Context, called protocol.UserID, meetObj *protocol.MeetInfo, usrExtDat string) (inviteID string, err error) {
	return c.invite(ctx, protocol.MethodClientInvite, called, meetObj, usrExtDat)
}

func (c *Client) invite(ctx context.Context, method string, called protocol.UserID, meetObj *protocol.MeetInfo, usrExtDat string) (string, error) {
	inviteID := uuid.NewString()
	p := protocol.InviteParams{InviteID: inviteID, Called: called, MeetObj: meetObj, UsrExtDat: usrExtDat}
	return inviteID, c.Do(ctx, method, p, nil)
}

// CancelCallMoreParty withdraws an invite that is still ringing.
func (c *Client) CancelCallMoreParty(ctx context.Context, inviteID, usrExtDat string) error {
	return c.Do(ctx, protocol.MethodCancelCallMoreParty, protocol.CancelInviteParams{InviteID: inviteID, UsrExtDat: usrExtDat}, nil)
}

// ClientCancelInvite is CancelCallMoreParty under the second API document's
// name, which carries no usrExtDat.
func (c *Client) ClientCancelInvite(ctx context.Context, inviteID string) error {
	return c.Do(ctx, protocol.MethodClientCancelInvite, protocol.CancelInviteParams{InviteID: inviteID}, nil)
}

// Kickout removes a member from the current meeting; only the meeting's
// creator may. The member gets meetingDropped, the others userLeftMeeting.
func (c *Client) Kickout(ctx context.Context, userID protocol.UserID) error {
	return c.Do(ctx, protocol.MethodKickout, protocol.KickoutParams{UserID: userID}, nil)
}

// SendMeetingCustomMsg sends an app message to every member of the current
// meeting, who get it as notifyMeetingCustomMsg (the sender too).
func (c *Client) SendMeetingCustomMsg(ctx context.Context, msg string) error {
	return c.Do(ctx, protocol.MethodSendMeetingCustomMsg, protocol.MeetingCustomMsgParams{Msg: msg}, nil)
}
