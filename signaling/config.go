package signaling

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crvnode/crvnode/protocol"
)

// AppConfig is one tenant: an appID, its secret and how its users log in.
type AppConfig struct {
	ID     string `yaml:"id"`
	Secret string `yaml:"secret"`
	// RequireToken refuses logins by appID/secret: users must present a JWT
	// signed with the app's secret.
	RequireToken bool `yaml:"requireToken"`
	// NoTokens turns token (third-party) logins off: a login with a
	// userAuthCode, or loginByToken, is refused with 15
	// (CUSTOMAUTH_NOTSUPPORT). It cannot be combined with RequireToken.
	NoTokens bool `yaml:"noTokens"`
	// TURNServers are external TURN URLs (a coturn fleet sharing the
	// node's TURN secret) handed to this app's users instead of the
	// embedded server.
	TURNServers []string `yaml:"turnServers"`
	// Queue is the app's customer-service queues; its keys sit in the
	// app's own mapping (queue_config.go).
	Queue QueueConfig `yaml:",inline"`
}

// Limits bound what one client may ask of the node.
type Limits struct {
	MaxMembers      int           `yaml:"maxMembers"`      // members per meeting
	MaxMessageBytes int64         `yaml:"maxMessageBytes"` // one WebSocket message
	Rate            float64       `yaml:"rate"`            // requests per second per connection
	Burst           int           `yaml:"burst"`           // requests allowed at once
	CallTimeout     time.Duration `yaml:"callTimeout"`     // ringing time before 604
	SendQueue       int           `yaml:"sendQueue"`       // queued outgoing messages before a client is dropped as too slow
	LoginTimeout    time.Duration `yaml:"loginTimeout"`    // a connection not logged in by then is closed (1008); negative: never
	MaxConnections  int           `yaml:"maxConnections"`  // open WebSocket connections; more are refused with HTTP 503; negative: no limit
	TokenWarning    time.Duration `yaml:"tokenWarning"`    // notifyTokenWillExpire this long before a login JWT's exp
	// ResumeGrace is how long a session whose connection was lost waits
	// for its client to resume it (docs/protocol/resume.md); negative: a
	// lost connection logs its user off at once.
	ResumeGrace    time.Duration `yaml:"resumeGrace"`
	ReplayMessages int           `yaml:"replayMessages"` // messages a session keeps for a resume
	ReplayBytes    int           `yaml:"replayBytes"`    // and their bytes at most
}

// Config is everything the signaling server needs. The zero value of every
// field but Apps and Store has a usable default (see withDefaults).
type Config struct {
	Apps   []AppConfig
	Limits Limits
	// AllowedOrigins lists the Origin values accepted for WebSocket
	// upgrades; empty accepts every origin, since customers' web apps live on
	// their own origins and authenticate with appID/secret or tokens.
	AllowedOrigins []string
	// PublicURL is the base of meetings' pubMeetUrl; empty derives it from
	// the Host of the client's WebSocket request.
	PublicURL string
	// ICEServers returns the ICE servers handed to a user at login; nil
	// hands out none.
	ICEServers func(app AppConfig, userID protocol.UserID) []protocol.ICEServer
	// Media is the SFU; nil serves signaling only.
	Media Media
	// Cluster joins the node to others sharing the same log (replica.go);
	// nil: the node is on its own and keeps its state in Store.
	Cluster Cluster
	// NodeURL finds the address clients reach another node of the
	// cluster at (http://host:port, the base of its /ws), for a session
	// that must move there: one entering a meeting whose media that node
	// forwards. nil: such a member is refused with 803.
	NodeURL func(ctx context.Context, node string) (string, error)
	// SnapshotEvery is how many entries of the cluster's log a snapshot
	// of the state is saved after (0: DefaultSnapshotEvery).
	SnapshotEvery int
	Store         *Store
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
}

