package etcdstore

import "github.com/podlife/podlife/lifecycle"

// The Supervisor works on any lifecycle.Store and lives in lifecycle, so that a simulation can
// lose a node too (podlife/scenario); these names keep the adapter's API, under which it was
// first written, working.

// SupervisorWriter is lifecycle.SupervisorWriter.
const SupervisorWriter = lifecycle.SupervisorWriter

// SupervisorConfig is lifecycle.SupervisorConfig.
type SupervisorConfig = lifecycle.SupervisorConfig

// Supervisor is lifecycle.Supervisor: node-liveness for a scheduler, which marks the pods of a
// node whose lease key went (the etcd lease of HoldLease expired) Unknown with reason NodeLost.
type Supervisor = lifecycle.Supervisor

// NewSupervisor is lifecycle.NewSupervisor.
func NewSupervisor(cfg SupervisorConfig) (*Supervisor, error) { return lifecycle.NewSupervisor(cfg) }
