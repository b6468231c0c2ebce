package turnsrv

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" // HMAC-SHA1: what the TURN REST scheme and coturn use
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/crvnode/crvnode/protocol"
)

// MinSecretLen is the shortest shared secret New and LoadOrCreateSecret
// accept, in bytes.
const MinSecretLen = 16

// SecretFile is the name of the file LoadOrCreateSecret keeps the secret
// in, inside the data directory.
const SecretFile = "turn-secret"

// maxUsernameLen is the STUN limit on USERNAME (RFC 8489 §14.3).
const maxUsernameLen = 512

// Credentials mints TURN credentials for userID in the TURN REST form
// (draft-uberti-behave-turn-rest) that coturn's use-auth-secret also
// accepts:
//
//	username = "<unix expiry>:<userID>"
//	password = base64(HMAC-SHA1(secret, username))
//
// They expire ttl after now, rounded down to the second. userID may
// contain ':' (the expiry ends at the first one, as in coturn), but it must
// not be empty, and the username must stay within STUN's 512 bytes: a
// server refuses either.
func Credentials(secret []byte, userID string, ttl time.Duration, now time.Time) (username, password string, expires time.Time) {
	expires = time.Unix(now.Add(ttl).Unix(), 0)
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + userID
	return username, password64(secret, username), expires
}

// password64 is the TURN REST password of username.
func password64(secret []byte, username string) string {
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// parseUsername splits a TURN REST username into its expiry and userID.
// Only the canonical form Credentials produces is accepted: a decimal
// expiry without sign or leading zeros, ':', and a non-empty userID.
func parseUsername(username string) (expires time.Time, userID string, ok bool) {
	if len(username) > maxUsernameLen {
		return time.Time{}, "", false
	}
	ts, userID, found := strings.Cut(username, ":")
	if !found || ts == "" || userID == "" || len(ts) > 18 || (ts[0] == '0' && len(ts) > 1) {
		return time.Time{}, "", false
	}
	for i := 0; i < len(ts); i++ {
		if ts[i] < '0' || ts[i] > '9' {
			return time.Time{}, "", false
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, "", false
	}
	return time.Unix(sec, 0), userID, true
}

// ExternalICEServers mints credentials valid for ttl from now for an
// external TURN fleet (coturn with use-auth-secret and
// static-auth-secret set to secret) and returns them with urls as one ICE
// server. It returns nil when urls is empty.
func ExternalICEServers(urls []string, secret []byte, userID string, ttl time.Duration) []protocol.ICEServer {
	if len(urls) == 0 {
		return nil
	}
	user, pass, _ := Credentials(secret, userID, ttl, time.Now())
	return []protocol.ICEServer{{URLs: append([]string(nil), urls...), Username: user, Credential: pass}}
}

// LoadOrCreateSecret returns the shared secret kept in
// <dataDir>/turn-secret, creating the file (mode 0600) with a new secret
// the first time. A new secret is 32 random bytes written as 64 hex
// digits, and the secret is that text (surrounding white space trimmed),
// so that the same value can be given to coturn's static-auth-secret. An
// operator may put their own secret in the file; it must be at least
// MinSecretLen bytes and readable by its owner only.
func LoadOrCreateSecret(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, SecretFile)
	secret, err := readSecret(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return secret, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("turnsrv: create %s: %w", dataDir, err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("turnsrv: generate secret: %w", err)
	}
	text := hex.EncodeToString(raw[:])
	if err := createExclusive(path, []byte(text+"\n")); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			return readSecret(path)
		}
		return nil, err
	}
	return []byte(text), nil
}

// readSecret reads and checks an existing secret file.
func readSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrSecretFile, path, err)
	} else if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %v; it must be readable by its owner only (chmod 600)",
			ErrSecretFile, path, st.Mode().Perm())
	}
	buf, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrSecretFile, path, err)
	}
	secret := []byte(strings.TrimSpace(string(buf)))
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("%w: %s holds %d bytes, want at least %d", ErrSecretFile, path, len(secret), MinSecretLen)
	}
	return secret, nil
}

// createExclusive writes data to path only if path does not exist, and
// never leaves a partly written file under that name: it writes a
// temporary file, syncs it, and links it into place.
func createExclusive(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+SecretFile+"-*")
	if err != nil {
		return fmt.Errorf("turnsrv: create secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("turnsrv: write secret: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// Some file systems have no hard links; rename is atomic too,
		// only not exclusive.
		if rerr := os.Rename(tmp.Name(), path); rerr != nil {
			return fmt.Errorf("turnsrv: install secret: %w", errors.Join(err, rerr))
		}
	}
	return nil
}
