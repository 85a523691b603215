package hooks_test

import (
	"fmt"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
	"github.com/podlife/podlife/restart"
)

// A postStart exec hook that exits 1: kubelet records FailedPostStartHook, kills the container,
// shows PostStartHookError with the hook's message and restarts it per policy.
func ExampleEffectOf() {
	c := podlife.Container{Name: "app", Lifecycle: &podlife.Lifecycle{PostStart: &podlife.LifecycleHandler{
		Exec: &podlife.ExecAction{Command: []string{"sh", "-c", "exit 1"}},
	}}}
	kind, _ := hooks.KindOf(c.Lifecycle.PostStart)
	fmt.Println("handler:", kind)

	t := hooks.Target{Pod: hooks.PodRef{Name: "web", Namespace: "default", UID: "42"}, Container: c.Name}
	o := hooks.ExecOutcome(t, c.Lifecycle.PostStart.Exec.Command, 1, "", "")
	e := hooks.EffectOf(hooks.PostStart, o)
	fmt.Println("event:", e.Event.Type, e.Event.Reason, e.Event.Message)
	fmt.Println("kill:", e.Kill, e.KillEvent.Reason, e.KillEvent.Message)
	fmt.Println("waiting:", e.WaitingReason)
	fmt.Println("message:", e.WaitingMessage)
	// The killed container exited 143 after SIGTERM; the restart policy decides the rest.
	fmt.Println("then:", restart.Decide(podlife.RestartAlways, &c, 143))
	// Output:
	// handler: exec
	// event: Warning FailedPostStartHook PostStartHook failed
	// kill: true Killing FailedPostStartHook
	// waiting: PostStartHookError
	// message: Exec lifecycle hook ([sh -c exit 1]) for Container "app" in Pod "web_default(42)" failed - error: command 'sh -c exit 1' exited with 1: , message: ""
	// then: Restart
}

// A preStop HTTP hook answered 500: kubelet does not look at the status, so the hook succeeded
// and nothing is recorded.
func ExampleHTTPOutcome() {
	t := hooks.Target{Pod: hooks.PodRef{Name: "web", Namespace: "default", UID: "42"}, Container: "app"}
	o := hooks.HTTPOutcome(t, "/shutdown", 500, nil)
	fmt.Println(o.Result, hooks.EffectOf(hooks.PreStop, o).Event.IsZero())
	// Output: Success true
}
