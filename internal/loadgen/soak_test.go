package loadgen

import (
	"context"
	"strings"
	"testing"

	"github.com/crvnode/crvnode/protocol"
)

// TestSoakVerdict checks what fails a soak: a node that does not settle,
// RSS that grows past the bound, and error codes a step should not see;
// and what does not: expected codes, and errors of steps the end of the
// run interrupted.
func TestSoakVerdict(t *testing.T) {
	flat := []Resources{{RSS: 100 << 20}, {RSS: 100 << 20}, {RSS: 101 << 20}, {RSS: 102 << 20}}
	grown := []Resources{{RSS: 100 << 20}, {RSS: 100 << 20}, {RSS: 150 << 20}, {RSS: 200 << 20}}
	for _, tc := range []struct {
		name    string
		settled bool
		during  []Resources
		errs    map[string]error // step → error
		fail    string           // "" : passes
	}{
		{"healthy", true, flat, map[string]error{StepAbrupt: protocol.Errorf(protocol.ConnectionLost, "cut")}, ""},
		{"not settled", false, flat, nil, "idle level"},
		{"RSS grows", true, grown, nil, "RSS grew"},
		{"unexpected code", true, flat, map[string]error{StepCall: protocol.Errorf(protocol.ServerException, "boom")}, "unexpected error ×1: call x: code 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &SoakReport{Codes: map[string]int{}, Unexpected: map[string]int{}, Example: map[string]string{},
				Settled: tc.settled, During: tc.during}
			r := &soakRun{s: &Soak{}, rep: rep}
			for step, err := range tc.errs {
				r.record(context.Background(), step, "x", err)
			}
			cancelled, cancel := context.WithCancel(context.Background())
			cancel()
			r.record(cancelled, StepCall, "x", protocol.Errorf(protocol.ServerException, "after the end"))
			r.judge()
			got := strings.Join(rep.Failures, "\n")
			if tc.fail == "" && got != "" || tc.fail != "" && !strings.Contains(got, tc.fail) {
				t.Errorf("failures %q, want %q", got, tc.fail)
			}
		})
	}
}
