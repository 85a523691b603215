// Command kube-scheduler is the upstream kube-scheduler of the release the tools module pins,
// with --max-lifetime and --exit-with-parent added (see internal/lifetime).
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register" // for JSON log format registration, as upstream's main
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version" // for version metric registration
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	"github.com/podlife/podlife/tools/kube/internal/lifetime"
)

func main() {
	command := app.NewSchedulerCommand()
	lifetime.Bound(command)
	os.Exit(cli.Run(command))
}
