package redistest

import (
	"testing"
	"time"
)

func TestLifecycle(t *testing.T) {
	s := Start(t)
	if err := ping(s.Addr()); err != nil {
		t.Fatalf("after Start: %v", err)
	}

	s.Stop()
	if err := ping(s.Addr()); err == nil {
		t.Fatal("a stopped server answered PING")
	}
	s.Cont()
	if err := ping(s.Addr()); err != nil {
		t.Fatalf("after Cont: %v", err)
	}

	s.Kill()
	if err := ping(s.Addr()); err == nil {
		t.Fatal("a killed server answered PING")
	}
	s.Restart()
	if err := ping(s.Addr()); err != nil {
		t.Fatalf("after Restart: %v", err)
	}

	// A stopped server is killed by Restart and by the cleanup alike.
	s.Stop()
	start := time.Now()
	s.Restart()
	if err := ping(s.Addr()); err != nil {
		t.Fatalf("after Restart of a stopped server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Restart of a stopped server took %v", d)
	}
	s.Stop()
}
