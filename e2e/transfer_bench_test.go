package e2e

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/crvnode/crvnode/client"
	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/node"
)

// BenchmarkCmdDuringFile measures SendCmd latency (send → notifyCmdData)
// while a large file flows between the same two users through the node,
// against the same commands with no file flowing, in the same run.
//
//	go test ./e2e -run '^$' -bench CmdDuringFile -benchtime 200x
func BenchmarkCmdDuringFile(b *testing.B) {
	n := startMediaNode(b, node.FileConfig{})
	a, r := transferClient(b, n, "alice"), transferClient(b, n, "bob")
	idle := cmdLatencies(b, a, r, b.N)
	path, _ := writeRandomFile(b, 512<<20)
	ctx := ctxTimeout(b, 10*time.Minute)
	if _, err := a.SendFile(ctx, "bob", path); err != nil {
		b.Fatal(err)
	}
	a.expect(client.EventSendProgress, func(d any) bool { return d.(*datachannel.Progress).Sent > 16<<20 }, time.Minute)
	b.ResetTimer()
	busy := cmdLatencies(b, a, r, b.N)
	b.StopTimer()
	b.ReportMetric(ms(pct(busy, 50)), "busy-p50-ms")
	b.ReportMetric(ms(pct(busy, 99)), "busy-p99-ms")
	b.ReportMetric(ms(pct(idle, 99)), "idle-p99-ms")
	b.Logf("SendCmd latency with a file flowing: p50 %v p99 %v; with nothing flowing: p50 %v p99 %v (%d commands each)",
		pct(busy, 50), pct(busy, 99), pct(idle, 50), pct(idle, 99), len(busy))
}

// cmdLatencies sends n commands, 20 ms apart, carrying their send time,
// and returns how long each took to reach the receiver's handler.
func cmdLatencies(b *testing.B, from, to *transferUser, n int) []time.Duration {
	ctx := ctxTimeout(b, 5*time.Minute)
	var out []time.Duration
	buf := make([]byte, 8)
	for i := 0; i < n; i++ {
		binary.BigEndian.PutUint64(buf, uint64(time.Now().UnixNano()))
		if _, err := from.SendCmd(ctx, "bob", buf); err != nil {
			b.Fatal(err)
		}
		d := to.expect(client.EventNotifyCmdData, nil, 10*time.Second).(*datachannel.CmdData)
		out = append(out, time.Since(time.Unix(0, int64(binary.BigEndian.Uint64(d.Data)))))
		time.Sleep(20 * time.Millisecond)
	}
	return out
}
