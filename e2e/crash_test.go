package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the node's own pure-Go driver, to read its database after a crash

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/protocol"
)

// The crash tests kill a real node process with SIGKILL while it writes:
// meetings being created, DND values being set, a file being relayed. The
// node gets no chance to close its database or tell anyone; on a restart
// on the same data directory every meeting and DND value it acknowledged
// must be there, every stored row must be whole, and no partial file may
// carry a final name.

// crashConfig writes a configuration with the app acme and request limits
// high enough that the loops below are never throttled (error 8 would end
// them before the kill).
func crashConfig(t *testing.T) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "crvnode.yaml")
	must(t, os.WriteFile(cfg, []byte("apps:\n  - id: acme\n    secret: acme-secret\nlimits:\n  rate: 100000\n  burst: 100000\n"), 0o600))
	return cfg
}

// crashClient is a logged-in client of a node that is about to die. It
// does not resume: the node it would resume on is gone, so its pending
// requests fail at once with 207 rather than after the grace window.
type crashClient struct {
	*client.Client
	id      string
	dir     string // TransferDir
	events  chan client.Event
	dropped atomic.Int64
}

func crashLogin(t *testing.T, url, id string, signalingOnly bool) *crashClient {
	t.Helper()
	u := &crashClient{id: id, dir: t.TempDir(), events: make(chan client.Event, 1<<16)}
	c, err := client.Dial(ctxTimeout(t, eventWait), url, client.Options{
		NoResume:      true,
		SignalingOnly: signalingOnly,
		TransferDir:   u.dir,
		Handler: func(ev client.Event) {
			select {
			case u.events <- ev:
			default:
				u.dropped.Add(1)
			}
		},
	})
	must(t, err)
	u.Client = c
	t.Cleanup(func() { _ = c.Close() })
	if _, err := c.Login(ctxTimeout(t, eventWait), protocol.LoginParams{AppID: "acme", AppSecret: md5hex("acme-secret"),
		UserID: protocol.UserID(id), NickName: "Nick " + id}); err != nil {
		t.Fatalf("login %s: %v", id, err)
	}
	return u
}

// expect skips events until one named method for which match (if given)
// is true.
func (u *crashClient) expect(t *testing.T, method string, match func(any) bool, within time.Duration) any {
	t.Helper()
	return skipTo(t, u.events, u.id, method, match, within)
}

// killNode kills the node with SIGKILL and checks that it died of it.
func killNode(t *testing.T, p *proc) {
	t.Helper()
	p.Kill()
	err := p.Exited()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("node after SIGKILL: %v", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("node did not die of SIGKILL: %v", err)
	}
}

// waitFor polls cond until it holds, failing after within.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitGroup waits for wg, failing after within.
func waitGroup(t *testing.T, what string, wg *sync.WaitGroup, within time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		t.Fatalf("%s: not done within %v", what, within)
	}
}

// openNodeDB opens the node's database read-only and checks its integrity.
// The node is not running: this is the file as the crash left it (with
// its write-ahead log), as the next start will find it.
func openNodeDB(t *testing.T, dataDir string) *sql.DB {
	t.Helper()
	path := filepath.Join(dataDir, "crvnode.db")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database: %v", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	must(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	rows, err := db.Query(`PRAGMA integrity_check`)
	must(t, err)
	var report []string
	for rows.Next() {
		var line string
		must(t, rows.Scan(&line))
		report = append(report, line)
	}
	must(t, rows.Err())
	must(t, rows.Close())
	if len(report) != 1 || report[0] != "ok" {
		t.Fatalf("integrity_check: %q", report)
	}
	return db
}

// checkDataDir checks that the node's data directory holds only its
// database files (and the TURN secret): the node writes no transfer data,
// and nothing partial is left under any name.
func checkDataDir(t *testing.T, dataDir string) {
	t.Helper()
	entries, err := os.ReadDir(dataDir)
	must(t, err)
	for _, e := range entries {
		switch e.Name() {
		case "crvnode.db", "crvnode.db-wal", "crvnode.db-shm", "turn-secret":
		default:
			t.Errorf("unexpected file in the data directory after the crash: %s", e.Name())
		}
	}
}

// checkCleanStart checks that a restarted node logged no error.
func checkCleanStart(t *testing.T, p *proc) {
	t.Helper()
	if strings.Contains(p.log(), "level=ERROR") {
		t.Fatalf("restart logged errors:\n%s", p.log())
	}
}

var crashSubjectRE = regexp.MustCompile(`^crash (\w+) (\d+)$`)

