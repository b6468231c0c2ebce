package protocol

// A user's nickname and login token, changed during a session (the
// current CRVideo SDK generation's CRVideo_SetNickName and
// CRVideo_UpdateToken).
const (
	MethodSetNickName          = "setNickName"
	MethodUpdateToken          = "updateToken"
	EventNotifyNickNameChanged = "notifyNickNameChanged"
	EventNotifyTokenWillExpire = "notifyTokenWillExpire"
)

// SetNickNameParams are the params of setNickName: a user renames itself.
type SetNickNameParams struct {
	UserID   UserID `json:"userID" crv:"required"`
	NickName string `json:"nickName" crv:"required"`
}

// UpdateTokenParams are the params of updateToken: a fresh JWT for the
// logged-in user, signed with the app's secret.
type UpdateTokenParams struct {
	Token string `json:"token" crv:"required"`
}

// NickNameChanged tells a user and the members of its meeting that it
// renamed itself.
type NickNameChanged struct {
	UserID  UserID `json:"userID"`
	OldName string `json:"oldName"`
	NewName string `json:"newName"`
}

// TokenWillExpire warns a session logged in with a JWT that the token
// expires at ExpireAt (unix seconds): the app should call updateToken.
type TokenWillExpire struct {
	ExpireAt int64 `json:"expireAt"`
}
