package e2e

import (
	"encoding/binary"
	"fmt"
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

// BenchmarkFirstCmdCold measures the first SendCmd between users whose up
// connections are closed (send → notifyCmdData: the sender opens its
// connection, the node wakes the receiver with upNeeded, the receiver opens
// its own, then the command goes), against a command to a cold receiver
// from a warm sender, and the next command once both are warm, in the
// same run. Each iteration is a fresh pair of users.
//
//	go test ./e2e -run '^$' -bench FirstCmdCold -benchtime 50x
func BenchmarkFirstCmdCold(b *testing.B) {
	n := startMediaNode(b, node.FileConfig{})
	url := "ws://" + n.Addr() + "/ws"
	var cold, coldRecv, warm []time.Duration
	one := func(from, to *transferUser) time.Duration {
		ctx := ctxTimeout(b, 30*time.Second)
		start := time.Now()
		if _, err := from.SendCmd(ctx, to.UserID(), []byte("x")); err != nil {
			b.Fatal(err)
		}
		to.expect(client.EventNotifyCmdData, nil, 20*time.Second)
		return time.Since(start)
	}
	b.ResetTimer()
	for i := range b.N {
		a := coldTransferClient(b, url, fmt.Sprintf("a%d", i), client.Options{})
		r := coldTransferClient(b, url, fmt.Sprintf("r%d", i), client.Options{})
		r2 := coldTransferClient(b, url, fmt.Sprintf("s%d", i), client.Options{})
		cold = append(cold, one(a, r))
		coldRecv = append(coldRecv, one(a, r2))
		warm = append(warm, one(a, r))
		_ = a.Close()
		_ = r.Close()
		_ = r2.Close()
	}
	b.StopTimer()
	b.ReportMetric(ms(pct(cold, 50)), "cold-p50-ms")
	b.ReportMetric(ms(pct(cold, 99)), "cold-p99-ms")
	b.ReportMetric(ms(pct(coldRecv, 50)), "coldrecv-p50-ms")
	b.ReportMetric(ms(pct(warm, 50)), "warm-p50-ms")
	b.Logf("first SendCmd, both cold: p50 %v p99 %v; cold receiver only: p50 %v p99 %v; both warm: p50 %v p99 %v (%d pairs)",
		pct(cold, 50), pct(cold, 99), pct(coldRecv, 50), pct(coldRecv, 99), pct(warm, 50), pct(warm, 99), len(cold))
}
