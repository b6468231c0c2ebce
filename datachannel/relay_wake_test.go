package datachannel

import (
	"bytes"
	"testing"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// waker is a RelayConfig.Wake that records whom it was asked to wake.
type waker struct {
	asked chan peerKey
	ok    bool
}

// wantResult waits for the result of task id and checks its code.
func (c *client) wantResult(t *testing.T, id TaskID, code protocol.Code, within time.Duration) {
	t.Helper()
	if res := lastResult(t, c.rec.until(t, within, resultOf(id))); res.Code != code {
		t.Fatalf("task %s: result %v, want %v", id, res.Code, code)
	}
}

func newWaker(ok bool) *waker { return &waker{asked: make(chan peerKey, 16), ok: ok} }

func (w *waker) wake(app string, user UserID) bool {
	w.asked <- peerKey{app, user}
	return w.ok
}

func (w *waker) wantAsked(t *testing.T, want ...peerKey) {
	t.Helper()
	for _, k := range want {
		select {
		case got := <-w.asked:
			if got != k {
				t.Fatalf("woke %v, want %v", got, k)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%v was not woken", k)
		}
	}
	select {
	case got := <-w.asked:
		t.Fatalf("woke %v once more", got)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestWakeHoldsTasksUntilTheChannelComes: a command and a buffer to a
// user with no channel wake it once, wait, and are delivered in order when
// its channel attaches.
func TestWakeHoldsTasksUntilTheChannelComes(t *testing.T) {
	w := newWaker(true)
	r := newTestRelay(t, RelayConfig{Wake: w.wake})
	alice := newClient(t, r, "app", "alice", Config{}, 0)
	cmd, err := alice.ep.SendCmd("bob", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 600<<10) // more than one window: credit flows once bob is there
	buf, err := alice.ep.SendBuffer("bob", data)
	if err != nil {
		t.Fatal(err)
	}
	w.wantAsked(t, peerKey{"app", "bob"})
	if s := r.Stats(); s.Waiting != 1 || s.ActiveTasks != 2 || s.TasksStarted != 0 {
		t.Fatalf("while waiting: %+v", s)
	}
	alice.rec.none(t, 100*time.Millisecond)

	bob := newClient(t, r, "app", "bob", Config{}, 0)
	got := bob.rec.until(t, 10*time.Second, isType[*BufferData])
	if c, ok := got[0].(*CmdData); !ok || string(c.Data) != "hello" || c.From != "alice" {
		t.Fatalf("bob's first event: %s", describe(got))
	}
	if b := got[len(got)-1].(*BufferData); !bytes.Equal(b.Data, data) {
		t.Fatal("the buffer arrived changed")
	}
	for _, id := range []TaskID{cmd, buf} {
		alice.wantResult(t, id, protocol.NoErr, 10*time.Second)
	}
	waitIdle(t, r)
	if s := r.Stats(); s.Waiting != 0 || s.TasksStarted != 2 || s.BufferedBytes != 0 {
		t.Fatalf("after: %+v", s)
	}
}

// TestWakeTimesOut: a woken user whose channel never comes: 1102 for
// every task that waited, and nothing held.
func TestWakeTimesOut(t *testing.T) {
	w := newWaker(true)
	// Long enough for both tasks to reach the relay before it ends.
	r := newTestRelay(t, RelayConfig{Wake: w.wake, WakeTimeout: time.Second})
	alice := newClient(t, r, "app", "alice", Config{}, 0)
	cmd, _ := alice.ep.SendCmd("bob", []byte("hello"))
	buf, _ := alice.ep.SendBuffer("bob", []byte("data"))
	// The two results come in either order.
	want := map[TaskID]bool{cmd: true, buf: true}
	alice.rec.until(t, 5*time.Second, func(ev Event) bool {
		if res, ok := ev.(*Result); ok && want[res.TaskID] {
			if res.Code != protocol.SendDataTargetInvalid {
				t.Fatalf("task %s: result %v, want 1102", res.TaskID, res.Code)
			}
			delete(want, res.TaskID)
		}
		return len(want) == 0
	})
	w.wantAsked(t, peerKey{"app", "bob"})
	if s := r.Stats(); s.Waiting != 0 || s.ActiveTasks != 0 || s.BufferedBytes != 0 || s.TasksRefused != 2 {
		t.Fatalf("after: %+v", s)
	}
	// A channel that comes late gets nothing of them.
	bob := newClient(t, r, "app", "bob", Config{}, 0)
	bob.rec.none(t, 100*time.Millisecond)
}

// TestWakeRefusedAtOnce: a user who cannot be woken (not logged in) is
// refused at once, as without Wake.
func TestWakeRefusedAtOnce(t *testing.T) {
	w := newWaker(false)
	r := newTestRelay(t, RelayConfig{Wake: w.wake})
	alice := newClient(t, r, "app", "alice", Config{}, 0)
	start := time.Now()
	id, _ := alice.ep.SendCmd("nobody", []byte("x"))
	alice.wantResult(t, id, protocol.SendDataTargetInvalid, 5*time.Second)
	if d := time.Since(start); d > DefaultWakeTimeout/2 {
		t.Errorf("refused after %v: it waited", d)
	}
	w.wantAsked(t, peerKey{"app", "nobody"})
	if s := r.Stats(); s.Waiting != 0 || s.ActiveTasks != 0 {
		t.Fatalf("after: %+v", s)
	}
}

// TestWakeStaysInItsApp: a channel of the same user ID in another app
// does not take the tasks that wait for the sender's app.
func TestWakeStaysInItsApp(t *testing.T) {
	w := newWaker(true)
	r := newTestRelay(t, RelayConfig{Wake: w.wake, WakeTimeout: 300 * time.Millisecond})
	alice := newClient(t, r, "app", "alice", Config{}, 0)
	id, _ := alice.ep.SendCmd("bob", []byte("x"))
	w.wantAsked(t, peerKey{"app", "bob"})
	other := newClient(t, r, "other", "bob", Config{}, 0)
	alice.wantResult(t, id, protocol.SendDataTargetInvalid, 5*time.Second)
	other.rec.none(t, 50*time.Millisecond)
}

// TestAttachOpeningHoldsFramesUntilReady: frames for a channel attached
// before it opens wait for Ready, then go in order.
func TestAttachOpeningHoldsFramesUntilReady(t *testing.T) {
	r := newTestRelay(t, RelayConfig{})
	alice := newClient(t, r, "app", "alice", Config{}, 0)
	var sent [][]byte
	bob := r.AttachOpening("app", "bob", func(f []byte) error { sent = append(sent, f); return nil })
	defer bob.Close()
	for range 2 {
		if _, err := alice.ep.SendCmd("bob", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.Stats().ActiveTasks != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the commands did not reach the relay: %+v", r.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(sent) != 0 {
		t.Fatalf("%d frames sent before the channel was ready", len(sent))
	}
	bob.Ready()
	if len(sent) != 2 {
		t.Fatalf("%d frames sent once ready, want 2", len(sent))
	}
	for _, f := range sent {
		if fr, err := Decode(f); err != nil || fr.Type != TypeCmd {
			t.Fatalf("sent %v %v", fr.Type, err)
		}
	}
}

// TestWaitingTaskEnds: a task that ends while its receiver's channel is
// awaited (the sender cancels it, or goes away) leaves nothing behind: no
// frame for the channel when it comes, no stand-in waiting.
func TestWaitingTaskEnds(t *testing.T) {
	for _, end := range []string{"cancel", "sender gone"} {
		t.Run(end, func(t *testing.T) {
			w := newWaker(true)
			r := newTestRelay(t, RelayConfig{Wake: w.wake})
			alice := newClient(t, r, "app", "alice", Config{}, 0)
			id, err := alice.ep.SendBuffer("bob", randomBytes(t, 100<<10))
			if err != nil {
				t.Fatal(err)
			}
			if end == "cancel" {
				cmd, _ := alice.ep.SendCmd("bob", []byte("x")) // keeps a task waiting: not this one
				w.wantAsked(t, peerKey{"app", "bob"})
				if err := alice.ep.CancelSend(id); err != nil {
					t.Fatal(err)
				}
				deadline := time.Now().Add(5 * time.Second)
				for r.Stats().ActiveTasks != 1 {
					if time.Now().After(deadline) {
						t.Fatalf("the cancel did not reach the relay: %+v", r.Stats())
					}
					time.Sleep(5 * time.Millisecond)
				}
				bob := newClient(t, r, "app", "bob", Config{}, 0)
				if got := bob.rec.until(t, 5*time.Second, isType[*CmdData]); len(got) != 1 {
					t.Fatalf("bob got %s before the command", describe(got))
				}
				alice.rec.until(t, 5*time.Second, resultOf(cmd))
				bob.rec.none(t, 100*time.Millisecond)
			} else {
				w.wantAsked(t, peerKey{"app", "bob"})
				alice.close()
				waitIdle(t, r)
				if s := r.Stats(); s.Waiting != 0 {
					t.Fatalf("a stand-in waits with no task: %+v", s)
				}
				bob := newClient(t, r, "app", "bob", Config{}, 0)
				bob.rec.none(t, 200*time.Millisecond)
			}
			waitIdle(t, r)
			if s := r.Stats(); s.Waiting != 0 || s.BufferedBytes != 0 {
				t.Fatalf("after: %+v", s)
			}
		})
	}
}
