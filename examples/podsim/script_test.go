package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/probe"
)

// The -script example in the package doc is valid for the demo pod.
func TestDocExampleScriptParses(t *testing.T) {
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	doc := string(src)
	start := strings.Index(doc, "//\t{\n")
	end := strings.Index(doc, "\n//\t}\n")
	require.True(t, start >= 0 && end > start, "the package doc has an indented JSON example")
	var lines []string
	for _, l := range strings.Split(doc[start:end+len("\n//\t}")], "\n") {
		lines = append(lines, strings.TrimPrefix(l, "//\t"))
	}
	spec := demoSpec()
	ps, err := parseScript([]byte(strings.Join(lines, "\n")), &spec)
	require.NoError(t, err)
	require.Equal(t, 20*time.Second, ps.Containers["web"].Runs[0].For)
	require.Equal(t, 90*time.Second, ps.Containers["web"].Probes[probe.Readiness].FailUntil)
}
