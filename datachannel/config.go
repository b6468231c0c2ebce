package datachannel

import (
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Default limits, shared by endpoints and the relay.
const (
	DefaultMaxCmd           = 64 << 10 // SendCmd data (1100 SENDCMD_LARGE past it)
	DefaultMaxBuffer        = 64 << 20 // SendBuffer data (1101 SENDBUFFER_LARGE)
	DefaultMaxFile          = 4 << 30  // SendFile size (1405 FILE_SIZE_UNSUPPORT)
	DefaultWindow           = 256 << 10
	DefaultHighWater        = 256 << 10
	DefaultLowWater         = 64 << 10
	DefaultMaxTasks         = 64
	DefaultProgressInterval = 50 * time.Millisecond
	DefaultStallTimeout     = time.Minute      // a relayed task with no frame for this long fails
	DefaultWakeTimeout      = 10 * time.Second // a task waits this long for a woken receiver's channel
)

// Config tunes an Endpoint. Zero fields take the defaults above.
type Config struct {
	// Dir is where received files are written (first as a hidden
	// ".crv-*.part" file, renamed when complete). Default: os.TempDir(),
	// as the CRVideo SDK does.
	Dir string
	// MaxCmd, MaxBuffer and MaxFile bound what this endpoint sends and
	// accepts, in bytes. MaxCmd cannot exceed MaxCmdData.
	MaxCmd    int64
	MaxBuffer int64
	MaxFile   int64
	// Window is the credit this endpoint grants a sender: how many bytes
	// may be on their way to it beyond what it has taken. At most MaxWindow.
	Window uint32
	// HighWater and LowWater bound the channel's BufferedAmount: commands
	// and chunks are handed to the Conn only while it is at most HighWater;
	// once above, the endpoint waits for the OnBufferedAmountLow event at
	// LowWater. Smaller values let commands overtake transfers sooner.
	HighWater uint64
	LowWater  uint64
	// MaxTasks bounds concurrent outgoing tasks, and separately incoming
	// ones.
	MaxTasks int
	// ProgressInterval is the least time between two progress events of
	// one task (the final one is never held back).
	ProgressInterval time.Duration
	// Logger receives diagnostics; default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Dir == "" {
		c.Dir = os.TempDir()
	}
	setDefault(&c.MaxCmd, DefaultMaxCmd)
	setDefault(&c.MaxBuffer, DefaultMaxBuffer)
	setDefault(&c.MaxFile, DefaultMaxFile)
	setDefault(&c.Window, DefaultWindow)
	setDefault(&c.HighWater, DefaultHighWater)
	setDefault(&c.LowWater, DefaultLowWater)
	setDefault(&c.MaxTasks, DefaultMaxTasks)
	setDefault(&c.ProgressInterval, DefaultProgressInterval)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.MaxCmd < 0 || c.MaxCmd > MaxCmdData:
		return fmt.Errorf("%w: MaxCmd %d, limit %d", ErrConfig, c.MaxCmd, MaxCmdData)
	case c.MaxBuffer < 0 || c.MaxFile < 0 || c.MaxBuffer > MaxTotal || c.MaxFile > MaxTotal:
		return fmt.Errorf("%w: MaxBuffer %d / MaxFile %d out of range", ErrConfig, c.MaxBuffer, c.MaxFile)
	case c.Window < 4 || c.Window > MaxWindow:
		return fmt.Errorf("%w: Window %d, want 4-%d", ErrConfig, c.Window, MaxWindow)
	case c.LowWater > c.HighWater:
		return fmt.Errorf("%w: LowWater %d above HighWater %d", ErrConfig, c.LowWater, c.HighWater)
	case c.MaxTasks < 0 || c.ProgressInterval < 0:
		return fmt.Errorf("%w: negative MaxTasks or ProgressInterval", ErrConfig)
	}
	if st, err := os.Stat(c.Dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%w: Dir %q is not a directory", ErrConfig, c.Dir)
	}
	return nil
}

// RelayConfig tunes a Relay. Zero fields take the defaults.
type RelayConfig struct {
	// MaxCmd, MaxBuffer and MaxFile are the node's limits, answered with
	// 1100, 1101 and 1405 whatever the clients allow.
	MaxCmd    int64
	MaxBuffer int64
	MaxFile   int64
	// MaxWindow caps the credit a receiver may grant, so the bytes the node
	// holds for one transfer never exceed it. Larger grants are clamped.
	MaxWindow uint32
	// MaxTasksPerPeer bounds the tasks one client may have open as a sender.
	MaxTasksPerPeer int
	// StallTimeout fails a task that sees no frame for this long (Sweep,
	// Run); default DefaultStallTimeout, negative never.
	StallTimeout time.Duration
	// Wake asks a logged-in user whose data channel is not attached to
	// open one (the node sends it upNeeded), and reports whether it could
	// ask: false for a user who is not logged in. A new task to such a
	// user then waits for its channel, for at most WakeTimeout, before it
	// is refused with 1102. Nil: no waiting, such tasks are refused at
	// once. The relay calls it without holding its lock, once per wait.
	Wake func(app string, user UserID) bool
	// WakeTimeout bounds that wait; default DefaultWakeTimeout.
	WakeTimeout time.Duration
	// Remote finds the node of a task's target that has no channel here
	// and no wait for one: it returns the Link to that node's relay (made
	// with NewLink), which takes the task, or false for a user on no
	// other node (the task then waits for a woken user, or is refused).
	// Nil: every target is on this node. The relay calls it without
	// holding its lock, for a task from one of this node's clients only.
	Remote func(app string, user UserID) (*Link, bool)
	// Logger receives diagnostics; default slog.Default().
	Logger *slog.Logger
}

func (c RelayConfig) withDefaults() RelayConfig {
	setDefault(&c.MaxCmd, DefaultMaxCmd)
	setDefault(&c.MaxBuffer, DefaultMaxBuffer)
	setDefault(&c.MaxFile, DefaultMaxFile)
	setDefault(&c.MaxWindow, DefaultWindow)
	setDefault(&c.MaxTasksPerPeer, DefaultMaxTasks)
	setDefault(&c.StallTimeout, DefaultStallTimeout)
	setDefault(&c.WakeTimeout, DefaultWakeTimeout)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c RelayConfig) validate() error {
	switch {
	case c.MaxCmd < 0 || c.MaxCmd > MaxCmdData:
		return fmt.Errorf("%w: MaxCmd %d, limit %d", ErrConfig, c.MaxCmd, MaxCmdData)
	case c.MaxBuffer < 0 || c.MaxFile < 0 || c.MaxBuffer > MaxTotal || c.MaxFile > MaxTotal:
		return fmt.Errorf("%w: MaxBuffer %d / MaxFile %d out of range", ErrConfig, c.MaxBuffer, c.MaxFile)
	case c.MaxWindow > MaxWindow:
		return fmt.Errorf("%w: MaxWindow %d, limit %d", ErrConfig, c.MaxWindow, MaxWindow)
	case c.MaxTasksPerPeer < 0:
		return fmt.Errorf("%w: negative MaxTasksPerPeer", ErrConfig)
	case c.WakeTimeout < 0:
		return fmt.Errorf("%w: negative WakeTimeout", ErrConfig)
	}
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
