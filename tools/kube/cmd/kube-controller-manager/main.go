// Command kube-controller-manager is the upstream kube-controller-manager of the release the
// tools module pins, with --max-lifetime and --exit-with-parent added (see internal/lifetime).
package main

import (
	"os"
	_ "time/tzdata" // for CronJob time zones, as upstream's main

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register" // for JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version" // for version metric registration
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"

	"github.com/podlife/podlife/tools/kube/internal/lifetime"
)

func main() {
	command := app.NewControllerManagerCommand()
	lifetime.Bound(command)
	os.Exit(cli.Run(command))
}
