package kubetest_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/internal/kubetest"
)

// envOrphanChild makes the test binary a child that starts an API server, prints its pid and
// directory, and waits to be killed (see TestAPIServerDiesWithTheTestProcess).
const envOrphanChild = "PODLIFE_KUBETEST_ORPHAN_CHILD"

func orphanChild() {
	s, err := kubetest.StartAPIServer(context.Background(), kubetest.Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("pid", s.Pid(), s.Dir)
	select {}
}

// TestAPIServerDiesWithTheTestProcess kills a test process that started an API server with
// SIGKILL, as a CI timeout or a crash would: no cleanup runs, and the server must go by itself.
func TestAPIServerDiesWithTheTestProcess(t *testing.T) {
	kubetest.BinDir(t) // skip or fail as the other tests do
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), envOrphanChild+"=1")
	out, err := child.StdoutPipe()
	require.NoError(t, err)
	child.Stderr = os.Stderr
	require.NoError(t, child.Start())
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })

	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	f := strings.Fields(line)
	require.True(t, len(f) == 3 && f[0] == "pid", "the child said %q", line)
	pid, err := strconv.Atoi(f[1])
	require.NoError(t, err)
	t.Cleanup(func() {
		if alive(pid) { // only when this test fails
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = os.RemoveAll(f[2]) // what a killed test leaves behind
	})
	require.True(t, alive(pid), "kube-apiserver %d runs while the test process lives", pid)

	require.NoError(t, child.Process.Kill())
	_ = child.Wait()
	start := time.Now()
	for alive(pid) {
		require.Less(t, time.Since(start), 30*time.Second, "kube-apiserver %d outlived the killed test process", pid)
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("kube-apiserver %d gone %s after the test process was killed", pid, time.Since(start))
}

// alive reports whether pid is a process that has not exited (a zombie has).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}
