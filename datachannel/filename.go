package datachannel

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSafeNameLen bounds SafeName's result in bytes, leaving room under
// the usual 255-byte file name limit for a " (n)" suffix.
const MaxSafeNameLen = 200

// maxExtLen is the longest extension that survives truncation whole.
const maxExtLen = 16

// SafeName turns a file name a peer sent into one safe to create inside a
// directory: the last path element only (both / and \ separate), invalid
// UTF-8, control and format characters (bidi overrides) dropped,
// characters Windows forbids replaced by '_', leading dots and spaces
// and trailing dots and spaces trimmed (no hidden files, no "..", no
// "."), at most MaxSafeNameLen bytes keeping a short extension, and
// Windows device names (CON, NUL, COM1, ...) prefixed with '_'. What is
// left empty becomes "file".
func SafeName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
		case strings.ContainsRune(`<>:"|?*`, r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	s := trimName(b.String())
	if len(s) > MaxSafeNameLen {
		s = trimName(truncateName(s))
	}
	if s == "" {
		return "file"
	}
	if reservedName(s) {
		s = "_" + s
	}
	return s
}

func trimName(s string) string {
	return strings.TrimRight(strings.TrimLeft(s, ". \u3000"), ". \u3000")
}

// truncateName cuts s to MaxSafeNameLen bytes on a rune boundary, keeping
// its extension when that is short.
func truncateName(s string) string {
	ext := filepath.Ext(s)
	if len(ext) > maxExtLen || len(ext) == len(s) {
		ext = ""
	}
	base := s[:len(s)-len(ext)]
	n := MaxSafeNameLen - len(ext)
	for n > 0 && !utf8.RuneStart(base[n]) {
		n--
	}
	return base[:n] + ext
}

// reservedName reports Windows device names, which open a device instead
// of a file whatever their extension.
func reservedName(s string) bool {
	stem, _, _ := strings.Cut(s, ".")
	switch strings.ToUpper(strings.TrimRight(stem, " ")) {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	u := strings.ToUpper(stem)
	return len(u) == 4 && (strings.HasPrefix(u, "COM") || strings.HasPrefix(u, "LPT")) && u[3] >= '0' && u[3] <= '9'
}

// createPart creates a new hidden partial file in dir, readable by its
// owner only.
func createPart(dir string) (*os.File, error) {
	for range 10 {
		f, err := os.OpenFile(filepath.Join(dir, ".crv-"+randomHex(8)+".part"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("datachannel: no free partial file name in %s", dir)
}

// finalize gives a complete, verified part file its final name inside
// dir: SafeName(name), or "stem (n).ext" if taken. The name is reserved
// with O_EXCL before the rename, so no existing file is ever replaced.
func finalize(dir, part, name string) (string, error) {
	dir = filepath.Clean(dir)
	safe := SafeName(name)
	ext := filepath.Ext(safe)
	if len(ext) == len(safe) {
		ext = ""
	}
	stem := safe[:len(safe)-len(ext)]
	for i := 0; i < 1000; i++ {
		candidate := safe
		switch {
		case i >= 999:
			candidate = stem + "-" + randomHex(8) + ext
		case i > 0:
			candidate = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
		path := filepath.Join(dir, candidate)
		if filepath.Dir(path) != dir {
			return "", fmt.Errorf("datachannel: %q leaves the directory", candidate)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_ = f.Close()
		if err := os.Rename(part, path); err != nil {
			_ = os.Remove(path)
			return "", err
		}
		return path, nil
	}
	return "", fmt.Errorf("datachannel: no free name for %q in %s", safe, dir)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
