package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is a bytes.Buffer safe for the node's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunUsesEnvironmentAndStopsCleanly(t *testing.T) {
	data := filepath.Join(t.TempDir(), "from-env")
	env := map[string]string{"CRVNODE_HTTP": "127.0.0.1:0", "CRVNODE_RTC": "127.0.0.1:0", "CRVNODE_DATA": data, "CRVNODE_TURN": ""}
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, &logs) }()
	for i := 0; !strings.Contains(logs.String(), "crvnode listening"); i++ {
		if i > 500 {
			t.Fatalf("node did not start:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "http=http://127.0.0.1:") {
		t.Fatalf("listening address not logged:\n%s", logs.String())
	}
	if _, err := os.Stat(filepath.Join(data, "crvnode.db")); err != nil {
		t.Fatalf("CRVNODE_DATA not used: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(cfg, []byte("apps:\n  - id: a\n    secert: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"-config", cfg, "-data", t.TempDir(), "-http", "127.0.0.1:0"},
		func(string) string { return "" }, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "secert") {
		t.Fatalf("misspelt key accepted: %v", err)
	}
	err = run(context.Background(), []string{"-nope"}, func(string) string { return "" }, &syncBuffer{})
	if err == nil {
		t.Fatal("unknown flag accepted")
	}
}
