package signaling

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/protocol"
)

func signToken(t *testing.T, secret string, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func userClaims(user string, exp time.Duration) *tokenClaims {
	return &tokenClaims{RegisteredClaims: jwt.RegisteredClaims{Subject: user, ExpiresAt: jwt.NewNumericDate(time.Now().Add(exp))}}
}

func TestLoginWithSecret(t *testing.T) {
	n := startNode(t, "", nil)
	c := dial(t, n)
	c.fails(protocol.NotLogin, protocol.MethodGetUserStatus, nil)
	c.fails(protocol.NotLogin, protocol.MethodCreateMeeting, protocol.CreateMeetingParams{MeetSubject: "x"})

	bad := loginParams("acme", "wrong", "alice")
	c.fails(protocol.AcntPswdErr, protocol.MethodLogin, bad)
	c.fails(protocol.TokenAppIDNotExist, protocol.MethodLogin, loginParams("nope", "acme-secret", "alice"))
	noUser := loginParams("acme", "acme-secret", "")
	c.fails(protocol.ParamErr, protocol.MethodLogin, noUser)
	noNick := loginParams("acme", "acme-secret", "alice")
	noNick.NickName = ""
	c.fails(protocol.ParamErr, protocol.MethodLogin, noNick)
	ctl := loginParams("acme", "acme-secret", "al\x00ice")
	c.fails(protocol.ParamErr, protocol.MethodLogin, ctl)
	// A secret login of a token-only app is refused.
	c.fails(protocol.CustomAuthNoInfo, protocol.MethodLogin, loginParams("secure", "secure-secret", "alice"))

	// The second API document's spelling, with an upper-case MD5 and the
	// " " auth code the document tells clients to send.
	var res protocol.LoginResult
	c.ok(protocol.MethodLogin, map[string]string{
		"authAcnt": "acme", "authPswd": upper(md5Hex("acme-secret")),
		"nickName": "Alice", "privAcnt": "alice", "privAuthCode": " ",
	}, &res)
	if res.UserID != "alice" || res.NickName != "Alice" || res.AppID != "acme" || res.ICEServers == nil {
		t.Fatalf("login result %+v", res)
	}
	c.fails(protocol.AlreadyLogin, protocol.MethodLogin, loginParams("acme", "acme-secret", "alice"))
	c.ok(protocol.MethodGetUserStatus, nil, nil)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestLoginWithToken(t *testing.T) {
	n := startNode(t, "", nil)
	c := dial(t, n)
	withCode := func(app, user, code string) protocol.LoginParams {
		return protocol.LoginParams{AppID: app, NickName: "n", UserID: user, UserAuthCode: code}
	}
	expired := signToken(t, "secure-secret", userClaims("bob", -time.Minute))
	c.fails(protocol.TokenTimeout, protocol.MethodLogin, withCode("secure", "bob", expired))
	forged := signToken(t, "not-the-secret", userClaims("bob", time.Hour))
	c.fails(protocol.CustomAuthFailed, protocol.MethodLogin, withCode("secure", "bob", forged))
	c.fails(protocol.TokenAuthInfoErr, protocol.MethodLogin, withCode("secure", "bob", "not.a.jwt"))
	noExp := signToken(t, "secure-secret", &tokenClaims{RegisteredClaims: jwt.RegisteredClaims{Subject: "bob"}})
	c.fails(protocol.TokenAuthInfoErr, protocol.MethodLogin, withCode("secure", "bob", noExp))
	good := signToken(t, "secure-secret", userClaims("bob", time.Hour))
	c.fails(protocol.CustomAuthFailed, protocol.MethodLogin, withCode("secure", "mallory", good))
	// Another app's secret does not sign for this app.
	other := signToken(t, "acme-secret", userClaims("bob", time.Hour))
	c.fails(protocol.CustomAuthFailed, protocol.MethodLogin, withCode("secure", "bob", other))

	var res protocol.LoginResult
	c.ok(protocol.MethodLogin, withCode("secure", "", good), &res) // userID taken from sub
	if res.UserID != "bob" || res.AppID != "secure" {
		t.Fatalf("login result %+v", res)
	}

	// loginByToken finds the app in the token.
	d := dial(t, n)
	tok := &tokenClaims{AppID: "acme", RegisteredClaims: userClaims("carol", time.Hour).RegisteredClaims}
	d.fails(protocol.TokenAppIDNotExist, protocol.MethodLoginByToken, protocol.LoginByTokenParams{Token: good, NickName: "C"})
	d.ok(protocol.MethodLoginByToken, protocol.LoginByTokenParams{Token: signToken(t, "acme-secret", tok), NickName: "Carol"}, &res)
	if res.UserID != "carol" || res.AppID != "acme" {
		t.Fatalf("loginByToken result %+v", res)
	}
}

// An app with token logins off answers 15 to a token, whether in login's
// userAuthCode or in loginByToken, and still takes its secret.
func TestNoTokensApp(t *testing.T) {
	n := startNode(t, "", nil)
	c := dial(t, n)
	tok := signToken(t, "plain-secret", &tokenClaims{AppID: "plain", RegisteredClaims: userClaims("dave", time.Hour).RegisteredClaims})
	c.fails(protocol.CustomAuthNotSupport, protocol.MethodLogin,
		protocol.LoginParams{AppID: "plain", AppSecret: md5Hex("plain-secret"), NickName: "D", UserID: "dave", UserAuthCode: tok})
	c.fails(protocol.CustomAuthNotSupport, protocol.MethodLoginByToken, protocol.LoginByTokenParams{Token: tok, NickName: "D"})
	var res protocol.LoginResult
	c.ok(protocol.MethodLogin, protocol.LoginParams{AppID: "plain", AppSecret: md5Hex("plain-secret"), NickName: "D", UserID: "dave", UserAuthCode: " "}, &res)
	if res.UserID != "dave" || res.AppID != "plain" {
		t.Fatalf("login result %+v", res)
	}
}

func TestReloginKicksOlderSession(t *testing.T) {
	n := startNode(t, "", nil)
	watcher := login(t, n, "watcher")
	watcher.ok(protocol.MethodStartUserStatusNotify, nil, nil)
	old := login(t, n, "alice")
	watcher.expectEvent(protocol.EventNotifyUserStatus, nil) // alice online

	fresh := login(t, n, "alice")
	var off protocol.LineOff
	old.expectEvent(protocol.EventLineOff, &off)
	if off.SdkEr != protocol.UserBeenKickout {
		t.Fatalf("lineOff %d, want %d", off.SdkEr, protocol.UserBeenKickout)
	}
	if ce := old.waitClosed(); ce == nil || ce.Code != websocket.CloseNormalClosure {
		t.Fatalf("close frame %v", ce)
	}
	var st []protocol.UserStatus
	fresh.ok(protocol.MethodGetUserStatus, nil, &struct{ UserStatus *[]protocol.UserStatus }{&st})
	if got := statusOf(st, "alice"); got.UserStatus != protocol.UserIdle {
		t.Fatalf("alice after relogin: %+v", got)
	}
	// The kick shows as offline then online again for watchers.
	var ev protocol.NotifyUserStatus
	watcher.expectEvent(protocol.EventNotifyUserStatus, &ev)
	if ev.UserStatus.UserStatus != protocol.UserOffline {
		t.Fatalf("first status after kick %+v", ev)
	}
	watcher.expectEvent(protocol.EventNotifyUserStatus, &ev)
	if ev.UserStatus.UserStatus != protocol.UserIdle {
		t.Fatalf("second status after kick %+v", ev)
	}
}

func statusOf(list []protocol.UserStatus, id string) protocol.UserStatus {
	for _, s := range list {
		if s.UserID == id {
			return s
		}
	}
	return protocol.UserStatus{UserID: "(missing)", UserStatus: -1}
}

// A setDNDStatus whose session is logged off by a newer login while it
// writes leaves the node and its database agreeing on the user's DND.
func TestDNDRacingRelogin(t *testing.T) {
	skipInCluster(t) // of the node's own store
	n := startNode(t, "", nil)
	old := login(t, n, "alice")
	release := holdWrite(t, n, "setDND", func() {
		old.send(`{"jsonrpc":"2.0","id":1,"method":"setDNDStatus","params":{"DNDStatus":3}}`)
	})
	last := login(t, n, "alice")
	old.waitClosed()
	release()
	waitAgree(t, func() (string, string) {
		var st []protocol.UserStatus
		last.ok(protocol.MethodGetUserStatus, nil, &struct{ UserStatus *[]protocol.UserStatus }{&st})
		users, err := n.store.users(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		stored := -1
		for _, u := range users {
			if u.id == "alice" {
				stored = u.dnd
			}
		}
		return fmt.Sprint(stored), fmt.Sprint(statusOf(st, "alice").DNDType)
	})
}
