package kubenode

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// The Agent's Info lines are a node's Debug lines: gone at Info, shown at Debug as Debug; its
// warnings stay warnings; fields added with With keep the demotion.
func TestDemoteInfo(t *testing.T) {
	for _, tc := range []struct {
		level zapcore.Level
		want  []zapcore.Level
	}{
		{zapcore.InfoLevel, []zapcore.Level{zapcore.WarnLevel}},
		{zapcore.DebugLevel, []zapcore.Level{zapcore.DebugLevel, zapcore.DebugLevel, zapcore.WarnLevel}},
	} {
		core, logs := observer.New(tc.level)
		log := demoteInfo(zap.New(core)).With(zap.String("pod", "default/web"))
		log.Debug("a debug line")
		log.Info("pod bound")
		log.Warn("pod event")
		var got []zapcore.Level
		for _, e := range logs.All() {
			got = append(got, e.Level)
			assert.Equal(t, "default/web", e.ContextMap()["pod"])
		}
		assert.Equal(t, tc.want, got, "logger at %s", tc.level)
		assert.Equal(t, tc.level == zapcore.DebugLevel, log.Core().Enabled(zapcore.InfoLevel))
	}
}
