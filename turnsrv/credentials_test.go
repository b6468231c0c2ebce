package turnsrv

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

func TestCredentialsFormat(t *testing.T) {
	now := time.Unix(1_700_000_000, 500_000_000)
	user, pass, exp := Credentials(testSecret, "acme:alice", time.Hour, now)
	if user != "1700003600:acme:alice" {
		t.Errorf("username = %q", user)
	}
	if !exp.Equal(time.Unix(1_700_003_600, 0)) {
		t.Errorf("expires = %v", exp)
	}
	mac := hmac.New(sha1.New, testSecret)
	mac.Write([]byte(user))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); pass != want {
		t.Errorf("password = %q, want %q", pass, want)
	}
}

// pion's own TURN REST handler (written after coturn) derives the same
// long-term key from our credentials as our server does.
func TestCredentialsMatchPionTURNREST(t *testing.T) {
	s := &Server{set: &settings{Config: Config{Secret: testSecret, Realm: "crvnode"}}, now: time.Now,
		limiter: newLimiter()}
	user, pass, _ := Credentials(testSecret, "bob", time.Hour, time.Now())
	ra := &turn.RequestAttributes{Username: user, Realm: "crvnode", Method: stun.MethodAllocate}
	pionUser, pionKey, ok := turn.LongTermTURNRESTAuthHandler(string(testSecret),
		logging.NewDefaultLoggerFactory().NewLogger("test"))(ra)
	ourUser, ourKey, ourOK := s.authenticate(ra)
	if !ok || !ourOK || pionUser != "bob" || ourUser != "bob" {
		t.Fatalf("pion: %q %v; ours: %q %v", pionUser, ok, ourUser, ourOK)
	}
	if !slices.Equal(pionKey, ourKey) || !slices.Equal(ourKey, turn.GenerateAuthKey(user, "crvnode", pass)) {
		t.Error("keys differ")
	}
}

func TestParseUsername(t *testing.T) {
	for _, tc := range []struct {
		in   string
		exp  int64
		user string
		ok   bool
	}{
		{"1700000000:alice", 1700000000, "alice", true},
		{"1700000000:acme:alice", 1700000000, "acme:alice", true},
		{"0:a", 0, "a", true},
		{"alice", 0, "", false},
		{":alice", 0, "", false},
		{"1700000000:", 0, "", false},
		{"-5:alice", 0, "", false},
		{"+5:alice", 0, "", false},
		{"012:alice", 0, "", false},
		{"12a:alice", 0, "", false},
		{"9999999999999999999:alice", 0, "", false},
		{"1700000000:" + string(make([]byte, maxUsernameLen)), 0, "", false},
	} {
		exp, user, ok := parseUsername(tc.in)
		if ok != tc.ok || (ok && (exp.Unix() != tc.exp || user != tc.user)) {
			t.Errorf("parseUsername(%.30q) = %v, %q, %v", tc.in, exp.Unix(), user, ok)
		}
	}
}

// FuzzParseUsername: whatever a client sends, an accepted username is in
// the canonical form Credentials mints (decode → encode → same bytes).
func FuzzParseUsername(f *testing.F) {
	for _, s := range []string{"1700000000:alice", "0:a", "012:x", ":", "1:a:b", "-1:a", "10000000000:0",
		"99999999999999999999:a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		exp, user, ok := parseUsername(in)
		if !ok {
			return
		}
		if again := strconv.FormatInt(exp.Unix(), 10) + ":" + user; again != in {
			t.Fatalf("parse(%q) re-encodes as %q", in, again)
		}
		u, _, _ := Credentials(testSecret, user, time.Hour, exp.Add(-time.Hour))
		if u != in {
			t.Fatalf("Credentials gives %q for %q", u, in)
		}
	})
}

