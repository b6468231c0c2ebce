package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/crvnode/crvnode/internal/loadgen"
)

// nodeBinary is the crvnode binary built once for the tests that run the
// node as a separate process (signals, restarts, RSS), with the race
// detector when the tests have it.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func nodeBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "crvnode-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "crvnode")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, "github.com/crvnode/crvnode/cmd/node")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a crvnode process listening on an ephemeral loopback port; it is
// killed at the test's end if still running.
type proc struct {
	*loadgen.Proc
	addr string // host:port
}

var listenRE = regexp.MustCompile(`msg="crvnode listening" http=http://(\S+)`)

// startProc runs the node binary with a data directory and extra args, and
// waits until it logs its listening address.
func startProc(t testing.TB, dataDir string, args ...string) *proc {
	t.Helper()
	all := append([]string{"-http", "127.0.0.1:0", "-rtc", "127.0.0.1:0", "-data", dataDir, "-turn", ""}, args...)
	p, err := loadgen.StartProc(context.Background(), loadgen.ProcSpec{Path: nodeBinary(t), Args: all, Ready: listenRE})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return &proc{Proc: p, addr: p.Addr()}
}

func (p *proc) log() string { return p.Logs() }

func (p *proc) wsURL() string { return "ws://" + p.addr + "/ws" }

// stop sends SIGTERM and returns how long the exit took and its error:
// nil only for a clean exit with status 0.
func (p *proc) stop() (time.Duration, error) {
	start := time.Now()
	err := p.Stop(15 * time.Second)
	if err == nil {
		err = p.Exited()
	}
	return time.Since(start), err
}

// rssBytes reads the process's resident set size from /proc.
func (p *proc) rssBytes() (int64, error) {
	u, err := p.Usage()
	return u.RSS, err
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
