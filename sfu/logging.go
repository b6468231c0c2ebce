package sfu

import (
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// loggerFactory bridges pion's logging to slog. pion's debug and trace
// output is dropped; its warnings and errors keep their scope.
type loggerFactory struct{ log *slog.Logger }

func newLoggerFactory(l *slog.Logger) *loggerFactory { return &loggerFactory{log: l} }

// NewLogger returns a pion logger for one pion component.
func (f *loggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("pion", scope)}
}

type pionLogger struct{ l *slog.Logger }

func (p pionLogger) Trace(string)          {}
func (p pionLogger) Tracef(string, ...any) {}
func (p pionLogger) Debug(string)          {}
func (p pionLogger) Debugf(string, ...any) {}
func (p pionLogger) Info(m string)         { p.l.Debug(m) }
func (p pionLogger) Infof(f string, a ...any) {
	p.l.Debug(fmt.Sprintf(f, a...))
}
func (p pionLogger) Warn(m string)            { p.l.Warn(m) }
func (p pionLogger) Warnf(f string, a ...any) { p.l.Warn(fmt.Sprintf(f, a...)) }
func (p pionLogger) Error(m string)           { p.l.Error(m) }
func (p pionLogger) Errorf(f string, a ...any) {
	p.l.Error(fmt.Sprintf(f, a...))
}
