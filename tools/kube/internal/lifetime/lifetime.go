// Package lifetime bounds how long a control-plane process of the tools module lives, so that a
// test or script that dies without stopping it does not leave it running.
package lifetime

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// graceAfterTerm is how long the process may take to shut down after the signal this package
// sends it before it is ended outright.
const graceAfterTerm = 15 * time.Second

// Bound adds --max-lifetime and --exit-with-parent to cmd. When either fires, the process sends
// itself SIGTERM, the same signal an orderly stop uses, so that the component shuts down through
// its own signal handler; if it is still alive graceAfterTerm later it exits with status 3. A
// component that returns after that returns no error: it stopped as it was told (kube-scheduler
// without leader election, for one, reports any stop as an error).
func Bound(cmd *cobra.Command) {
	var maxLifetime time.Duration
	var withParent bool
	var fired atomic.Bool
	fs := cmd.Flags()
	fs.DurationVar(&maxLifetime, "max-lifetime", 0,
		"podlife: stop (SIGTERM to self) after this long; 0 runs until stopped")
	fs.BoolVar(&withParent, "exit-with-parent", false,
		"podlife: stop (SIGTERM to self) when the process that started this one exits")
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if maxLifetime < 0 {
			return fmt.Errorf("--max-lifetime must not be negative, got %s", maxLifetime)
		}
		if maxLifetime > 0 {
			time.AfterFunc(maxLifetime, func() {
				fired.Store(true)
				stop(fmt.Sprintf("--max-lifetime %s reached", maxLifetime))
			})
		}
		if withParent {
			go watchParent(os.Getppid(), &fired)
		}
		err := run(c, args)
		if err != nil && fired.Load() {
			fmt.Fprintf(os.Stderr, "podlife lifetime: stopped (%v)\n", err)
			return nil
		}
		return err
	}
}

// watchParent stops the process once it has been re-parented, which is how Linux shows that the
// process that started it has exited. It complements the starter's Pdeathsig, which is tied to
// the starting thread rather than the process.
func watchParent(ppid int, fired *atomic.Bool) {
	for range time.Tick(500 * time.Millisecond) {
		if os.Getppid() != ppid {
			fired.Store(true)
			stop(fmt.Sprintf("parent process %d exited", ppid))
			return
		}
	}
}

func stop(why string) {
	fmt.Fprintf(os.Stderr, "podlife lifetime: %s: stopping\n", why)
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	time.AfterFunc(graceAfterTerm, func() {
		fmt.Fprintf(os.Stderr, "podlife lifetime: still running %s after SIGTERM: exiting\n", graceAfterTerm)
		os.Exit(3)
	})
}
