package client

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crvnode/crvnode/protocol"
)

// TestConcurrentRequestsOutOfOrder checks that each response reaches the
// request with its id, whatever the order the node answers in.
func TestConcurrentRequestsOutOfOrder(t *testing.T) {
	const n = 50
	node := newFakeNode(t)
	c, nc := node.dial(Options{})
	ctx := testCtx(t)

	type outcome struct {
		want, got int
		err       error
	}
	results := make(chan outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var res struct{ N int }
			err := c.Do(ctx, "echo", map[string]int{"n": i}, &res)
			results <- outcome{want: i, got: res.N, err: err}
		})
	}

	reqs := make([]received, 0, n)
	for range n {
		reqs = append(reqs, nc.recvMethod("echo"))
	}
	rand.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	ids := map[string]bool{}
	for _, r := range reqs {
		if ids[string(r.msg.ID)] {
			t.Fatalf("id %s used twice", r.msg.ID)
		}
		ids[string(r.msg.ID)] = true
		var p struct{ N int }
		if err := json.Unmarshal(r.msg.Params, &p); err != nil {
			t.Fatal(err)
		}
		nc.reply(r.msg.ID, map[string]int{"n": p.N})
	}
	wg.Wait()
	close(results)
	for o := range results {
		if o.err != nil || o.got != o.want {
			t.Errorf("request %d: got %d, err %v", o.want, o.got, o.err)
		}
	}
	if l := pendingLen(c); l != 0 {
		t.Errorf("%d requests still pending", l)
	}
}