// TestCrashMeetingCreation: creators make meetings as fast as they can and
// the node is killed among their requests. Every createMeeting that was
// answered is listed and enterable after the restart; a meeting whose
// answer was lost to the crash may exist too, whole, but only the one
// request each creator had in flight.
func TestCrashMeetingCreation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the node binary")
	}
	data, cfg := t.TempDir(), crashConfig(t)
	p := startProc(t, data, "-config", cfg)

	creators := []string{"alice", "bob", "carol", "dave"}
	type creatorState struct {
		sent  int // requests sent: subjects "crash <id> 0" .. "crash <id> sent-1"
		acked map[string]protocol.MeetInfo
		err   error // what ended the loop
	}
	states := make([]*creatorState, len(creators))
	clients := make([]*crashClient, len(creators))
	for i, id := range creators {
		states[i] = &creatorState{acked: map[string]protocol.MeetInfo{}}
		clients[i] = crashLogin(t, p.wsURL(), id, true)
	}
	var total atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range creators {
		wg.Add(1)
		go func(st *creatorState, c *crashClient) {
			defer wg.Done()
			<-start
			for n := 0; ; n++ {
				subject := fmt.Sprintf("crash %s %d", c.id, n)
				st.sent = n + 1
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				m, err := c.CreateMeeting(ctx, subject, n%2)
				cancel()
				if err != nil {
					st.err = err
					return
				}
				st.acked[subject] = m
				total.Add(1)
			}
		}(states[i], clients[i])
	}
	close(start)
	// Kill once a good number are acknowledged, while every creator has
	// a request on its way.
	waitFor(t, "acknowledged meetings", 60*time.Second, func() bool { return total.Load() >= 150 })
	killNode(t, p)
	waitGroup(t, "creators after the kill", &wg, 30*time.Second)

	acked := map[string]protocol.MeetInfo{}
	for i, st := range states {
		if protocol.CodeOf(st.err) != protocol.ConnectionLost {
			t.Fatalf("%s's loop ended with %v, want 207 from the kill", creators[i], st.err)
		}
		for s, m := range st.acked {
			acked[s] = m
		}
	}
	t.Logf("%d meetings acknowledged before the kill", len(acked))

	// The database as the crash left it: intact, every row whole.
	db := openNodeDB(t, data)
	rows, err := db.Query(`SELECT id, app_id, pswd, subject, pub_meet_url, creator, start_time FROM meetings`)
	must(t, err)
	stored := map[string]protocol.MeetInfo{}
	now := time.Now().Unix()
	for rows.Next() {
		var m protocol.MeetInfo
		var app string
		must(t, rows.Scan(&m.ID, &app, &m.Pswd, &m.Subject, &m.PubMeetURL, &m.Creator, &m.StartTime))
		sm := crashSubjectRE.FindStringSubmatch(m.Subject)
		if sm == nil {
			t.Fatalf("stored meeting with a subject nobody sent: %+v", m)
		}
		n, _ := strconv.Atoi(sm[2])
		ci := -1
		for i, id := range creators {
			if id == sm[1] {
				ci = i
			}
		}
		switch {
		case app != "acme", ci < 0, string(m.Creator) != sm[1]:
			t.Fatalf("stored meeting of the wrong app or creator: app %q %+v", app, m)
		case n >= states[ci].sent:
			t.Fatalf("stored meeting %+v was never asked for", m)
		case (n%2 == 1) != (m.Pswd != ""), m.Pswd != "" && strings.Trim(m.Pswd, "0123456789") != "":
			t.Fatalf("stored meeting %+v has a bad password for createPswd %d", m, n%2)
		case !strings.HasSuffix(m.PubMeetURL, fmt.Sprintf("/?meetID=%d", m.ID)):
			t.Fatalf("stored meeting %+v has a pubMeetUrl not its own", m)
		case m.StartTime <= 0 || m.StartTime > now || m.StartTime < now-600:
			t.Fatalf("stored meeting %+v has a bad start time", m)
		}
		if _, dup := stored[m.Subject]; dup {
			t.Fatalf("meeting %q stored twice", m.Subject)
		}
		stored[m.Subject] = m
	}
	must(t, rows.Err())
	must(t, rows.Close())
	must(t, db.Close())
	for s, m := range acked {
		if got, ok := stored[s]; !ok || got != m {
			t.Fatalf("acknowledged meeting %+v lost by the crash (stored: %+v, %v)", m, got, ok)
		}
	}
	for s, m := range stored {
		if _, ok := acked[s]; ok {
			continue
		}
		// Written but not answered: only the request in flight at the kill.
		sm := crashSubjectRE.FindStringSubmatch(s)
		n, _ := strconv.Atoi(sm[2])
		for i, id := range creators {
			if id == sm[1] && n != states[i].sent-1 {
				t.Fatalf("unacknowledged meeting %+v is not %s's last request (%d)", m, id, states[i].sent-1)
			}
		}
	}
	t.Logf("%d stored, %d of them answered only by the crash", len(stored), len(stored)-len(acked))
	checkDataDir(t, data)

	// The restarted node lists and opens every meeting it acknowledged.
	p2 := startProc(t, data, "-config", cfg)
	checkCleanStart(t, p2)
	ctx := ctxTimeout(t, 60*time.Second)
	// getMeetings lists the meetings the requesting user created: each
	// creator logs in again and finds its own.
	listed := map[string]protocol.MeetInfo{}
	for _, id := range creators {
		c := crashLogin(t, p2.wsURL(), id, true)
		list, err := c.GetMeetings(ctx)
		must(t, err)
		for _, m := range list {
			if string(m.Creator) != id {
				t.Fatalf("%s's getMeetings lists %+v", id, m)
			}
			listed[m.Subject] = m
		}
		must(t, c.Close())
	}
	if len(listed) != len(stored) {
		t.Fatalf("getMeetings after the restart lists %d meetings, the database holds %d", len(listed), len(stored))
	}
	w := crashLogin(t, p2.wsURL(), "watcher", true)
	subjects := make([]string, 0, len(acked))
	for s := range acked {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	for _, s := range subjects {
		m := acked[s]
		if got, ok := listed[s]; !ok || got != m {
			t.Fatalf("acknowledged meeting %+v listed after the restart as %+v (%v)", m, got, ok)
		}
		res, err := w.EnterMeeting(ctx, m.ID, m.Pswd, "")
		if err != nil {
			t.Fatalf("enter acknowledged meeting %+v after the restart: %v", m, err)
		}
		if res.MeetObj.ID != m.ID || res.MeetObj.Subject != m.Subject || res.MeetObj.Creator != m.Creator {
			t.Fatalf("entered %+v, want %+v", res.MeetObj, m)
		}
	}
	must(t, w.Close())
	if _, err := p2.stop(); err != nil {
		t.Fatalf("restarted node's exit: %v\n%s", err, p2.log())
	}
	db = openNodeDB(t, data) // and intact after a clean stop too
	must(t, db.Close())
}

