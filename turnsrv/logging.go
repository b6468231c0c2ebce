package turnsrv

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/logging"
)

// levelTrace is where pion's Trace lands in slog: below Debug.
const levelTrace = slog.LevelDebug - 4

// pionLogMin is the lowest pion level passed on. pion logs at Info and
// Debug for every stray datagram and refused permission (which this
// package logs itself, rate-limited), so only Warn and Error get through.
const pionLogMin = slog.LevelWarn

// slogFactory is a pion logging.LoggerFactory writing to slog.
type slogFactory struct {
	log *slog.Logger
	min slog.Level
}

// NewLogger returns a logger for one pion scope ("turn", ...).
func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return &slogLeveled{log: f.log.With("pion", scope), min: f.min}
}

// slogLeveled is a pion logging.LeveledLogger writing to slog.
type slogLeveled struct {
	log *slog.Logger
	min slog.Level
}

func (l *slogLeveled) enabled(level slog.Level) bool {
	return level >= l.min && l.log.Enabled(context.Background(), level)
}

func (l *slogLeveled) logf(level slog.Level, format string, args ...any) {
	if l.enabled(level) { // format only what is written
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (l *slogLeveled) logs(level slog.Level, msg string) {
	if l.enabled(level) {
		l.log.Log(context.Background(), level, msg)
	}
}

func (l *slogLeveled) Trace(msg string)                  { l.logs(levelTrace, msg) }
func (l *slogLeveled) Tracef(format string, args ...any) { l.logf(levelTrace, format, args...) }
func (l *slogLeveled) Debug(msg string)                  { l.logs(slog.LevelDebug, msg) }
func (l *slogLeveled) Debugf(format string, args ...any) { l.logf(slog.LevelDebug, format, args...) }
func (l *slogLeveled) Info(msg string)                   { l.logs(slog.LevelInfo, msg) }
func (l *slogLeveled) Infof(format string, args ...any)  { l.logf(slog.LevelInfo, format, args...) }
func (l *slogLeveled) Warn(msg string)                   { l.logs(slog.LevelWarn, msg) }
func (l *slogLeveled) Warnf(format string, args ...any)  { l.logf(slog.LevelWarn, format, args...) }
func (l *slogLeveled) Error(msg string)                  { l.logs(slog.LevelError, msg) }
func (l *slogLeveled) Errorf(format string, args ...any) { l.logf(slog.LevelError, format, args...) }

// logLimit is how often one kind of refusal is logged; the ones in between
// are counted in metrics and summarised as "suppressed" in the next line,
// so a client hammering the server cannot flood the log.
const logLimit = time.Second

// limiter lets one log line per key through every logLimit.
type limiter struct {
	mu         sync.Mutex
	last       map[string]time.Time
	suppressed map[string]int
}

func newLimiter() *limiter {
	return &limiter{last: map[string]time.Time{}, suppressed: map[string]int{}}
}

// allow reports whether to log key now, and how many were suppressed
// since the last line.
func (l *limiter) allow(key string, now time.Time) (suppressed int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if last, seen := l.last[key]; seen && now.Sub(last) < logLimit {
		l.suppressed[key]++
		return 0, false
	}
	l.last[key] = now
	suppressed = l.suppressed[key]
	delete(l.suppressed, key)
	return suppressed, true
}
