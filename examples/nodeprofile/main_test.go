package main

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/internal/kubetest"
)

// A small run end to end: the node process built and started, pods created, Running, deleted,
// and the report's figures printed.
func TestSmallRun(t *testing.T) {
	kubetest.BinDir(t) // skipped or failed as every control-plane test when the binaries are missing
	var out, errs bytes.Buffer
	require.Equal(t, 0, run([]string{"-pods", "20", "-nodes", "2", "-creators", "4"}, &out, &errs), errs.String())
	for _, want := range []string{"20 on 2 simulated nodes", "create to Running", "pods/s", "node CPU", "API server CPU",
		"PUT pods/status", "delete to gone", "DELETE pods 20"} {
		assert.Contains(t, out.String(), want)
	}
	require.Equal(t, 2, run([]string{"-pods", "0"}, io.Discard, io.Discard))
}
