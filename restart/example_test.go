package restart_test

import (
	"fmt"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/restart"
)

// A container that crashes one second after every start: the first restart is immediate, then
// kubelet holds each restart back 10 s, 20 s, 40 s ... up to 300 s, measured from the exit.
func ExampleCrashLoop() {
	b := restart.CrashLoopBackoff()
	var loop restart.CrashLoop // one per container, kept in the machine's status
	started := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 9 {
		finished := started.Add(time.Second)
		fmt.Print(loop.Delay(b, finished).Seconds(), " ")
		started = loop.NextStart(b, finished)
		loop = loop.Restarted(b, finished, started)
	}
	fmt.Println()
	// Output: 0 10 20 40 80 160 300 300 300
}

func ExampleBackoff_Delay() {
	b, err := restart.NodeCrashLoopBackoff(30*time.Second, false)
	if err != nil {
		panic(err)
	}
	for exits := 1; exits <= 5; exits++ {
		fmt.Print(b.Delay(exits), " ")
	}
	fmt.Println()
	// Output: 0s 10s 20s 30s 30s
}

func ExampleDecide() {
	never := podlife.RestartNever
	c := &podlife.Container{
		Name:          "worker",
		RestartPolicy: &never,
		RestartPolicyRules: []podlife.RestartRule{{
			Action:    podlife.RuleRestart,
			ExitCodes: &podlife.ExitCodesRequirement{Operator: podlife.ExitCodeIn, Values: []int32{42}},
		}},
	}
	fmt.Println(restart.Decide(podlife.RestartAlways, c, 42))
	fmt.Println(restart.Decide(podlife.RestartAlways, c, 1))
	// Output:
	// Restart
	// Stay
}

func ExampleDefaultPullPolicy() {
	for _, image := range []string{"nginx", "nginx:1.27", "localhost:5000/app", "app@sha256:" + sha256Hex} {
		fmt.Println(restart.DefaultPullPolicy(image))
	}
	// Output:
	// Always
	// IfNotPresent
	// Always
	// IfNotPresent
}

// A pull that keeps failing: ErrImagePull when it fails, ImagePullBackOff while kubelet waits,
// ErrImagePull again when the next try fails.
func ExamplePullBackoff() {
	b := restart.ImagePullBackoff()
	var pull restart.PullBackoff // one per pod and image
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 3 {
		pull = pull.Failed(b, now)
		fmt.Println(pull.WaitingReason(now), pull.WaitingReason(now.Add(time.Second)), pull.Backoff)
		now = pull.NextAttempt()
	}
	// Output:
	// ErrImagePull ImagePullBackOff 10s
	// ErrImagePull ImagePullBackOff 20s
	// ErrImagePull ImagePullBackOff 40s
}
