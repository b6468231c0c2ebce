package turnsrv

import (
	"net"
	"testing"
	"time"
)

func udpAddr(port int) net.Addr { return &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: port} }

// Admission reserves a slot at once: requests admitted but not yet
// created count against the limits.
func TestQuotaReservations(t *testing.T) {
	q := newQuota(2, 3)
	now := time.Unix(1000, 0)
	for i, want := range []string{"", "", reasonQuotaUser} {
		if reason, _ := q.reserve("bob", udpAddr(i), now); reason != want {
			t.Fatalf("bob #%d: %q, want %q", i+1, reason, want)
		}
	}
	if reason, ok := q.reserve("carol", udpAddr(10), now); !ok {
		t.Fatalf("carol: %q", reason)
	}
	if reason, _ := q.reserve("dave", udpAddr(20), now); reason != reasonQuotaTotal {
		t.Fatalf("dave: %q, want %q", reason, reasonQuotaTotal)
	}

	q.created("bob", udpAddr(0)) // the reservation becomes the allocation
	q.failed(udpAddr(1))         // pion failed to allocate: released
	if q.allocations() != 1 || q.users["bob"] != 1 || q.used != 2 {
		t.Fatalf("live %d, bob %d, used %d; want 1, 1, 2", q.allocations(), q.users["bob"], q.used)
	}
	q.failed(udpAddr(0)) // an error on a live allocation's address releases nothing
	if q.used != 2 {
		t.Fatalf("used %d after a later error, want 2", q.used)
	}

	// A reservation pion never reported on expires.
	if _, ok := q.reserve("dave", udpAddr(20), now.Add(pendingTTL+time.Second)); !ok {
		t.Fatal("dave refused after the lost reservation expired")
	}
	if q.users["carol"] != 0 {
		t.Errorf("carol holds %d", q.users["carol"])
	}

	q.deleted("bob")
	select {
	case <-q.drained():
	default:
		t.Error("not drained with no live allocation")
	}
	if _, ok := q.users["bob"]; ok {
		t.Error("bob still counted")
	}
}

func TestQuotaDrained(t *testing.T) {
	q := newQuota(10, 10)
	q.created("bob", udpAddr(1))
	q.created("bob", udpAddr(2)) // no reservation: still counted
	ch := q.drained()
	q.deleted("bob")
	select {
	case <-ch:
		t.Fatal("drained with one allocation live")
	default:
	}
	q.deleted("bob")
	select {
	case <-ch:
	case <-time.After(testTimeout):
		t.Fatal("not drained")
	}
}
