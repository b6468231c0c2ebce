package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports (sysconf(_SC_CLK_TCK)
// needs cgo to ask).
const clockTicks = 100

// ProcSpec says how to start a server process.
type ProcSpec struct {
	Path string
	Args []string
	Env  []string // added to this process's environment
	// Ready matches the line (on stderr or stdout) that says the server
	// listens; its first group is the HTTP address (host:port).
	Ready   *regexp.Regexp
	Timeout time.Duration // to become ready; default 30 s
}

// Proc is a server process this tool started (a node or the baseline), so
// that its CPU time and memory are measured apart from the load.
type Proc struct {
	cmd  *exec.Cmd
	addr string
	logs tailBuffer
	done chan struct{} // closed when the process has exited
	err  error         // Wait's, set before done closes
}

// StartProc starts spec.Path and waits until it says it listens.
func StartProc(ctx context.Context, spec ProcSpec) (*Proc, error) {
	if spec.Timeout <= 0 {
		spec.Timeout = 30 * time.Second
	}
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = append(os.Environ(), spec.Env...)
	// The child dies with this process, even if it is killed without
	// the chance to clean up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrProcess, spec.Path, err)
	}
	ready := make(chan string, 1)
	go p.scan(pr, spec.Ready, ready)
	go func() {
		p.err = cmd.Wait()
		_ = pw.Close()
		close(p.done)
	}()
	t := time.NewTimer(spec.Timeout)
	defer t.Stop()
	select {
	case p.addr = <-ready:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%w: %s exited before listening: %v\n%s", ErrProcess, filepath.Base(spec.Path), p.err, p.Logs())
	case <-t.C:
		err := fmt.Errorf("%w: %s did not listen within %v\n%s", ErrProcess, filepath.Base(spec.Path), spec.Timeout, p.Logs())
		p.Kill()
		return nil, err
	case <-ctx.Done():
		p.Kill()
		return nil, ctx.Err()
	}
}

// scan keeps the output's tail and reports the listening address. It
// reads until the pipe closes, so the child never blocks on its output.
func (p *Proc) scan(r io.Reader, re *regexp.Regexp, ready chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	found := false
	for sc.Scan() {
		line := sc.Text()
		p.logs.add(line)
		if !found && re != nil {
			if m := re.FindStringSubmatch(line); m != nil {
				found = true
				ready <- m[1]
			}
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// Addr is the HTTP address the process listens on.
func (p *Proc) Addr() string { return p.addr }

// Pid is the process ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Logs returns the last lines the process wrote.
func (p *Proc) Logs() string { return p.logs.String() }

// Stop asks the process to exit (SIGTERM) and kills it after grace.
func (p *Proc) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		p.Kill()
		return fmt.Errorf("%w: pid %d ignored SIGTERM for %v", ErrProcess, p.Pid(), grace)
	}
}

// Exited waits for the process to end and returns how it ended: nil for
// exit status 0.
func (p *Proc) Exited() error {
	<-p.done
	return p.err
}

// Kill ends the process at once and waits for it.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Usage is a process's resource use at one moment.
type Usage struct {
	CPU time.Duration // user + system time since it started
	RSS int64         // resident set size, bytes
}

// Usage reads the process's CPU time and RSS from /proc.
func (p *Proc) Usage() (Usage, error) { return PidUsage(p.Pid()) }

// PidUsage reads a process's CPU time (/proc/<pid>/stat utime + stime) and
// resident set size (/proc/<pid>/status VmRSS).
func PidUsage(pid int) (Usage, error) {
	var u Usage
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return u, fmt.Errorf("%w: /proc/%d/stat: %q", ErrProcess, pid, s)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return u, fmt.Errorf("%w: /proc/%d/stat: %q", ErrProcess, pid, s)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return u, err
	}
	u.CPU = time.Duration(utime+stime) * time.Second / clockTicks
	b, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			kb, err := strconv.ParseInt(f[0], 10, 64)
			u.RSS = kb << 10
			return u, err
		}
	}
	return u, fmt.Errorf("%w: no VmRSS in /proc/%d/status", ErrProcess, pid)
}

// BuildNode builds the node binary (./cmd/node of this module) into dir
// with `go build`. The working directory must be inside the module.
func BuildNode(ctx context.Context, dir string) (string, error) {
	path := filepath.Join(dir, "crvnode")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", path, "github.com/crvnode/crvnode/cmd/node")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: go build ./cmd/node (run inside the crvnode module, or pass -node-bin): %v\n%s", ErrProcess, err, out)
	}
	return path, nil
}

// nodeReady matches the node's "crvnode listening" log line.
var nodeReady = regexp.MustCompile(`msg="crvnode listening" http=http://(\S+)`)

// StartNode runs a node binary on ephemeral loopback ports with its own
// data directory and config file (YAML text; "" for none), without TURN.
func StartNode(ctx context.Context, bin, dataDir, config string) (*Proc, error) {
	args := []string{"-http", "127.0.0.1:0", "-rtc", "127.0.0.1:0", "-turn", "", "-data", dataDir}
	if config != "" {
		path := filepath.Join(dataDir, "crvload.yaml")
		if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "-config", path)
	}
	return StartProc(ctx, ProcSpec{Path: bin, Args: args, Ready: nodeReady})
}

// tailBuffer keeps the last lines of a process's output, for errors.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
}

const tailLines = 40

func (b *tailBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.lines) == tailLines {
		copy(b.lines, b.lines[1:])
		b.lines = b.lines[:tailLines-1]
	}
	b.lines = append(b.lines, line)
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
