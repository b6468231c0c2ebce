package turnsrv

import (
	"net"
	"sync"
	"time"
)

// pendingTTL bounds how long a reservation waits for pion to report the
// allocation it admitted. pion creates an allocation synchronously right
// after asking the quota, so a reservation older than this was lost.
const pendingTTL = 30 * time.Second

// quota counts live allocations per user and in total, and admits new
// ones. Admission reserves a slot at once, so that concurrent Allocate
// requests (one goroutine per TCP connection in pion) cannot overshoot a
// limit between the check and the creation. pion then reports the outcome:
// created (the reservation becomes an allocation) or a request error on
// the same client address (the reservation is released).
type quota struct {
	perUser, total int

	mu      sync.Mutex
	users   map[string]int         // userID → live allocations + reservations
	used    int                    // live allocations + reservations
	live    int                    // live allocations
	pending map[string]reservation // client transport address → reservation
	drainCh chan struct{}          // closed when live reaches 0 after drain
}

type reservation struct {
	user string
	at   time.Time
}

func newQuota(perUser, total int) *quota {
	return &quota{perUser: perUser, total: total, users: map[string]int{}, pending: map[string]reservation{}}
}

// addrKey names a client transport address; UDP and TCP share port space
// in strings, so the network is part of the key.
func addrKey(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.Network() + " " + a.String()
}

// reserve admits one more allocation for user from client, or names the
// quota that refuses it.
func (q *quota) reserve(user string, client net.Addr, now time.Time) (refusal string, ok bool) {
	key := addrKey(client)
	q.mu.Lock()
	defer q.mu.Unlock()
	for k, r := range q.pending {
		if now.Sub(r.at) > pendingTTL || k == key {
			q.releaseLocked(k, r.user)
		}
	}
	switch {
	case q.used >= q.total:
		return reasonQuotaTotal, false
	case q.users[user] >= q.perUser:
		return reasonQuotaUser, false
	}
	q.users[user]++
	q.used++
	q.pending[key] = reservation{user: user, at: now}
	return "", true
}

// created records an allocation pion made, using the client's
// reservation if there is one.
func (q *quota) created(user string, client net.Addr) {
	key := addrKey(client)
	q.mu.Lock()
	defer q.mu.Unlock()
	if r, ok := q.pending[key]; ok && r.user == user {
		delete(q.pending, key)
	} else {
		q.users[user]++
		q.used++
	}
	q.live++
}

// failed releases the client's reservation after a failed request.
func (q *quota) failed(client net.Addr) {
	key := addrKey(client)
	q.mu.Lock()
	defer q.mu.Unlock()
	if r, ok := q.pending[key]; ok {
		q.releaseLocked(key, r.user)
	}
}

// deleted records the end of one of user's allocations.
func (q *quota) deleted(user string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dropLocked(user)
	q.live--
	if q.live == 0 && q.drainCh != nil {
		close(q.drainCh)
		q.drainCh = nil
	}
}

func (q *quota) releaseLocked(key, user string) {
	delete(q.pending, key)
	q.dropLocked(user)
}

func (q *quota) dropLocked(user string) {
	q.used--
	if q.users[user]--; q.users[user] <= 0 {
		delete(q.users, user)
	}
}

// allocations is the number of live allocations.
func (q *quota) allocations() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.live
}

// drained returns a channel closed once no allocation is live.
func (q *quota) drained() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	ch := make(chan struct{})
	if q.live == 0 {
		close(ch)
		return ch
	}
	if q.drainCh == nil {
		q.drainCh = ch
	}
	return q.drainCh
}
