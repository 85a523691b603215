package kubenode

import (
	vklog "github.com/virtual-kubelet/virtual-kubelet/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// demoteInfo is the logger of a node's Agent: its Info lines are logged at Debug. They are a few
// per pod (bound, every pod event, stopped, its record removed), and a node reports the same
// through the API server (statuses, and the pod events as Kubernetes events): at Info, with
// thousands of pods, writing them cost the node process 4 % of its CPU. Its warnings and errors
// stay as they are.
func demoteInfo(l *zap.Logger) *zap.Logger {
	return l.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return infoAsDebug{c} }))
}

// infoAsDebug is a zapcore.Core that takes Info entries as Debug ones.
type infoAsDebug struct{ zapcore.Core }

func (c infoAsDebug) Enabled(l zapcore.Level) bool {
	if l == zapcore.InfoLevel {
		l = zapcore.DebugLevel
	}
	return c.Core.Enabled(l)
}

func (c infoAsDebug) With(fields []zapcore.Field) zapcore.Core {
	return infoAsDebug{c.Core.With(fields)}
}

func (c infoAsDebug) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Level == zapcore.InfoLevel {
		e.Level = zapcore.DebugLevel
	}
	return c.Core.Check(e, ce)
}

// vkLogger is virtual-kubelet's log.Logger on zap, so that the pod and node controllers log
// through the node's logger, one level lower than they say: their Info lines are routine, one or
// more per pod ("Created pod in provider"), and so are most of their warnings and errors here (a
// status write that lost a race and is retried, a deletion of a pod podlife already deleted), so
// Info is logged at Debug, Warn at Info, Error and Fatal at Warn: a controller never ends the
// node's process. Errors are logged by their message, without their stack.
type vkLogger struct{ s *zap.SugaredLogger }

var _ vklog.Logger = vkLogger{}

func (l vkLogger) Debug(a ...any)            { l.s.Debug(a...) }
func (l vkLogger) Debugf(f string, a ...any) { l.s.Debugf(f, a...) }
func (l vkLogger) Info(a ...any)             { l.s.Debug(a...) }
func (l vkLogger) Infof(f string, a ...any)  { l.s.Debugf(f, a...) }
func (l vkLogger) Warn(a ...any)             { l.s.Info(a...) }
func (l vkLogger) Warnf(f string, a ...any)  { l.s.Infof(f, a...) }
func (l vkLogger) Error(a ...any)            { l.s.Warn(a...) }
func (l vkLogger) Errorf(f string, a ...any) { l.s.Warnf(f, a...) }
func (l vkLogger) Fatal(a ...any)            { l.s.Warn(a...) }
func (l vkLogger) Fatalf(f string, a ...any) { l.s.Warnf(f, a...) }

func (l vkLogger) WithField(k string, v any) vklog.Logger { return vkLogger{l.s.With(k, v)} }

func (l vkLogger) WithFields(f vklog.Fields) vklog.Logger {
	kv := make([]any, 0, 2*len(f))
	for k, v := range f {
		kv = append(kv, k, v)
	}
	return vkLogger{l.s.With(kv...)}
}

func (l vkLogger) WithError(err error) vklog.Logger {
	if err == nil {
		return l
	}
	return vkLogger{l.s.With(zap.String("error", err.Error()))}
}
