// Command kwok is sigs.k8s.io/kwok's kwok of the version the tools module pins (the fake-node
// controller that plays Stages on nodes and pods), with --max-lifetime and --exit-with-parent
// added (see internal/lifetime). Its main is upstream's cmd/kwok/main.go (Copyright 2022 The
// Kubernetes Authors, Apache License 2.0) with the lifetime bound added to the command.
//
// The binary has no stages of its own: pass them with --config (internal/kubetest ships the
// default fast ones).
package main

import (
	"os"

	"github.com/spf13/pflag"
	"sigs.k8s.io/kwok/pkg/config"
	"sigs.k8s.io/kwok/pkg/kwok/cmd"
	"sigs.k8s.io/kwok/pkg/log"
	"sigs.k8s.io/kwok/pkg/utils/signals"

	"github.com/podlife/podlife/tools/kube/internal/lifetime"
)

func main() {
	flagset := pflag.NewFlagSet("global", pflag.ContinueOnError)
	flagset.ParseErrorsAllowlist.UnknownFlags = true
	flagset.Usage = func() {}

	ctx := signals.SetupSignalContext()
	ctx, logger := log.InitFlags(ctx, flagset)

	ctx, err := config.InitFlags(ctx, flagset)
	if err != nil {
		_, _ = os.Stderr.Write([]byte(flagset.FlagUsages()))
		logger.Error("Init config flags", "err", err)
		os.Exit(1)
	}

	command := cmd.NewCommand(ctx)
	command.PersistentFlags().AddFlagSet(flagset)
	lifetime.Bound(command)
	if err := command.ExecuteContext(ctx); err != nil {
		logger.Error("Execute exit", "err", err)
		os.Exit(1)
	}
}