// TestCrashDNDWrites: users set their DND value over and over, alternating
// it off (0) and on (a new value each time), and the node is killed among
// the writes. DND is stored and survives restarts (docs/protocol/
// signaling.md, setDNDStatus), so after the restart each user's DNDType is
// its last acknowledged value, or the one whose request was in flight at
// the kill: nothing older, nothing torn.
func TestCrashDNDWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the node binary")
	}
	data, cfg := t.TempDir(), crashConfig(t)
	p := startProc(t, data, "-config", cfg)

	users := []string{"erin", "frank", "grace"}
	value := func(n int) int { // the n-th value set, n from 1: 1, 0, 3, 0, 5, ...
		if n%2 == 0 {
			return 0
		}
		return n
	}
	type dndState struct {
		acked    int // the last acknowledged value; 0, a new user's, before any
		inFlight int // the value of the request that failed, if one did
		failed   bool
		err      error
	}
	states := make([]*dndState, len(users))
	clients := make([]*crashClient, len(users))
	for i, id := range users {
		states[i] = &dndState{}
		clients[i] = crashLogin(t, p.wsURL(), id, true)
	}
	var total atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range users {
		wg.Add(1)
		go func(st *dndState, c *crashClient) {
			defer wg.Done()
			<-start
			for n := 1; ; n++ {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				err := c.SetDNDStatus(ctx, value(n))
				cancel()
				if err != nil {
					st.inFlight, st.failed, st.err = value(n), true, err
					return
				}
				st.acked = value(n)
				total.Add(1)
			}
		}(states[i], clients[i])
	}
	close(start)
	waitFor(t, "acknowledged DND writes", 60*time.Second, func() bool { return total.Load() >= 200 })
	killNode(t, p)
	waitGroup(t, "DND writers after the kill", &wg, 30*time.Second)
	for i, st := range states {
		if protocol.CodeOf(st.err) != protocol.ConnectionLost {
			t.Fatalf("%s's loop ended with %v, want 207 from the kill", users[i], st.err)
		}
	}

	allowed := func(i, got int) bool {
		return got == states[i].acked || (states[i].failed && got == states[i].inFlight)
	}
	db := openNodeDB(t, data)
	rows, err := db.Query(`SELECT app_id, user_id, nick_name, dnd, last_login FROM users`)
	must(t, err)
	storedDND := map[string]int{}
	for rows.Next() {
		var app, id, nick string
		var dnd int
		var last int64
		must(t, rows.Scan(&app, &id, &nick, &dnd, &last))
		if app != "acme" || nick != "Nick "+id || last <= 0 {
			t.Fatalf("stored user row not whole: app %q user %q nick %q dnd %d last login %d", app, id, nick, dnd, last)
		}
		storedDND[id] = dnd
	}
	must(t, rows.Err())
	must(t, rows.Close())
	must(t, db.Close())
	if len(storedDND) != len(users) {
		t.Fatalf("stored users %v, want %v", storedDND, users)
	}
	for i, id := range users {
		got, ok := storedDND[id]
		if !ok || !allowed(i, got) {
			t.Fatalf("%s's stored DND %d (%v); last acknowledged %d, in flight %d", id, got, ok, states[i].acked, states[i].inFlight)
		}
		t.Logf("%s: last acknowledged %d, in flight %d, stored %d", id, states[i].acked, states[i].inFlight, got)
	}
	checkDataDir(t, data)

	// After the restart the node reports the stored values, to others
	// (the users offline) and to each user logging in again.
	p2 := startProc(t, data, "-config", cfg)
	checkCleanStart(t, p2)
	ctx := ctxTimeout(t, 30*time.Second)
	w := crashLogin(t, p2.wsURL(), "watcher", true)
	list, err := w.GetUserStatus(ctx)
	must(t, err)
	seen := map[string]protocol.UserStatus{}
	for _, s := range list {
		seen[string(s.UserID)] = s
	}
	for _, id := range users {
		if s, ok := seen[id]; !ok || s.DNDType != storedDND[id] || s.UserStatus != 0 {
			t.Fatalf("%s after the restart: %+v (%v), want offline with DND %d", id, s, ok, storedDND[id])
		}
	}
	for _, id := range users {
		u := crashLogin(t, p2.wsURL(), id, true)
		own, err := u.GetUserStatus(ctx)
		must(t, err)
		found := false
		for _, s := range own {
			if string(s.UserID) == id {
				found = true
				if s.DNDType != storedDND[id] {
					t.Fatalf("%s logged in again with DND %d, stored %d", id, s.DNDType, storedDND[id])
				}
			}
		}
		if !found {
			t.Fatalf("%s missing from its own getUserStatus", id)
		}
		must(t, u.Close())
	}
	must(t, w.Close())
	if _, err := p2.stop(); err != nil {
		t.Fatalf("restarted node's exit: %v\n%s", err, p2.log())
	}
}

