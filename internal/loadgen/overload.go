package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/protocol"
)

// Overload configures `crvload overload`: a probe user makes a cheap
// request every ProbeEvery while, phase after phase, others abuse the
// node; the node must stay responsive to the probe.
type Overload struct {
	URL    string
	App    string
	Secret string

	Phase      time.Duration // each phase (default 10 s)
	ProbeEvery time.Duration // default 50 ms
	// Connections is how many connections the flood opens: past the
	// node's maxConnections (what is left of it is what the node serves).
	Connections int
	RateUsers   int // users sending requests as fast as they can (default 4)
	SlowReaders int // users who watch presence and never read (default 20)
	Progress    func(format string, args ...any)
}

// Overload phases, in the order they run.
const (
	PhaseBaseline    = "baseline"
	PhaseConnections = "connections"
	PhaseRate        = "rate"
	PhaseSlowReaders = "slow-readers"
	PhaseRecovered   = "recovered"
)

// OverloadPhase is what the probe saw during one phase, and what the
// abuse achieved.
type OverloadPhase struct {
	Name        string         `json:"name"`
	Probe       Summary        `json:"probe"`
	ProbeErrors int            `json:"probeErrors"`
	Abuse       map[string]int `json:"abuse"` // what the attackers met: "refused 503", "closed 1008", ...
}

// OverloadReport is the phases of an overload run and its verdict.
type OverloadReport struct {
	URL      string          `json:"url"`
	Phases   []OverloadPhase `json:"phases"`
	Failures []string        `json:"failures"`
}

// Bound of the verdict: a phase's probe p99 may be this many times the
// baseline's, or overloadSlack above it, whichever is more.
const (
	overloadRatio = 10
	overloadSlack = 100 * time.Millisecond
)

func (o *Overload) defaults() {
	if o.Phase <= 0 {
		o.Phase = 10 * time.Second
	}
	if o.ProbeEvery <= 0 {
		o.ProbeEvery = 50 * time.Millisecond
	}
	if o.Connections <= 0 {
		o.Connections = 600
	}
	if o.RateUsers <= 0 {
		o.RateUsers = 4
	}
	if o.SlowReaders <= 0 {
		o.SlowReaders = 20
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
}

// RunOverload runs the phases and judges the probe's latency and errors.
func RunOverload(ctx context.Context, o Overload) (*OverloadReport, error) {
	o.defaults()
	probe, err := client.Dial(ctx, o.URL, client.Options{SignalingOnly: true})
	if err != nil {
		return nil, err
	}
	defer probe.Close()
	if _, err := probe.Login(ctx, protocol.LoginParams{AppID: o.App, AppSecret: MD5Hex(o.Secret), UserID: "probe", NickName: "probe"}); err != nil {
		return nil, err
	}
	rep := &OverloadReport{URL: o.URL}
	phases := []struct {
		name  string
		abuse func(ctx context.Context, tally *abuseTally)
	}{
		{PhaseBaseline, nil},
		{PhaseConnections, o.flood},
		{PhaseRate, o.rateAbuse},
		{PhaseSlowReaders, o.slowReaders},
		{PhaseRecovered, nil},
	}
	for _, ph := range phases {
		o.Progress("phase %s (%v)", ph.name, o.Phase)
		res, err := o.phase(ctx, probe, ph.name, ph.abuse)
		if err != nil {
			return rep, err
		}
		rep.Phases = append(rep.Phases, res)
		o.Progress("  probe p50 %v p99 %v max %v, %d errors; abuse %v", res.Probe.P50, res.Probe.P99, res.Probe.Max, res.ProbeErrors, res.Abuse)
	}
	base := rep.Phases[0].Probe.P99
	limit := max(base*overloadRatio, base+overloadSlack)
	for _, ph := range rep.Phases {
		if ph.ProbeErrors > 0 {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %d probe requests failed", ph.Name, ph.ProbeErrors))
		}
		if ph.Probe.P99 > limit {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: probe p99 %v, above %v (baseline p99 %v)", ph.Name, ph.Probe.P99, limit, base))
		}
	}
	return rep, nil
}

// abuseTally counts what the attackers of a phase met.
type abuseTally struct {
	mu sync.Mutex
	m  map[string]int
}

func (t *abuseTally) add(what string, n int) {
	t.mu.Lock()
	t.m[what] += n
	t.mu.Unlock()
}

// phase runs the probe for o.Phase while abuse runs; abuse must return
// once its ctx ends, with everything it opened closed.
func (o *Overload) phase(ctx context.Context, probe *client.Client, name string, abuse func(context.Context, *abuseTally)) (OverloadPhase, error) {
	res := OverloadPhase{Name: name}
	tally := &abuseTally{m: map[string]int{}}
	pctx, cancel := context.WithTimeout(ctx, o.Phase)
	defer cancel()
	var wg sync.WaitGroup
	if abuse != nil {
		wg.Add(1)
		go func() { defer wg.Done(); abuse(pctx, tally) }()
		// Let the abuse build up before the probe's samples count.
		_ = sleepCtx(pctx, o.Phase/5)
	}
	var lat Hist
	tick := time.NewTicker(o.ProbeEvery)
	for pctx.Err() == nil {
		select {
		case <-pctx.Done():
		case <-tick.C:
			rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
			t0 := time.Now()
			_, err := probe.GetUserStatus(rctx)
			rcancel()
			if err != nil {
				res.ProbeErrors++
				continue
			}
			lat.Record(time.Since(t0))
		}
	}
	tick.Stop()
	wg.Wait()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	res.Probe = lat.Summary()
	res.Abuse = tally.m
	return res, nil
}

// rawConn is an attacker's WebSocket, spoken to without the SDK.
type rawConn struct {
	ws *websocket.Conn
	id int
}

func (o *Overload) dialRaw(ctx context.Context) (*rawConn, *http.Response, error) {
	return o.dialRawWith(ctx, &net.Dialer{})
}

// dialRawWith dials with nd; slow readers give it a tiny receive buffer,
// so that the node's side fills after a few messages, as behind a slow
// mobile link.
func (o *Overload) dialRawWith(ctx context.Context, nd *net.Dialer) (*rawConn, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, NetDialContext: nd.DialContext}
	ws, resp, err := d.DialContext(ctx, o.URL, nil)
	if err != nil {
		return nil, resp, err
	}
	return &rawConn{ws: ws}, resp, nil
}

