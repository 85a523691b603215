package podlifetest

import (
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/scenario"
)

// A scenario, its operations, its play on the Sim, its timeline and its file format live in
// package scenario, which a command can link (this package imports testing and rapid). These
// names are the same, so that a test reads podlifetest.Scenario, podlifetest.RunSim,
// podlifetest.Delete(...) and needs one import.

// Scenario is scenario.Scenario: one pod's life to play.
type Scenario = scenario.Scenario

// Op is scenario.Op: one operation at a virtual time.
type Op = scenario.Op

// OpKind is scenario.OpKind: what an Op does.
type OpKind = scenario.OpKind

// Operations (see scenario.OpKind).
const (
	OpDelete         = scenario.OpDelete
	OpUpdateImage    = scenario.OpUpdateImage
	OpLoseSandbox    = scenario.OpLoseSandbox
	OpAddImage       = scenario.OpAddImage
	OpStopAgent      = scenario.OpStopAgent
	OpStartAgent     = scenario.OpStartAgent
	OpStoreDown      = scenario.OpStoreDown
	OpStoreUp        = scenario.OpStoreUp
	OpUpdateDeadline = scenario.OpUpdateDeadline
	OpLoseNode       = scenario.OpLoseNode
	OpNodeBack       = scenario.OpNodeBack
)

// Timeline is scenario.Timeline: what happened to one pod, step by step.
type Timeline = scenario.Timeline

// Step is scenario.Step: one thing a Timeline saw.
type Step = scenario.Step

// RestoreInput is scenario.RestoreInput: what lifecycle.Restore rebuilt a machine from.
type RestoreInput = scenario.RestoreInput

// StatusAt is scenario.StatusAt: a status handed out at a time.
type StatusAt = scenario.StatusAt

// RecordAt is scenario.RecordAt: an event record handed out at a time.
type RecordAt = scenario.RecordAt

// SimOptions is scenario.SimOptions: they tune RunSim.
type SimOptions = scenario.SimOptions

// File is scenario.File: a parsed scenario file.
type File = scenario.File

// Constants of package scenario.
const (
	// DefaultUntil is how long a Scenario runs when its Until is 0.
	DefaultUntil = scenario.DefaultUntil
	// Node is the node a Scenario's pod is bound to.
	Node = scenario.Node
	// MaxSteps bounds a play's timeline (see scenario.MaxSteps).
	MaxSteps = scenario.MaxSteps
	// Version is the scenario file format's version.
	Version = scenario.Version
)

// Errors of package scenario, for errors.Is.
var (
	// ErrBadScenario is wrapped by the errors of Scenario.Validate.
	ErrBadScenario = scenario.ErrBadScenario
	// ErrTooLong is returned by RunSim, and fails RunAgent's test, for a timeline past MaxSteps.
	ErrTooLong = scenario.ErrTooLong
)

// RunSim is scenario.RunSim: it plays sc on a simruntime.Sim.
func RunSim(sc Scenario, opts SimOptions) (*Timeline, error) { return scenario.RunSim(sc, opts) }

// NewTimeline is scenario.NewTimeline: an empty timeline of pod, bound with spec at start.
func NewTimeline(pod lifecycle.PodRef, spec podlife.PodSpec, start time.Time) *Timeline {
	return scenario.NewTimeline(pod, spec, start)
}

// ParseFile is scenario.ParseFile: it reads a scenario file.
func ParseFile(data []byte) (*File, error) { return scenario.ParseFile(data) }

// ParseScenario is scenario.ParseScenario: it reads a scenario file's header.
func ParseScenario(data []byte) (*Scenario, error) { return scenario.ParseScenario(data) }

// DefaultPod is scenario.DefaultPod: the pod of a Scenario whose Pod is the zero value.
func DefaultPod() lifecycle.PodRef { return scenario.DefaultPod() }

// Epoch is scenario.Epoch: when a scenario starts.
func Epoch() time.Time { return scenario.Epoch() }

// Delete is scenario.Delete: an OpDelete at at with the spec's grace.
func Delete(at time.Duration) Op { return scenario.Delete(at) }

// DeleteGrace is scenario.DeleteGrace: an OpDelete at at with grace seconds (0: forced).
func DeleteGrace(at time.Duration, seconds int64) Op { return scenario.DeleteGrace(at, seconds) }

// UpdateImage is scenario.UpdateImage: an OpUpdateImage at at.
func UpdateImage(at time.Duration, container, image string) Op {
	return scenario.UpdateImage(at, container, image)
}

// UpdateDeadline is scenario.UpdateDeadline: an OpUpdateDeadline at at.
func UpdateDeadline(at time.Duration, seconds int64) Op { return scenario.UpdateDeadline(at, seconds) }

// LoseSandbox is scenario.LoseSandbox: an OpLoseSandbox at at.
func LoseSandbox(at time.Duration) Op { return scenario.LoseSandbox(at) }

// AddImage is scenario.AddImage: an OpAddImage at at.
func AddImage(at time.Duration, image string) Op { return scenario.AddImage(at, image) }

// StopAgent is scenario.StopAgent: an OpStopAgent at at.
func StopAgent(at time.Duration) Op { return scenario.StopAgent(at) }

// StartAgent is scenario.StartAgent: an OpStartAgent at at.
func StartAgent(at time.Duration) Op { return scenario.StartAgent(at) }

// StoreDown is scenario.StoreDown: an OpStoreDown at at.
func StoreDown(at time.Duration) Op { return scenario.StoreDown(at) }

// StoreUp is scenario.StoreUp: an OpStoreUp at at.
func StoreUp(at time.Duration) Op { return scenario.StoreUp(at) }

// LoseNode is scenario.LoseNode: an OpLoseNode at at.
func LoseNode(at time.Duration) Op { return scenario.LoseNode(at) }

// NodeBack is scenario.NodeBack: an OpNodeBack at at.
func NodeBack(at time.Duration) Op { return scenario.NodeBack(at) }
