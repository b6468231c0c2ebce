package cluster

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config says which Redis a node uses and how it shows itself there.
type Config struct {
	// Addr is Redis's host:port.
	Addr string
	// Password is sent with AUTH when not empty.
	Password string
	// DB is the Redis database number.
	DB int
	// TLS connects with TLS (rediss://).
	TLS bool
	// Prefix starts every key the node uses, so that several services
	// can share one Redis; default "crv:".
	Prefix string
	// NodeID names this node; default: 16 random hex digits, new at
	// every start.
	NodeID string
	// Heartbeat is how often the node refreshes its key; default 2 s.
	Heartbeat time.Duration
	// NodeTTL is how long the node's key lives without a heartbeat:
	// another node reports it down that long after its last beat, plus
	// up to one Heartbeat; default 6 s. It must be longer than
	// Heartbeat.
	NodeTTL time.Duration
	// Info is what the node says of itself (e.g. its URL); it is stored
	// with its heartbeat and listed by Live.
	Info string
	// Logger gets what goes wrong with Redis; default slog.Default().
	Logger *slog.Logger
	// NodeDown is called, on one node only, when that node finds that
	// another node's key has expired: the other node stopped without
	// Close. When it returns an error, it is called again at a later
	// heartbeat.
	NodeDown func(id string) error
}

const (
	defaultPrefix    = "crv:"
	defaultHeartbeat = 2 * time.Second
	defaultNodeTTL   = 6 * time.Second
	defaultPort      = "6379"
)

// ParseURL reads redis://[:password@]host[:port][/db], rediss://… (the
// same over TLS), or a bare host:port. The port defaults to 6379 and the
// database to 0.
func ParseURL(s string) (Config, error) {
	var cfg Config
	if s == "" {
		return cfg, fmt.Errorf("cluster: empty Redis address")
	}
	if !strings.Contains(s, "://") {
		addr, err := hostPort(s, s)
		if err != nil {
			return cfg, err
		}
		cfg.Addr = addr
		return cfg, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return cfg, fmt.Errorf("cluster: Redis URL: %w", err)
	}
	switch u.Scheme {
	case "redis":
	case "rediss":
		cfg.TLS = true
	default:
		return cfg, fmt.Errorf("cluster: Redis URL %q: scheme %q is neither redis nor rediss", redact(u), u.Scheme)
	}
	if u.User != nil {
		if name := u.User.Username(); name != "" {
			return cfg, fmt.Errorf("cluster: Redis URL %q: user names are not supported (write redis://:password@host:port)", redact(u))
		}
		cfg.Password, _ = u.User.Password()
	}
	if u.Host == "" {
		return cfg, fmt.Errorf("cluster: Redis URL %q: no host", redact(u))
	}
	if cfg.Addr, err = hostPort(u.Host, redact(u)); err != nil {
		return cfg, err
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		n, err := strconv.Atoi(db)
		if err != nil || n < 0 || strings.Contains(db, "/") {
			return cfg, fmt.Errorf("cluster: Redis URL %q: database %q is not a number ≥ 0", redact(u), db)
		}
		cfg.DB = n
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return cfg, fmt.Errorf("cluster: Redis URL %q: options (?…, #…) are not supported", redact(u))
	}
	return cfg, nil
}

// hostPort checks host[:port] and adds the default port.
func hostPort(hp, what string) (string, error) {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		// No port: host alone, or [v6] alone.
		host, port = strings.TrimSuffix(strings.TrimPrefix(hp, "["), "]"), defaultPort
		if strings.ContainsAny(host, "[]/ ") || (strings.Contains(host, ":") && !strings.HasPrefix(hp, "[")) {
			return "", fmt.Errorf("cluster: Redis address %q: not host:port", what)
		}
	}
	if host == "" {
		return "", fmt.Errorf("cluster: Redis address %q: no host", what)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("cluster: Redis address %q: port %q is not a number from 1 to 65535", what, port)
	}
	return net.JoinHostPort(host, port), nil
}

// redact is u without its password, for errors.
func redact(u *url.URL) string { return u.Redacted() }
