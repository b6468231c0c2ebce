package loadgen

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// A result measured by another program (bench/livekit) reads back as it
// was written.
func TestSFUResultJSONRoundTrip(t *testing.T) {
	in := SFUResult{Server: ServerLiveKit, Subscribers: 3, Packets: 2550, CPUPerPacketUs: 82.35,
		Latency: Summary{Count: 1800, Mean: 754757 * time.Nanosecond, P50: 679936 * time.Nanosecond, P99: 1884160 * time.Nanosecond, Max: 2318006 * time.Nanosecond},
		Join:    Summary{Count: 3, P50: 2030043136 * time.Nanosecond}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out SFUResult
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Fatalf("got %+v, want %+v", out, in)
	}
}

func TestSFUBenchLiveKitNeedsCommand(t *testing.T) {
	b := SFUBench{Counts: []int{1}, Servers: []string{ServerLiveKit}}
	if err := b.defaults(); !errors.Is(err, ErrConfig) {
		t.Fatalf("defaults without LiveKitCmd: %v, want ErrConfig", err)
	}
	b.LiveKitCmd = []string{"crvload-livekit", "-livekit-server", "livekit-server"}
	if err := b.defaults(); err != nil {
		t.Fatal(err)
	}
}
