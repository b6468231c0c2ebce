package signaling

import (
	"testing"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// TestSetNickName: a user renames itself; its meeting's members are told
// and list the new name, the name outlives the session, and nobody can
// rename someone else.
func TestSetNickName(t *testing.T) {
	skipInCluster(t) // of the node's own store
	n := startNode(t, "", nil)
	a, b, c := login(t, n, "alice"), login(t, n, "bob"), login(t, n, "carol")
	m := createMeeting(t, a, "rename", 0)
	a.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd}, nil)
	b.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd}, nil)
	a.expectEvent(protocol.EventUserEnterMeeting, nil)

	b.fails(protocol.APINoPermission, protocol.MethodSetNickName, protocol.SetNickNameParams{UserID: "alice", NickName: "Mallory"})
	b.fails(protocol.ParamErr, protocol.MethodSetNickName, protocol.SetNickNameParams{UserID: "bob", NickName: "bad\x01name"})
	b.fails(protocol.ParamErr, protocol.MethodSetNickName, protocol.SetNickNameParams{UserID: "bob", NickName: string(make([]byte, maxNickNameLen+1))})
	a.noEvent()

	b.ok(protocol.MethodSetNickName, protocol.SetNickNameParams{UserID: "bob", NickName: "Robert"}, nil)
	want := protocol.NickNameChanged{UserID: "bob", OldName: "nick-bob", NewName: "Robert"}
	for _, who := range []*wsClient{a, b} {
		var got protocol.NickNameChanged
		who.expectEvent(protocol.EventNotifyNickNameChanged, &got)
		if got != want {
			t.Fatalf("notifyNickNameChanged %+v, want %+v", got, want)
		}
	}
	c.noEvent() // not in the meeting

	var res protocol.EnterMeetingResult
	c.ok(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: m.ID, Pswd: m.Pswd}, &res)
	names := map[string]string{}
	for _, mem := range res.Members {
		names[mem.UserID] = mem.NickName
	}
	if names["bob"] != "Robert" {
		t.Fatalf("members after the rename: %v", names)
	}

	// Outside a meeting only the user hears of it; the stored name is
	// what getUserStatus shows after the user logged off.
	c.ok(protocol.MethodSetNickName, protocol.SetNickNameParams{UserID: "carol", NickName: "Caz"}, nil)
	var got protocol.NickNameChanged
	c.expectEvent(protocol.EventNotifyNickNameChanged, &got)
	a.expectEvent(protocol.EventUserEnterMeeting, nil)
	a.expectEvent(protocol.EventNotifyNickNameChanged, &got)
	if got.NewName != "Caz" {
		t.Fatalf("in the meeting: %+v", got)
	}
	users, err := n.store.users(timeoutCtx(t), "acme")
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]string{}
	for _, u := range users {
		stored[u.id] = u.nick
	}
	if stored["bob"] != "Robert" || stored["carol"] != "Caz" {
		t.Fatalf("stored nicknames %v", stored)
	}
}

// TestTokenWillExpire: a session logged in with a JWT is warned
// tokenWarning before its exp; updateToken takes a fresh token of the
// same user and app (and moves the warning), and refuses any other.
func TestTokenWillExpire(t *testing.T) {
	// JWT expiries are whole seconds: with a token good for an hour, the
	// warning comes 1-2 s after the login.
	n := startNode(t, "", func(c *Config) { c.Limits.TokenWarning = time.Hour - 2*time.Second })
	c := dial(t, n)
	tok := signToken(t, "acme-secret", userClaims("dave", time.Hour))
	c.ok(protocol.MethodLogin, protocol.LoginParams{AppID: "acme", NickName: "Dave", UserID: "dave", UserAuthCode: tok}, nil)
	var w protocol.TokenWillExpire
	c.expectEvent(protocol.EventNotifyTokenWillExpire, &w)
	if until := time.Until(time.Unix(w.ExpireAt, 0)); until < 59*time.Minute || until > time.Hour {
		t.Fatalf("warned of an expiry %v away", until)
	}

	c.fails(protocol.CustomAuthFailed, protocol.MethodUpdateToken, protocol.UpdateTokenParams{Token: signToken(t, "acme-secret", userClaims("erin", 2*time.Hour))})
	c.fails(protocol.CustomAuthFailed, protocol.MethodUpdateToken, protocol.UpdateTokenParams{Token: signToken(t, "globex-secret", userClaims("dave", 2*time.Hour))})
	c.fails(protocol.TokenTimeout, protocol.MethodUpdateToken, protocol.UpdateTokenParams{Token: signToken(t, "acme-secret", userClaims("dave", -time.Minute))})
	c.fails(protocol.TokenAuthInfoErr, protocol.MethodUpdateToken, protocol.UpdateTokenParams{Token: "not.a.jwt"})

	// A token good for two hours: warned an hour before, not now.
	c.ok(protocol.MethodUpdateToken, protocol.UpdateTokenParams{Token: signToken(t, "acme-secret", userClaims("dave", 2*time.Hour))}, nil)
	c.noEvent()
	// A token about to end: warned at once.
	c.ok(protocol.MethodUpdateToken, protocol.UpdateTokenParams{Token: signToken(t, "acme-secret", userClaims("dave", time.Hour-5*time.Second))}, nil)
	c.expectEvent(protocol.EventNotifyTokenWillExpire, &w)

	// A login by secret has no token to warn of; logging out disarms one.
	s := login(t, n, "sam")
	d := dial(t, n)
	d.ok(protocol.MethodLogin, protocol.LoginParams{AppID: "acme", NickName: "Di", UserID: "di", UserAuthCode: signToken(t, "acme-secret", userClaims("di", 2*time.Hour))}, nil)
	d.ok(protocol.MethodUpdateToken, protocol.UpdateTokenParams{Token: signToken(t, "acme-secret", userClaims("di", time.Hour))}, nil)
	d.ok(protocol.MethodLogout, nil, nil)
	time.Sleep(2500 * time.Millisecond)
	d.noEvent()
	s.noEvent()

	// An app with tokens off refuses updateToken with 15.
	p := loginApp(t, n, "plain", "plain-secret", "pat")
	p.fails(protocol.CustomAuthNotSupport, protocol.MethodUpdateToken, protocol.UpdateTokenParams{Token: signToken(t, "plain-secret", userClaims("pat", time.Hour))})
}
