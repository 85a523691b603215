package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRunWalksThePodToSucceeded(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 11)
	want := []struct{ phase, status string }{
		{"Pending", "Init:0/1"}, {"Pending", "Init:0/1"}, {"Pending", "PodInitializing"},
		{"Running", "Running"}, {"Running", "Error"}, {"Running", "Running"},
		{"Running", "CrashLoopBackOff"}, {"Running", "Running"}, {"Succeeded", "Completed"}, {"Succeeded", "Completed"},
	}
	for i, w := range want {
		f := strings.Fields(lines[i+1])
		require.Equal(t, w.phase, f[1], "line %d: %s", i+1, lines[i+1])
		require.Equal(t, w.status, f[2], "line %d: %s", i+1, lines[i+1])
	}
	require.Contains(t, lines[7], "after 10s", "the second crash waits the initial back-off")
}
