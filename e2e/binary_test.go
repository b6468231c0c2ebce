package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// TestBinaryRestartAndShutdown runs the real binary: meetings survive a
// restart, SIGTERM tells clients (lineOff 206) and exits 0 promptly.
func TestBinaryRestartAndShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the node binary")
	}
	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "crvnode.yaml")
	must(t, os.WriteFile(cfg, []byte("apps:\n  - id: acme\n    secret: acme-secret\n"), 0o600))

	p := startProc(t, data, "-config", cfg)
	ctx := ctxTimeout(t, 20*time.Second)
	alice := loginAs(t, p.wsURL(), "acme", "acme-secret", "alice")
	meet, err := alice.CreateMeeting(ctx, "Survives restarts", 1)
	must(t, err)
	// Only the configured app exists: the demo app is gone.
	demo := connect(t, p.wsURL())
	if _, err := demo.Login(ctx, protocol.LoginParams{AppID: "demo", AppSecret: md5hex("demo"), UserID: "x", NickName: "x"}); protocol.CodeOf(err) != protocol.TokenAppIDNotExist {
		t.Fatalf("demo login with a configured app list: %v", err)
	}
	resp, err := http.Get("http://" + p.addr + "/metrics")
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "crvnode_sessions 1") || !strings.Contains(string(body), "crvnode_meetings 1") {
		t.Fatalf("metrics lack live gauges:\n%.2000s", body)
	}

	took, err := p.stop()
	if err != nil {
		t.Fatalf("exit: %v\n%s", err, p.log())
	}
	if took > 5*time.Second {
		t.Fatalf("shutdown took %v", took)
	}
	if off := alice.next(protocol.EventLineOff).(*protocol.LineOff); off.SdkEr != protocol.ForcedCloseConnection {
		t.Fatalf("lineOff %+v", off)
	}

	p2 := startProc(t, data, "-config", cfg)
	bob := loginAs(t, p2.wsURL(), "acme", "acme-secret", "bob")
	res, err := bob.EnterMeeting(ctx, meet.ID, meet.Pswd, "")
	must(t, err)
	if res.MeetObj.Subject != "Survives restarts" || res.MeetObj.Creator != "alice" {
		t.Fatalf("meeting after restart %+v", res.MeetObj)
	}
	list, err := bob.GetUserStatus(ctx)
	must(t, err)
	if len(list) != 2 || list[0] != (protocol.UserStatus{UserID: "alice"}) {
		t.Fatalf("users after restart %+v", list)
	}
	must(t, bob.Close())
	if _, err := p2.stop(); err != nil {
		t.Fatalf("exit: %v", err)
	}
}

// TestBinaryDefaults checks the no-config start: the demo app, with a
// warning in the log, and environment overrides of flags.
func TestBinaryDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the node binary")
	}
	t.Setenv("CRVNODE_DATA", "/nonexistent-overridden-by-flag")
	p := startProc(t, t.TempDir())
	if !strings.Contains(p.log(), "no apps configured") {
		t.Fatalf("no demo warning in:\n%s", p.log())
	}
	loginAs(t, p.wsURL(), "demo", "demo", "alice")
	resp, err := http.Get("http://" + p.addr + "/healthz")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

// TestBinaryPprofFlag checks that profiles are served only when asked for.
func TestBinaryPprofFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the node binary")
	}
	for _, on := range []bool{false, true} {
		args := []string{}
		if on {
			args = append(args, "-pprof")
		}
		p := startProc(t, t.TempDir(), args...)
		resp, err := http.Get("http://" + p.addr + "/debug/pprof/cmdline")
		must(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if served := resp.StatusCode == http.StatusOK && strings.Contains(string(body), "crvnode"); served != on {
			t.Fatalf("-pprof %v: /debug/pprof/cmdline answered %d %.60q", on, resp.StatusCode, body)
		}
		if _, err := p.stop(); err != nil {
			t.Fatal(err)
		}
	}
}