func TestExternalICEServers(t *testing.T) {
	if got := ExternalICEServers(nil, testSecret, "alice", time.Hour); got != nil {
		t.Errorf("no URLs gave %+v", got)
	}
	urls := []string{"turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349?transport=tcp"}
	got := ExternalICEServers(urls, testSecret, "alice", time.Hour)
	if len(got) != 1 || !slices.Equal(got[0].URLs, urls) {
		t.Fatalf("got %+v", got)
	}
	exp, user, ok := parseUsername(got[0].Username)
	if !ok || user != "alice" || time.Until(exp) < 59*time.Minute || time.Until(exp) > time.Hour {
		t.Errorf("username %q", got[0].Username)
	}
	if got[0].Credential != password64(testSecret, got[0].Username) {
		t.Error("credential does not verify")
	}
	urls[0] = "changed"
	if got[0].URLs[0] == "changed" {
		t.Error("result shares the caller's slice")
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, err := LoadOrCreateSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 64 {
		t.Errorf("secret is %d bytes, want 64 hex digits", len(first))
	}
	st, err := os.Stat(filepath.Join(dir, SecretFile))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	again, err := LoadOrCreateSecret(dir)
	if err != nil || string(again) != string(first) {
		t.Errorf("second load = %q, %v; want %q", again, err, first)
	}
	other, err := LoadOrCreateSecret(t.TempDir())
	if err != nil || string(other) == string(first) {
		t.Errorf("another directory gave %q, %v", other, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("data directory holds %d entries, want only the secret", len(entries))
	}
}

func TestLoadOrCreateSecretConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := LoadOrCreateSecret(dir)
			if err != nil {
				t.Error(err)
			}
			got[i] = string(s)
		})
	}
	wg.Wait()
	for _, s := range got[1:] {
		if s != got[0] {
			t.Fatalf("concurrent callers got different secrets: %q", got)
		}
	}
}

func TestLoadOrCreateSecretRefusesBadFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	for name, tc := range map[string]struct {
		content string
		mode    os.FileMode
	}{
		"readable by others": {"0123456789abcdef0123456789abcdef", 0o644},
		"too short":          {"short\n", 0o600},
		"empty":              {"", 0o600},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, SecretFile)
			if err := os.WriteFile(path, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadOrCreateSecret(dir); !errors.Is(err, ErrSecretFile) {
				t.Errorf("err = %v, want ErrSecretFile", err)
			}
		})
	}
	t.Run("operator's own", func(t *testing.T) {
		dir := t.TempDir()
		const own = "coturn-static-auth-secret-value"
		if err := os.WriteFile(filepath.Join(dir, SecretFile), []byte("  "+own+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := LoadOrCreateSecret(dir); err != nil || string(got) != own {
			t.Errorf("got %q, %v", got, err)
		}
	})
}

func TestPeerPolicy(t *testing.T) {
	def, err := newPeerPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	refused := []string{
		"127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"169.254.169.254", "100.64.0.1", "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250",
		"255.255.255.255", "240.0.0.1", "192.0.2.1", "198.18.0.1", "198.51.100.7", "203.0.113.9",
		"::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1", "fec0::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a00:1", "2002:7f00:1::1",
		"64:ff9b:1::1", "100::1", "2001::1",
	}
	allowed := []string{"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111",
		"::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"}
	for _, a := range refused {
		if def.permits(net.ParseIP(a)) {
			t.Errorf("%s permitted by default", a)
		}
	}
	for _, a := range allowed {
		if !def.permits(net.ParseIP(a)) {
			t.Errorf("%s refused by default", a)
		}
	}
	if def.permits(nil) {
		t.Error("nil IP permitted")
	}

	open, err := newPeerPolicy([]string{"127.0.0.0/8", " 10.0.0.5 ", "fd00::/8", "::ffff:192.168.0.0/112"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"127.0.0.1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "10.0.0.5", "fd00::1", "192.168.3.4"} {
		if !open.permits(net.ParseIP(a)) {
			t.Errorf("%s refused though allowed", a)
		}
	}
	for _, a := range []string{"10.0.0.6", "fc00::1", "169.254.1.1", "192.169.0.1"} {
		if open.permits(net.ParseIP(a)) != def.permits(net.ParseIP(a)) {
			t.Errorf("%s: allow list changed an address it does not hold", a)
		}
	}
	if _, err := newPeerPolicy([]string{"10.0.0.0/33"}); !errors.Is(err, ErrPeerCIDR) {
		t.Errorf("bad CIDR: %v", err)
	}
}
