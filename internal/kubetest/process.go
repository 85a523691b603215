package kubetest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
)

// stopTimeout is how long Stop waits after SIGTERM before it kills.
const stopTimeout = 20 * time.Second

// Process is one control-plane process, its output in LogPath.
type Process struct {
	Name    string
	LogPath string

	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and err is set
	err  error         // how it exited

	stopOnce sync.Once
	stopErr  error
}

// startProcess starts bin with args, its output appended to logPath. The process gets SIGTERM
// when this process dies: Pdeathsig fires when the thread that started the child exits, so the
// child is started, and waited for, on a goroutine that keeps its thread locked for the child's
// whole life.
func startProcess(name, bin, logPath string, args []string) (*Process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	// Its own process group: a terminal's ^C reaches the test, whose death then stops the child.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	err = <-started
	_ = logf.Close() // the child has its own descriptor
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit and returns how it exited (nil for status 0).
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Stop sends SIGTERM, waits up to 20 s for the process to exit, then kills it. Any exit after
// SIGTERM is a stop (upstream's components exit with status 1, or by the signal, when stopped
// without leader election). It returns an error, with the end of the log, when the process had
// already exited with a failure, or had to be killed. Calling it again returns the same result.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			if p.err != nil {
				p.stopErr = p.exitError("had exited before Stop")
			}
			return
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			_ = p.cmd.Process.Kill()
			<-p.done
			p.stopErr = p.exitError(fmt.Sprintf("did not stop within %s of SIGTERM and was killed", stopTimeout))
		}
	})
	return p.stopErr
}

// exitError describes how the process ended, with the end of its log.
func (p *Process) exitError(what string) error {
	return fmt.Errorf("%s %s (%v); log %s ends:\n%s", p.Name, what, p.err, p.LogPath, p.LogTail(30))
}

// LogTail is the last n lines of the process's output.
func (p *Process) LogTail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// errAddrInUse reports whether the process exited because its port was taken between freePort
// and its own bind.
func (p *Process) errAddrInUse() bool {
	b, _ := os.ReadFile(p.LogPath)
	return strings.Contains(string(b), "address already in use")
}

// freePort is a loopback TCP port that was free a moment ago. The process it is handed to may
// lose it to another; callers retry on errAddrInUse.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitUntil calls check every 100 ms, each call bounded to 5 s, until it returns nil, the
// process exits or timeout passes; the error then says which, with the end of the log.
func waitUntil(ctx context.Context, p *Process, what string, timeout time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		err := check(cctx)
		ccancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return p.exitError("exited before it was " + what)
		case <-ctx.Done():
			return fmt.Errorf("%s not %s within %s (last: %w); log %s ends:\n%s", p.Name, what, timeout, err, p.LogPath, p.LogTail(30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Usage is what a process has used so far.
type Usage struct {
	// CPU is its user and system time, from /proc/<pid>/stat (in USER_HZ ticks, 10 ms).
	CPU time.Duration
	// RSS and PeakRSS are its resident memory now and at its peak (VmRSS and VmHWM of
	// /proc/<pid>/status), in bytes.
	RSS, PeakRSS uint64
}

// Usage reads what the process has used so far; it fails once the process has exited.
func (p *Process) Usage() (Usage, error) {
	proc, err := procfs.NewProc(p.Pid())
	if err != nil {
		return Usage{}, fmt.Errorf("%s: %w", p.Name, err)
	}
	stat, err := proc.Stat()
	if err != nil {
		return Usage{}, fmt.Errorf("%s: %w", p.Name, err)
	}
	status, err := proc.NewStatus()
	if err != nil {
		return Usage{}, fmt.Errorf("%s: %w", p.Name, err)
	}
	return Usage{
		CPU:     time.Duration(stat.CPUTime() * float64(time.Second)),
		RSS:     uint64(stat.ResidentMemory()),
		PeakRSS: status.VmHWM,
	}, nil
}
