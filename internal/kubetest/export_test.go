package kubetest

// Exported for the tests of this package.
var (
	SourceHash = sourceHash
	ModuleRoot = moduleRoot
)
