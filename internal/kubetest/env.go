package kubetest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The environment of the control-plane tests, as ./scripts/test sets it.
const (
	// EnvBin is the directory that holds kube-apiserver, kube-scheduler,
	// kube-controller-manager and kubectl (scripts/kube-tools prints it).
	EnvBin = "PODLIFE_KUBE_BIN"
	// EnvRequire set to "1" makes a missing EnvBin fail the tests instead of skipping them.
	EnvRequire = "PODLIFE_REQUIRE_KUBE"
)

// Binaries that scripts/kube-tools builds.
const (
	APIServerBin         = "kube-apiserver"
	SchedulerBin         = "kube-scheduler"
	ControllerManagerBin = "kube-controller-manager"
	KubectlBin           = "kubectl"
)

// missingMsg says how to get the binaries.
const missingMsg = "the control-plane tests need the kube-apiserver that scripts/kube-tools builds: run ./scripts/test " +
	"(it builds the binaries once, 20 to 35 minutes cold on 2 cores, caches them and sets " + EnvBin + "), or set " + EnvBin +
	"=$(./scripts/kube-tools)"

// BinDir is the directory of the control-plane binaries. Without EnvBin the test is skipped, or
// fails when EnvRequire is "1" (as scripts/test sets it, so CI never skips); the message says how
// to get them. A set EnvBin without a kube-apiserver in it fails the test.
func BinDir(tb testing.TB) string {
	tb.Helper()
	dir, err := binDir()
	switch {
	case err == nil:
		return dir
	case os.Getenv(EnvBin) != "" || os.Getenv(EnvRequire) == "1":
		tb.Fatal(err)
	default:
		tb.Skip(err)
	}
	return ""
}

// binDir is EnvBin when it holds a kube-apiserver.
func binDir() (string, error) {
	dir := os.Getenv(EnvBin)
	if dir == "" {
		if os.Getenv(EnvRequire) == "1" {
			return "", fmt.Errorf("%s=1 but %s is unset: %s", EnvRequire, EnvBin, missingMsg)
		}
		return "", fmt.Errorf("%s is unset: %s", EnvBin, missingMsg)
	}
	if _, err := os.Stat(filepath.Join(dir, APIServerBin)); err != nil {
		return "", fmt.Errorf("%s=%s has no %s (%w): %s", EnvBin, dir, APIServerBin, err, missingMsg)
	}
	return dir, nil
}