func (c *rawConn) send(method string, params any) error {
	c.id++
	msg := map[string]any{"jsonrpc": "2.0", "id": c.id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(msg)
}

// call sends a request and reads until its response.
func (c *rawConn) call(method string, params any) (*protocol.Message, error) {
	if err := c.send(method, params); err != nil {
		return nil, err
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer c.ws.SetReadDeadline(time.Time{})
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		var m protocol.Message
		if json.Unmarshal(data, &m) == nil && m.IsResponse() && string(m.ID) == strconv.Itoa(c.id) {
			if m.Error != nil {
				return &m, m.Error
			}
			return &m, nil
		}
	}
}

func (o *Overload) loginRaw(ctx context.Context, userID string, nd *net.Dialer) (*rawConn, error) {
	c, _, err := o.dialRawWith(ctx, nd)
	if err != nil {
		return nil, err
	}
	if _, err := c.call(protocol.MethodLogin, protocol.LoginParams{AppID: o.App, AppSecret: MD5Hex(o.Secret), UserID: userID, NickName: userID}); err != nil {
		_ = c.ws.Close()
		return nil, err
	}
	return c, nil
}

// closeCode names how a connection ended.
func closeCode(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return "closed " + strconv.Itoa(ce.Code)
	}
	return "ended"
}

// flood opens o.Connections connections that never log in, holding those
// the node accepts until the phase ends (or the node's login time closes
// them).
func (o *Overload) flood(ctx context.Context, t *abuseTally) {
	var mu sync.Mutex
	var open []*rawConn
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for range o.Connections {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, resp, err := o.dialRaw(ctx)
			switch {
			case err == nil:
				t.add("accepted", 1)
				mu.Lock()
				open = append(open, c)
				mu.Unlock()
			case resp != nil:
				t.add("refused "+strconv.Itoa(resp.StatusCode), 1)
			default:
				t.add("dial failed", 1)
			}
		}()
	}
	wg.Wait()
	<-ctx.Done()
	for _, c := range open {
		_ = c.ws.Close()
	}
}

