package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/crvnode/crvnode/internal/loadgen"
)

// TestLiveKitForwards measures livekit-server with 3 subscribers: every
// one gets video and audio, intact. It needs the binary:
// CRVLOAD_LIVEKIT_SERVER=<path to livekit-server v1.13.5> go test .
func TestLiveKitForwards(t *testing.T) {
	bin := os.Getenv("CRVLOAD_LIVEKIT_SERVER")
	if bin == "" {
		t.Skip("CRVLOAD_LIVEKIT_SERVER is not set (a livekit-server v1.13.5 binary)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tgt := &target{bin: bin, dir: t.TempDir()}
	b := loadgen.SFUBench{Window: 2 * time.Second, Settle: time.Second, JoinTimeout: 30 * time.Second}
	res, err := loadgen.RunSFUTarget(ctx, b, loadgen.ServerLiveKit, 3, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Packets == 0 || res.Bad != 0 || res.CPUSeconds <= 0 || res.RSSLoadedBytes <= 0 {
		t.Fatalf("packets %d, bad %d, CPU %.2f s, RSS %d", res.Packets, res.Bad, res.CPUSeconds, res.RSSLoadedBytes)
	}
}
