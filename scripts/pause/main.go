// Command pause is the sandbox ("infra") process of the test pods, in the image
// docker.io/podlife/pause:test that scripts/containerd builds: it holds the pod's namespaces
// open, reaps the zombies of a shared PID namespace (it is PID 1 there), and exits 0 on SIGTERM
// or SIGINT, as Kubernetes' pause does. It is built static (CGO_ENABLED=0) so that the image
// needs no libc.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every exited child, so none stays a zombie.
func reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
