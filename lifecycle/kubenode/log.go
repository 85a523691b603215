package kubenode

import (
	vklog "github.com/virtual-kubelet/virtual-kubelet/log"
	"go.uber.org/zap"
)

// vkLogger is virtual-kubelet's log.Logger on zap, so that the pod and node controllers log
// through the node's logger. Their Info lines are routine, one or more per pod ("Created pod in
// provider"), so they are logged at Debug; warnings and errors keep their level, and a "fatal"
// is an error: a controller never ends the node's process.
type vkLogger struct{ s *zap.SugaredLogger }

var _ vklog.Logger = vkLogger{}

func (l vkLogger) Debug(a ...any)            { l.s.Debug(a...) }
func (l vkLogger) Debugf(f string, a ...any) { l.s.Debugf(f, a...) }
func (l vkLogger) Info(a ...any)             { l.s.Debug(a...) }
func (l vkLogger) Infof(f string, a ...any)  { l.s.Debugf(f, a...) }
func (l vkLogger) Warn(a ...any)             { l.s.Warn(a...) }
func (l vkLogger) Warnf(f string, a ...any)  { l.s.Warnf(f, a...) }
func (l vkLogger) Error(a ...any)            { l.s.Error(a...) }
func (l vkLogger) Errorf(f string, a ...any) { l.s.Errorf(f, a...) }
func (l vkLogger) Fatal(a ...any)            { l.s.Error(a...) }
func (l vkLogger) Fatalf(f string, a ...any) { l.s.Errorf(f, a...) }

func (l vkLogger) WithField(k string, v any) vklog.Logger { return vkLogger{l.s.With(k, v)} }

func (l vkLogger) WithFields(f vklog.Fields) vklog.Logger {
	kv := make([]any, 0, 2*len(f))
	for k, v := range f {
		kv = append(kv, k, v)
	}
	return vkLogger{l.s.With(kv...)}
}

func (l vkLogger) WithError(err error) vklog.Logger { return vkLogger{l.s.With(zap.Error(err))} }