// rateAbuse logs in o.RateUsers users who send requests without waiting
// for answers, at 40 times the node's default per-connection rate, until
// the node drops them or the phase ends; each dropped user logs in again.
func (o *Overload) rateAbuse(ctx context.Context, t *abuseTally) {
	var wg sync.WaitGroup
	for i := range o.RateUsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				c, err := o.loginRaw(ctx, "flooder"+strconv.Itoa(i), &net.Dialer{})
				if err != nil {
					t.add("login failed", 1)
					_ = sleepCtx(ctx, 100*time.Millisecond)
					continue
				}
				var refused atomic.Int64
				readDone := make(chan error, 1)
				go func() {
					for {
						_, data, err := c.ws.ReadMessage()
						if err != nil {
							readDone <- err
							return
						}
						var m protocol.Message
						if json.Unmarshal(data, &m) == nil && m.Error != nil {
							refused.Add(1)
						}
					}
				}()
				stop := context.AfterFunc(ctx, func() { _ = c.ws.Close() })
				// 20 requests every 10 ms: 2,000/s, 40 times the node's
				// default rate, without the flood using up the machine.
				tick := time.NewTicker(10 * time.Millisecond)
			flood:
				for ctx.Err() == nil {
					for range 20 {
						if c.send(protocol.MethodGetUserStatus, protocol.Empty{}) != nil {
							break flood
						}
						t.add("requests sent", 1)
					}
					select {
					case <-tick.C:
					case <-ctx.Done():
					}
				}
				tick.Stop()
				err = <-readDone
				stop()
				_ = c.ws.Close()
				t.add("requests refused", int(refused.Load()))
				if ctx.Err() == nil {
					t.add(closeCode(err), 1)
				}
			}
		}()
	}
	wg.Wait()
}

// slowReaders logs in o.SlowReaders users who watch presence and sit in
// a meeting, then never read, with a tiny TCP receive buffer, while a host
// sends the largest meeting messages and churners flip their DND as fast as the
// node lets them: each is an event for every reader, which the slow ones
// never take. The node must drop them (1013) and serve the rest as before.
func (o *Overload) slowReaders(ctx context.Context, t *abuseTally) {
	var readers []*rawConn
	defer func() {
		// What the node did with them: read what is left up to its close.
		var wg sync.WaitGroup
		for _, c := range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				for err == nil {
					_ = c.ws.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
					_, _, err = c.ws.ReadMessage()
				}
				t.add("reader "+closeCode(err), 1)
				_ = c.ws.Close()
			}()
		}
		wg.Wait()
	}()
	small := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	// The meeting whose messages the readers get: 16 KiB each, so that
	// the node's buffers for them fill within the phase.
	host, err := client.Dial(ctx, o.URL, client.Options{SignalingOnly: true})
	if err != nil {
		t.add("host dial failed", 1)
		return
	}
	defer host.Close()
	if _, err := host.Login(ctx, protocol.LoginParams{AppID: o.App, AppSecret: MD5Hex(o.Secret), UserID: "host", NickName: "host"}); err != nil {
		t.add("host login failed", 1)
		return
	}
	meet, err := host.CreateMeeting(ctx, "overload", 0)
	if err == nil {
		_, err = host.EnterMeeting(ctx, meet.ID, meet.Pswd, "")
	}
	if err != nil {
		t.add("host meeting failed", 1)
		return
	}
	for i := range o.SlowReaders {
		id := "slow" + strconv.Itoa(i)
		c, err := o.loginRaw(ctx, id, small)
		if err != nil {
			t.add("login failed", 1)
			continue
		}
		readers = append(readers, c)
		if _, err := c.call(protocol.MethodStartUserStatusNotify, protocol.Empty{}); err != nil {
			t.add("startUserStatusNotify failed", 1)
		}
		if _, err := c.call(protocol.MethodEnterMeeting, protocol.EnterMeetingParams{MeetID: meet.ID, Pswd: meet.Pswd, UserID: id, NickName: id}); err != nil {
			t.add("enterMeeting failed", 1)
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		msg := strings.Repeat("x", 16<<10) // the largest the node relays
		for ctx.Err() == nil {
			if err := host.SendMeetingCustomMsg(ctx, msg); err != nil {
				if ctx.Err() == nil {
					t.add("meeting message refused", 1)
					_ = sleepCtx(ctx, 50*time.Millisecond)
				}
				continue
			}
			t.add("meeting messages", 1)
		}
	}()
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			churn, err := client.Dial(ctx, o.URL, client.Options{SignalingOnly: true})
			if err != nil {
				t.add("churner dial failed", 1)
				return
			}
			defer churn.Close()
			id := "churner" + strconv.Itoa(i)
			if _, err := churn.Login(ctx, protocol.LoginParams{AppID: o.App, AppSecret: MD5Hex(o.Secret), UserID: id, NickName: id}); err != nil {
				t.add("churner login failed", 1)
				return
			}
			for n := 0; ctx.Err() == nil; n++ {
				if err := churn.SetDNDStatus(ctx, n%2); err != nil {
					if ctx.Err() == nil {
						t.add("churn refused", 1)
						_ = sleepCtx(ctx, 50*time.Millisecond)
					}
					continue
				}
				t.add("presence changes", 1)
			}
		}()
	}
	wg.Wait()
}