// DefaultLimits are the limits used where Config.Limits leaves a zero.
var DefaultLimits = Limits{
	MaxMembers:      50,
	MaxMessageBytes: 64 << 10,
	Rate:            50,
	Burst:           100,
	CallTimeout:     30 * time.Second,
	SendQueue:       1024,
	LoginTimeout:    10 * time.Second,
	MaxConnections:  50000,
	TokenWarning:    time.Minute,
	ResumeGrace:     20 * time.Second,
	ReplayMessages:  512,
	ReplayBytes:     1 << 20,
}

// ErrConfig wraps every reason New refuses a Config.
var ErrConfig = errors.New("signaling: invalid config")

// withDefaults fills the limits left zero (or negative, where negative has
// no meaning of its own) from DefaultLimits, and the logger and registry.
func (c Config) withDefaults() Config {
	l, d := &c.Limits, DefaultLimits
	if l.MaxMembers <= 0 {
		l.MaxMembers = d.MaxMembers
	}
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = d.MaxMessageBytes
	}
	if l.Rate <= 0 {
		l.Rate = d.Rate
	}
	if l.Burst <= 0 {
		l.Burst = d.Burst
	}
	if l.CallTimeout <= 0 {
		l.CallTimeout = d.CallTimeout
	}
	if l.SendQueue <= 0 {
		l.SendQueue = d.SendQueue
	}
	if l.LoginTimeout == 0 {
		l.LoginTimeout = d.LoginTimeout
	}
	if l.MaxConnections == 0 {
		l.MaxConnections = d.MaxConnections
	}
	if l.TokenWarning <= 0 {
		l.TokenWarning = d.TokenWarning
	}
	if l.ResumeGrace == 0 {
		l.ResumeGrace = d.ResumeGrace
	}
	if l.ReplayMessages <= 0 {
		l.ReplayMessages = d.ReplayMessages
	}
	if l.ReplayBytes <= 0 {
		l.ReplayBytes = d.ReplayBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	return c
}

// validate checks a Config with defaults applied; every error wraps
// ErrConfig and names the field at fault.
func (c Config) validate() error {
	if len(c.Apps) == 0 {
		return fmt.Errorf("%w: Apps: no apps configured", ErrConfig)
	}
	seen := map[string]bool{}
	for i, a := range c.Apps {
		switch {
		case a.ID == "" || a.Secret == "":
			return fmt.Errorf("%w: Apps[%d] %q needs an ID and a Secret", ErrConfig, i, a.ID)
		case a.RequireToken && a.NoTokens:
			return fmt.Errorf("%w: Apps[%d] %q: RequireToken and NoTokens exclude each other", ErrConfig, i, a.ID)
		case seen[a.ID]:
			return fmt.Errorf("%w: Apps[%d]: ID %q configured twice", ErrConfig, i, a.ID)
		}
		if err := a.Queue.validate(fmt.Sprintf("Apps[%d] %q", i, a.ID)); err != nil {
			return err
		}
		seen[a.ID] = true
	}
	if c.Store == nil {
		return fmt.Errorf("%w: Store: no store", ErrConfig)
	}
	return nil
}

// SharedHash names what the nodes of one cluster must share, because the
// log's changes are applied by it: the apps (by ID, sorted) with their
// queues as the node runs them, and the limits an applier reads (members
// per meeting, ringing time). Secrets, TURN servers and what bounds one
// node's own connections are left out: nodes may differ in them.
func SharedHash(apps []AppConfig, limits Limits) string {
	l := Config{Limits: limits}.withDefaults().Limits
	type sharedApp struct {
		ID    string
		Queue QueueConfig
	}
	shared := struct {
		Apps        []sharedApp
		MaxMembers  int
		CallTimeout time.Duration
	}{MaxMembers: l.MaxMembers, CallTimeout: l.CallTimeout}
	for _, a := range apps {
		shared.Apps = append(shared.Apps, sharedApp{ID: a.ID, Queue: a.Queue.withDefaults()})
	}
	slices.SortFunc(shared.Apps, func(x, y sharedApp) int { return strings.Compare(x.ID, y.ID) })
	b, _ := json.Marshal(shared)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
