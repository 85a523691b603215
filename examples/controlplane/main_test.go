package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/internal/kubetest"
)

// It starts the API server, prints the kubeconfig to use, and stops after -for.
func TestPrintsTheKubeconfigAndStops(t *testing.T) {
	kubetest.BinDir(t) // skipped or failed as every control-plane test when the binaries are missing
	var out bytes.Buffer
	require.Equal(t, 0, run([]string{"-for", "8s"}, &out, io.Discard))
	_, kubeconfig, ok := strings.Cut(out.String(), "export KUBECONFIG=")
	require.True(t, ok, out.String())
	_, err := os.Stat(strings.TrimSpace(kubeconfig))
	require.True(t, os.IsNotExist(err), "the server's directory is removed when it stops")
	require.Equal(t, 2, run([]string{"-nope"}, io.Discard, io.Discard))
}