// finalNames splits the files in dir into those under a final name and
// the hidden partial files the receiver writes into (".crv-<hex>.part").
func finalNames(t *testing.T, dir string) (final, parts []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".crv-") && strings.HasSuffix(e.Name(), ".part") {
			parts = append(parts, e.Name())
		} else {
			final = append(final, e.Name())
		}
	}
	return final, parts
}

// TestCrashFileTransfer: a file relayed by the node from alice to bob,
// and the node killed mid-file. The node keeps no transfer data of its
// own (it relays frames from memory); the receiving client writes into a
// hidden .part file and gives it its name only once verified. So bob has
// no file under a final name, none at all once his client has stopped, no
// notifyFileData; alice's session ends with lineOff 207 and her transfer
// never reports success. The node starts again and relays a whole file.
func TestCrashFileTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the node binary")
	}
	data, cfg := t.TempDir(), crashConfig(t)
	p := startProc(t, data, "-config", cfg)
	ctx := ctxTimeout(t, 90*time.Second)
	alice := crashLogin(t, p.wsURL(), "alice", false)
	bob := crashLogin(t, p.wsURL(), "bob", false)
	for _, u := range []*crashClient{alice, bob} {
		// Wait for the transfer channel: until then nobody can send to u.
		_, err := u.SendCmd(ctx, "nobody", []byte("warm-up"))
		if err != nil && protocol.CodeOf(err) != protocol.SendDataTargetInvalid {
			t.Fatalf("%s: transfer channel: %v", u.id, err)
		}
		u.expect(t, client.EventSendCmdRlst, nil, 10*time.Second)
	}

	const size = 16 << 20
	path, _ := writeRandomFile(t, size)
	id, err := alice.SendFile(ctx, "bob", path)
	must(t, err)
	// Past the first window, so that bob has written a part of it.
	alice.expect(t, client.EventSendProgress, func(d any) bool {
		pr := d.(*datachannel.Progress)
		return string(pr.TaskID) == id && pr.Sent > 512<<10
	}, 60*time.Second)
	if final, parts := finalNames(t, bob.dir); len(final) != 0 || len(parts) != 1 {
		t.Fatalf("bob's directory mid-file: final %v, partial %v; want one partial file only", final, parts)
	} else if fi, err := os.Stat(filepath.Join(bob.dir, parts[0])); err != nil || fi.Size() < 512<<10 {
		t.Fatalf("bob's partial file mid-file: %v, %v; want what alice's progress says he took", fi, err)
	}
	killNode(t, p)

	// Both sessions end with the connection lost; bob never names the file.
	deadline := time.After(30 * time.Second)
	for _, u := range []*crashClient{alice, bob} {
		select {
		case <-u.Done():
		case <-deadline:
			t.Fatalf("%s's session outlived the node", u.id)
		}
	}
	var aliceResult *datachannel.Result
	lineOff := map[string]protocol.Code{}
	for _, u := range []*crashClient{alice, bob} {
		if n := u.dropped.Load(); n != 0 {
			t.Fatalf("%s dropped %d events", u.id, n)
		}
	drain:
		for {
			select {
			case ev := <-u.events:
				switch e := ev.Data.(type) {
				case *protocol.LineOff:
					lineOff[u.id] = e.SdkEr
				case *datachannel.FileData:
					t.Fatalf("%s got notifyFileData %+v from a transfer cut by the crash", u.id, e)
				case *datachannel.Result:
					if string(e.TaskID) == id {
						aliceResult = e
					}
				}
			default:
				break drain
			}
		}
		if final, _ := finalNames(t, u.dir); len(final) != 0 {
			t.Fatalf("%s's directory has files under a final name after the crash: %v", u.id, final)
		}
	}
	for _, u := range []*crashClient{alice, bob} {
		if lineOff[u.id] != protocol.ConnectionLost {
			t.Fatalf("%s: lineOff %d, want 207", u.id, lineOff[u.id])
		}
	}
	// Her transfer fails too, with 1000, before her lineOff: the client
	// closes media (which fails the task) before it reports the end.
	if aliceResult == nil || aliceResult.Code != protocol.SendFail {
		t.Fatalf("alice's transfer cut by the crash: %+v, want 1000", aliceResult)
	}
	t.Logf("alice's sendFileRlst after the crash: %+v", aliceResult)

	// Once bob's client has stopped, its partial file is gone too.
	must(t, bob.Close())
	if final, parts := finalNames(t, bob.dir); len(final) != 0 || len(parts) != 0 {
		t.Fatalf("bob's directory after his client stopped: final %v, partial %v", final, parts)
	}
	must(t, alice.Close())
	checkDataDir(t, data)
	db := openNodeDB(t, data)
	must(t, db.Close())

	// The node starts again on the same data and relays a whole file.
	p2 := startProc(t, data, "-config", cfg)
	checkCleanStart(t, p2)
	a2 := crashLogin(t, p2.wsURL(), "alice", false)
	b2 := crashLogin(t, p2.wsURL(), "bob", false)
	for _, u := range []*crashClient{a2, b2} {
		_, err := u.SendCmd(ctx, "nobody", []byte("warm-up"))
		if err != nil && protocol.CodeOf(err) != protocol.SendDataTargetInvalid {
			t.Fatalf("%s: transfer channel: %v", u.id, err)
		}
		u.expect(t, client.EventSendCmdRlst, nil, 10*time.Second)
	}
	small, sum := writeRandomFile(t, 1<<20)
	id, err = a2.SendFile(ctx, "bob", small)
	must(t, err)
	match := func(d any) bool {
		switch e := d.(type) {
		case *datachannel.Result:
			return string(e.TaskID) == id
		case *datachannel.FileData:
			return string(e.TaskID) == id
		}
		return false
	}
	if r := a2.expect(t, client.EventSendFileRlst, match, 30*time.Second).(*datachannel.Result); r.Code != protocol.NoErr {
		t.Fatalf("transfer after the restart: %+v", r)
	}
	f := b2.expect(t, client.EventNotifyFileData, match, 10*time.Second).(*datachannel.FileData)
	if fileHash(t, f.Path) != sum || filepath.Dir(f.Path) != b2.dir {
		t.Fatalf("file after the restart %+v arrived changed or elsewhere", f)
	}
	must(t, a2.Close())
	must(t, b2.Close())
	if _, err := p2.stop(); err != nil {
		t.Fatalf("restarted node's exit: %v\n%s", err, p2.log())
	}
}
