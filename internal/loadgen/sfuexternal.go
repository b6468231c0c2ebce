package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/crvnode/crvnode/client"
)

// ServerLiveKit is livekit-server, measured by the bench/livekit program
// (a module of its own, so that LiveKit is no dependency of the node).
const ServerLiveKit = "livekit"

// SFUTarget is a server of the SFU bench driven by a program outside this
// package (bench/livekit): it starts the server, connects the publisher
// with this package's synthetic sources and the subscribers into the
// Receivers it is given, so that RunSFUTarget measures it as it measures
// crvnode and the baseline.
type SFUTarget interface {
	// Start runs the server process (StartProc).
	Start(ctx context.Context) (*Proc, error)
	// Publish connects the publisher: NewSFUSources' audio and video.
	Publish(ctx context.Context, bitrate, fps int) error
	// Subscribe connects subscriber i, whose tracks r records.
	Subscribe(ctx context.Context, i int, r *Receiver) (io.Closer, error)
	// Close disconnects the publisher.
	Close()
}

type externalTarget struct{ t SFUTarget }

func (e externalTarget) start(ctx context.Context) (*Proc, error) { return e.t.Start(ctx) }
func (e externalTarget) publish(ctx context.Context, bitrate, fps int) error {
	return e.t.Publish(ctx, bitrate, fps)
}
func (e externalTarget) subscribe(ctx context.Context, i int, r *Receiver) (io.Closer, error) {
	return e.t.Subscribe(ctx, i, r)
}
func (e externalTarget) close() { e.t.Close() }

// RunSFUTarget measures t as server with n subscribers, with b's load
// (bitrate, frame rate, window, settle, join timeout, concurrency): the
// same steps and figures as RunSFUBench's for crvnode and the baseline.
// b's counts, servers and binaries are ignored.
func RunSFUTarget(ctx context.Context, b SFUBench, server string, n int, t SFUTarget) (SFUResult, error) {
	if err := b.fill(); err != nil {
		return SFUResult{Server: server, Subscribers: n}, err
	}
	return b.runTarget(ctx, server, n, externalTarget{t})
}

// NewSFUSources are the publisher's sources in the SFU bench, for every
// server: synthetic Opus-framed audio, then synthetic VP8 video at bitrate
// and fps with paddingPercent of its packets padding only.
func NewSFUSources(bitrate, fps, paddingPercent int) []client.MediaSource {
	return []client.MediaSource{client.NewSyntheticAudio(), withPadding(client.NewSyntheticVideo(bitrate, fps, false), paddingPercent)}
}

// runLiveKit runs b.LiveKitCmd for n subscribers with b's load and reads
// its result; its standard error goes to Progress, line by line.
func (b *SFUBench) runLiveKit(ctx context.Context, n int) (SFUResult, error) {
	res := SFUResult{Server: ServerLiveKit, Subscribers: n}
	args := append(b.LiveKitCmd[1:len(b.LiveKitCmd):len(b.LiveKitCmd)],
		"-n", strconv.Itoa(n), "-bitrate", strconv.Itoa(b.Bitrate), "-fps", strconv.Itoa(b.FPS),
		"-window", b.Window.String(), "-settle", b.Settle.String(), "-join-timeout", b.JoinTimeout.String(),
		"-concurrency", strconv.Itoa(b.Concurrency), "-padding", strconv.Itoa(b.PaddingPercent))
	// The whole run, joins included, within a bound: a hung server or
	// client fails the bench instead of holding it.
	limit := 2*b.JoinTimeout + 2*b.Settle + b.Window + 3*time.Minute
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(cctx, b.LiveKitCmd[0], args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	// SIGKILL to the whole group: livekit-server is the program's child.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	var logs tailBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			logs.add(sc.Text())
			b.Progress("%s: %s", ServerLiveKit, sc.Text())
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	_ = pw.Close()
	<-done
	if err != nil {
		return res, fmt.Errorf("%w: %s: %w\n%s", ErrProcess, strings.Join(b.LiveKitCmd, " "), err, logs.String())
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return res, fmt.Errorf("%w: %s: its result: %w", ErrProcess, strings.Join(b.LiveKitCmd, " "), err)
	}
	return res, nil
}

// BuildLiveKitBench builds the bench/livekit program (a module of its
// own in the crvnode repository, LiveKit's SDK its dependency) into dir
// with `go build`. The working directory must be inside the crvnode
// module's checkout.
func BuildLiveKitBench(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("%w: go env GOMOD: %w", ErrProcess, err)
	}
	src := filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "bench", "livekit")
	if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
		return "", fmt.Errorf("%w: no bench/livekit module (run inside the crvnode checkout, or pass -livekit-bench): %w", ErrConfig, err)
	}
	path := filepath.Join(dir, "crvload-livekit")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", path, ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: go build ./bench/livekit: %v\n%s", ErrProcess, err, out)
	}
	return path, nil
}

// UnmarshalJSON reads what MarshalJSON writes, so that a result another
// program measured (bench/livekit) comes back whole.
func (s *Summary) UnmarshalJSON(b []byte) error {
	var v struct {
		Count  uint64  `json:"count"`
		MeanMs float64 `json:"meanMs"`
		P50Ms  float64 `json:"p50Ms"`
		P99Ms  float64 `json:"p99Ms"`
		MaxMs  float64 `json:"maxMs"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	d := func(ms float64) time.Duration { return time.Duration(math.Round(ms * float64(time.Millisecond))) }
	*s = Summary{Count: v.Count, Mean: d(v.MeanMs), P50: d(v.P50Ms), P99: d(v.P99Ms), Max: d(v.MaxMs)}
	return nil
}