func pendingLen(c *Client) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// TestErrorResponse checks that a refusal surfaces as the node's
// *protocol.Error with its CRVideo code.
func TestErrorResponse(t *testing.T) {
	node := newFakeNode(t)
	c, nc := node.dial(Options{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(testCtx(t), "bob", nil, "")
		errc <- err
	}()
	r := nc.recvMethod(protocol.MethodCall)
	nc.replyError(r.msg.ID, protocol.ErrBusy, "bob is busy")
	err := <-errc
	var perr *protocol.Error
	if !errors.As(err, &perr) {
		t.Fatalf("Call error %v (%T) is no *protocol.Error", err, err)
	}
	if perr.Code != protocol.ErrBusy || perr.Message != "bob is busy" {
		t.Errorf("got %+v, want code 602 and the node's message", perr)
	}
	if got := protocol.CodeOf(err); got != protocol.ErrBusy {
		t.Errorf("CodeOf = %v", got)
	}
}

// paramKeys returns the sorted keys of a request's params and checks the
// envelope.
func paramKeys(t *testing.T, r received) []string {
	t.Helper()
	var env map[string]json.RawMessage
	if err := json.Unmarshal(r.raw, &env); err != nil {
		t.Fatal(err)
	}
	if string(env["jsonrpc"]) != `"2.0"` {
		t.Errorf("jsonrpc = %s", env["jsonrpc"])
	}
	if !protocol.ValidID(env["id"]) || env["id"][0] == '"' {
		t.Errorf("id %s is not a JSON number", env["id"])
	}
	if strings.Contains(strings.ToLower(string(r.raw)), "cookie") {
		t.Errorf("request carries a cookie: %s", r.raw)
	}
	var params map[string]json.RawMessage
	if err := json.Unmarshal(r.msg.Params, &params); err != nil {
		t.Fatalf("params %s: %v", r.msg.Params, err)
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestLoginWire(t *testing.T) {
	node := newFakeNode(t)
	c, nc := node.dial(Options{})
	type res struct {
		r   *protocol.LoginResult
		err error
	}
	done := make(chan res, 1)
	go func() {
		r, err := c.Login(testCtx(t), protocol.LoginParams{
			AppID: "app1", AppSecret: "0123abcd", NickName: "Zhang San", UserID: "zhangsan",
		})
		done <- res{r, err}
	}()
	r := nc.recvMethod(protocol.MethodLogin)
	want := []string{"appID", "appSecret", "nickName", "userID"}
	if got := paramKeys(t, r); !slices.Equal(got, want) {
		t.Errorf("login params keys %v, want %v", got, want)
	}
	var p protocol.LoginParams
	if err := protocol.DecodeParams(r.msg.Params, &p); err != nil {
		t.Fatalf("node would refuse the params: %v", err)
	}
	if p.AppID != "app1" || p.AppSecret != "0123abcd" || p.NickName != "Zhang San" || p.UserID != "zhangsan" {
		t.Errorf("params decoded to %+v", p)
	}
	nc.reply(r.msg.ID, protocol.LoginResult{UserID: "zhangsan", NickName: "Zhang San", AppID: "app1",
		ICEServers: []protocol.ICEServer{{URLs: []string{"stun:x"}}}})
	got := <-done
	if got.err != nil || got.r.UserID != "zhangsan" || len(got.r.ICEServers) != 1 {
		t.Fatalf("Login = %+v, %v", got.r, got.err)
	}
	if c.UserID() != "zhangsan" {
		t.Errorf("UserID() = %q after login", c.UserID())
	}
}

func TestCallWire(t *testing.T) {
	node := newFakeNode(t)
	c, nc := node.dial(Options{})
	meet := &protocol.MeetInfo{ID: 42, Pswd: "pw", Subject: "s"}
	type res struct {
		id  string
		err error
	}
	done := make(chan res, 1)
	go func() {
		id, err := c.Call(testCtx(t), "lisi", meet, "hello")
		done <- res{id, err}
	}()
	r := nc.recvMethod(protocol.MethodCall)
	want := []string{"callID", "calledUserID", "meetObj", "usrExtDat"}
	if got := paramKeys(t, r); !slices.Equal(got, want) {
		t.Errorf("call params keys %v, want %v", got, want)
	}
	var p protocol.CallParams
	if err := protocol.DecodeParams(r.msg.Params, &p); err != nil {
		t.Fatalf("node would refuse the params: %v", err)
	}
	if u, err := uuid.Parse(p.CallID); err != nil || u.Version() != 4 || u.String() != p.CallID {
		t.Errorf("callID %q is not a canonical UUIDv4 (%v)", p.CallID, err)
	}
	if p.CalledUserID != "lisi" || p.UsrExtDat != "hello" || p.MeetObj == nil || *p.MeetObj != *meet {
		t.Errorf("params decoded to %+v", p)
	}
	nc.reply(r.msg.ID, protocol.CallIDResult{CallID: p.CallID})
	got := <-done
	if got.err != nil || got.id != p.CallID {
		t.Errorf("Call = %q, %v; sent callID %q", got.id, got.err, p.CallID)
	}

	// Without a meeting, meetObj is left out rather than sent as null.
	go func() {
		id, err := c.Call(testCtx(t), "lisi", nil, "")
		done <- res{id, err}
	}()
	r = nc.recvMethod(protocol.MethodCall)
	want = []string{"callID", "calledUserID", "usrExtDat"}
	if got := paramKeys(t, r); !slices.Equal(got, want) {
		t.Errorf("call params keys %v, want %v", got, want)
	}
	nc.reply(r.msg.ID, protocol.CallIDResult{})
	<-done
}

// TestMethodsWire checks each wrapper's method name and that the node's
// strict decoder takes its params.
func TestMethodsWire(t *testing.T) {
	node := newFakeNode(t)
	c, nc := node.dial(Options{})
	ctx := testCtx(t)
	meet := &protocol.MeetInfo{ID: 7}
	cases := []struct {
		method string
		params any // what DecodeParams must accept
		call   func() error
	}{
		{protocol.MethodLoginByToken, &protocol.LoginByTokenParams{}, func() error {
			_, err := c.LoginByToken(ctx, protocol.LoginByTokenParams{Token: "t", UserID: "u"})
			return err
		}},
		{protocol.MethodLogout, &protocol.Empty{}, func() error { return c.Logout(ctx) }},
		{protocol.MethodSetDNDStatus, &protocol.SetDNDStatusParams{}, func() error { return c.SetDNDStatus(ctx, 1) }},
		{protocol.MethodGetUserStatus, &protocol.Empty{}, func() error { _, err := c.GetUserStatus(ctx); return err }},
		{protocol.MethodStartUserStatusNotify, &protocol.Empty{}, func() error { return c.StartUserStatusNotify(ctx) }},
		{protocol.MethodStopUserStatusNotify, &protocol.Empty{}, func() error { return c.StopUserStatusNotify(ctx) }},
		{protocol.MethodCreateMeeting, &protocol.CreateMeetingParams{}, func() error { _, err := c.CreateMeeting(ctx, "s", 1); return err }},
		{protocol.MethodDestroyMeeting, &protocol.DestroyMeetingParams{}, func() error { return c.DestroyMeeting(ctx, 7) }},
		{protocol.MethodGetMeetings, &protocol.Empty{}, func() error { _, err := c.GetMeetings(ctx); return err }},
		{protocol.MethodEnterMeeting, &protocol.EnterMeetingParams{}, func() error { _, err := c.EnterMeeting(ctx, 7, "", "n"); return err }},
		{protocol.MethodExitMeeting, &protocol.Empty{}, func() error { return c.ExitMeeting(ctx) }},
		{protocol.MethodAcceptCall, &protocol.AcceptCallParams{}, func() error { return c.AcceptCall(ctx, "c1", meet, "") }},
		{protocol.MethodRejectCall, &protocol.CallActionParams{}, func() error { return c.RejectCall(ctx, "c1", "") }},
		{protocol.MethodHungupCall, &protocol.CallActionParams{}, func() error { return c.HungupCall(ctx, "c1", "") }},
		{protocol.MethodCallMoreParty, &protocol.InviteParams{}, func() error { _, err := c.CallMoreParty(ctx, "u2", meet, ""); return err }},
		{protocol.MethodClientInvite, &protocol.InviteParams{}, func() error { _, err := c.ClientInvite(ctx, "u2", meet, ""); return err }},
		{protocol.MethodCancelCallMoreParty, &protocol.CancelInviteParams{}, func() error { return c.CancelCallMoreParty(ctx, "i1", "") }},
		{protocol.MethodClientCancelInvite, &protocol.CancelInviteParams{}, func() error { return c.ClientCancelInvite(ctx, "i1") }},
	}
	for _, tc := range cases {
		errc := make(chan error, 1)
		go func() { errc <- tc.call() }()
		r := nc.recvMethod(tc.method)
		if err := protocol.DecodeParams(r.msg.Params, tc.params); err != nil {
			t.Errorf("%s: node would refuse params %s: %v", tc.method, r.msg.Params, err)
		}
		nc.reply(r.msg.ID, map[string]any{})
		if err := <-errc; err != nil {
			t.Errorf("%s: %v", tc.method, err)
		}
	}
}

func TestInviteIDs(t *testing.T) {
	node := newFakeNode(t)
	c, nc := node.dial(Options{})
	got := make(chan string, 1)
	go func() {
		id, _ := c.ClientInvite(testCtx(t), "u2", nil, "x")
		got <- id
	}()
	r := nc.recvMethod(protocol.MethodClientInvite)
	var p protocol.InviteParams
	if err := protocol.DecodeParams(r.msg.Params, &p); err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(p.InviteID); err != nil || p.Called != "u2" || p.UsrExtDat != "x" {
		t.Errorf("params %+v", p)
	}
	nc.reply(r.msg.ID, protocol.InviteIDResult{InviteID: p.InviteID})
	if id := <-got; id != p.InviteID {
		t.Errorf("ClientInvite returned %q, sent %q", id, p.InviteID)
	}
}

// TestContextCancel checks that a cancelled request returns ctx.Err() and
// that its late response goes nowhere.
func TestContextCancel(t *testing.T) {
	node := newFakeNode(t)
	c, nc := node.dial(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Do(ctx, "slow", nil, nil) }()
	slow := nc.recvMethod("slow")
	cancel()
	select {
	case err := <-errc:
		if err != context.Canceled {
			t.Fatalf("Do = %v, want context.Canceled", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("cancelled request did not return")
	}
	if l := pendingLen(c); l != 0 {
		t.Errorf("%d requests still pending after cancel", l)
	}

	// The late response must not reach the next request.
	go func() {
		var res struct{ V string }
		err := c.Do(testCtx(t), "fast", nil, &res)
		if err == nil && res.V != "fast" {
			err = errors.New("got " + res.V)
		}
		errc <- err
	}()
	fast := nc.recvMethod("fast")
	nc.reply(slow.msg.ID, map[string]string{"v": "slow"})
	nc.reply(fast.msg.ID, map[string]string{"v": "fast"})
	if err := <-errc; err != nil {
		t.Errorf("next request: %v", err)
	}
	if err := c.Do(ctx, "after", nil, nil); err != context.Canceled {
		t.Errorf("Do with a cancelled ctx = %v", err)
	}
}

func TestDefaultRequestTimeout(t *testing.T) {
	node := newFakeNode(t)
	c, nc := node.dial(Options{RequestTimeout: 50 * time.Millisecond})
	start := time.Now()
	err := c.Do(context.Background(), "never", nil, nil)
	nc.recvMethod("never")
	if protocol.CodeOf(err) != protocol.NoServerRsp || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Do = %v, want code 202 and DeadlineExceeded", err)
	}
	if d := time.Since(start); d > testTimeout/2 {
		t.Errorf("timed out after %v", d)
	}
}

func TestDialFailure(t *testing.T) {
	node := newFakeNode(t)
	url := node.url()
	node.shutdown()
	_, err := Dial(testCtx(t), url, Options{})
	if protocol.CodeOf(err) != protocol.CreateConnFailed {
		t.Errorf("Dial to a closed port = %v, want code 203", err)
	}
}

func TestDialHeader(t *testing.T) {
	node := newFakeNode(t)
	_, nc := node.dial(Options{Header: http.Header{"X-Crv-Test": {"yes"}}})
	if got := nc.header.Get("X-Crv-Test"); got != "yes" {
		t.Errorf("handshake header = %q", got)
	}
}
