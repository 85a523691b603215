package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScenarioErrors: a bad scenario file fails as a manifest does: exit 2, every problem on
// its own line with the file's line and the field path.
func TestScenarioErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: busybox:1.36\n")
	const pod = "podsim-scenario: v1\npod:\n  manifest: pod.yaml\n"
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"no version", "pod: {manifest: pod.yaml}\n", []string{`x.yaml:1: podsim-scenario: Required value: want podsim-scenario: v1`}},
		{"another version", "podsim-scenario: v2\npod: {manifest: pod.yaml}\n", []string{`x.yaml:1: podsim-scenario: Unsupported value: "v2": supported values: "v1"`}},
		{"unknown fields and wrong types, at once", pod + "untill: 5m\ntimeline:\n- at: 10\n  delete: {}\n",
			[]string{`x.yaml:4: untill: Forbidden: unknown field "untill"`, `x.yaml:6: timeline[0].at: Invalid value: "10": must be a string, not a number`}},
		{"a bad duration", pod + "timeline:\n- {at: soon, delete: {}}\n", []string{`x.yaml:5: timeline[0].at: Invalid value: "soon": not a duration (write e.g. "20s", "1m30s")`}},
		{"no operation", pod + "timeline:\n- at: 1m\n", []string{`x.yaml:5: timeline[0]: Required value: one operation: delete, setImage, setDeadline, agent, node, sandbox or imagePresent`}},
		{"two operations in one entry", pod + "timeline:\n- at: 1m\n  delete: {}\n  agent: stop\n", []string{`x.yaml:5: timeline[0]: Invalid value: one operation per entry; give each its own`}},
		{"a negative grace", pod + "timeline:\n- at: 1m\n  delete:\n    grace: -1\n", []string{`x.yaml:7: timeline[0].delete.grace: Invalid value: -1: want 0 (a forced deletion) or more seconds`}},
		{"an unknown word", pod + "timeline:\n- {at: 1m, agent: restart}\n", []string{`x.yaml:5: timeline[0].agent: Unsupported value: "restart": supported values: "start", "stop"`}},
		{"an image update of no container", pod + "timeline:\n- at: 1m\n  setImage: {container: api, image: x}\n", []string{`x.yaml:6: timeline[0].setImage.container: Unsupported value: "api": supported values: "web"`}},
		{"a deadline of 0", pod + "timeline:\n- at: 1m\n  setDeadline:\n    seconds: 0\n",
			[]string{`x.yaml:7: timeline[0].setDeadline.seconds: Invalid value: 0: want 1 to 2147483647 seconds`}},
		{"a deadline without seconds", pod + "timeline:\n- {at: 1m, setDeadline: {}}\n", []string{`x.yaml:5: timeline[0].setDeadline.seconds: Required value`}},
		{"a deadline raised, later in the file but earlier in time", pod + "timeline:\n- {at: 2m, setDeadline: {seconds: 90}}\n- {at: 1m, setDeadline: {seconds: 60}}\n",
			[]string{`x.yaml:5: timeline[0].setDeadline.seconds: Invalid value: 90: activeDeadlineSeconds is 60 by then, and may only be lowered`}},
		{"the node back before it was lost, on its own line", pod + "timeline:\n- {at: 1m, node: lost}\n- {at: 2m, node: back}\n- {at: 3m, node: back}\n",
			[]string{`x.yaml:7: timeline[2]: Invalid value: the node is not lost`}},
		{"an operation after the end", pod + "until: 1m\ntimeline:\n- {at: 2m, sandbox: lost}\n", []string{`x.yaml:6: timeline[0]: Invalid value: not within 0s and until 1m0s`}},
		{"a script of no container", pod + "script:\n  containers:\n    api:\n      runs: [{for: 1s}]\n", []string{`x.yaml:6: script.containers.api: Invalid value: the pod has no container "api" (it has web)`}},
		{"a script's bad value, on its line", pod + "script:\n  containers:\n    web:\n      runs:\n      - {for: 1s}\n      - {for: 2s, exitCode: 300}\n",
			[]string{`x.yaml:9: script.containers.web.runs[1].exitCode: Invalid value: 300 is not from 0 to 255`}},
		{"a script's wrong type under a container", pod + "script:\n  containers:\n    web:\n      runs:\n      - {for: 1s, times: many}\n",
			[]string{`x.yaml:8: script.containers[web].runs[0].times: Invalid value: "many": must be an integer, not a string`}},
		{"an invalid inline spec", "podsim-scenario: v1\npod:\n  spec:\n    containers:\n    - name: web\n      imagePullPolicy: Sometimes\n",
			[]string{`x.yaml:5: pod.spec.containers[0].image: Required value`, `x.yaml:6: pod.spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes"`}},
		{"a manifest and a spec", "podsim-scenario: v1\npod:\n  manifest: pod.yaml\n  spec: {containers: [{name: a, image: b}]}\n", []string{`x.yaml:2: pod: Invalid value: give a manifest or a spec, not both`}},
		{"a manifest that is not there", "podsim-scenario: v1\npod:\n  manifest: none.yaml\n", []string{`x.yaml:3: pod.manifest: kube: open `, `none.yaml: no such file or directory`}},
		{"until too long", pod + "until: 25h\n", []string{`x.yaml:4: until: Invalid value: "25h": at most 24h`}},
		{"two documents", pod + "---\npodsim-scenario: v1\n", []string{`x.yaml:5: kube: syntax error: a second document; the file holds one`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, "x.yaml", tc.text)
			code, stdout, stderr := runCmd(t, "-scenario", path)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, stdout)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
		})
	}
}

// TestScenarioFlags: what -scenario takes from the command line and what it refuses.
func TestScenarioFlags(t *testing.T) {
	dir := t.TempDir()
	manifest, err := filepath.Abs(filepath.Join("..", "manifests", "init-containers.yaml"))
	require.NoError(t, err)
	noPod := writeFile(t, dir, "nopod.yaml", "podsim-scenario: v1\nuntil: 2m\ntimeline:\n- {at: 1m, delete: {grace: 5}}\n")
	withPod := writeFile(t, dir, "pod.yaml", "podsim-scenario: v1\npod:\n  manifest: "+manifest+"\nuntil: 2m\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"-delete-at", []string{"-scenario", noPod, "-f", manifest, "-delete-at", "1m"}, "-delete-at and -grace with -scenario"},
		{"-grace", []string{"-scenario", noPod, "-f", manifest, "-grace", "1"}, "-delete-at and -grace with -scenario"},
		{"-script", []string{"-scenario", noPod, "-f", manifest, "-script", "s.json"}, "-script with -scenario"},
		{"no pod anywhere", []string{"-scenario", noPod}, "gives no pod: add pod: (a manifest or a spec) to it, or give one with -f or -spec"},
		{"a pod twice", []string{"-scenario", withPod, "-f", manifest}, "gives the pod, and so does -f or -spec: use one"},
		{"-svg over it", []string{"-scenario", noPod, "-svg", noPod}, "would overwrite an input file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tc.args...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tc.want)
		})
	}

	t.Run("-f gives the pod of a scenario without one", func(t *testing.T) {
		code, out, stderr := runCmd(t, "-scenario", noPod, "-f", manifest)
		require.Equal(t, exitOK, code, stderr)
		assert.Contains(t, out, "(manifest "+manifest+", scenario "+noPod+", no script: init containers exit 0 after 2s, containers run until stopped)")
		assert.Contains(t, out, "\n1m    Running  Terminating      1/1    0         DeleteRequested: grace 5s\n")
		assert.Contains(t, out, "\nThe pod stopped at 1m in phase Failed")
	})
	t.Run("-until cuts the scenario's until", func(t *testing.T) {
		code, out, stderr := runCmd(t, "-scenario", withPod, "-until", "1m")
		require.Equal(t, exitOK, code, stderr)
		assert.Contains(t, out, "Virtual time ran out at 1m (-until)")
		code, _, stderr = runCmd(t, "-scenario", noPod, "-f", manifest, "-until", "30s")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "timeline[0]: Invalid value: not within 0s and until 30s")
	})
	t.Run("a file of the golden traces' format plays", func(t *testing.T) {
		code, out, stderr := runCmd(t, "-scenario", filepath.Join("..", "..", "lifecycle", "testdata", "node-lost-and-back.txt"), "-svg", filepath.Join(dir, "x.svg"))
		require.Equal(t, exitOK, code, stderr)
		assert.Contains(t, out, "\n1m     Unknown  NodeLost           1/1    0            supervisor: Node node-1 which was running pod pod is unresponsive\n")
		assert.Contains(t, out, "the new agent recovers the pod from the store and the runtime")
		assert.FileExists(t, filepath.Join(dir, "x.svg"))
	})
}

// TestDefaults: a container nothing scripts does what a user of a manifest expects, the header
// says which defaults applied, and a script's runs override them container by container.
func TestDefaults(t *testing.T) {
	initExample := filepath.Join("..", "manifests", "init-containers.yaml")
	code, out, stderr := runCmd(t, "-f", initExample, "-delete-at", "0", "-until", "1m")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "no script: init containers exit 0 after 2s, containers run until stopped)")
	assert.Contains(t, out, "\n4s    Running  Running          1/1    0         Started myapp-container")

	code, out, stderr = runCmd(t, "-f", filepath.Join("..", "manifests", "job.yaml"), "-delete-at", "0")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "no script: the Job's containers exit 0 after 5s)")
	assert.Contains(t, out, "\nThe pod stopped at 5s in phase Succeeded")

	script := writeFile(t, t.TempDir(), "s.json", `{"containers": {"init-myservice": {"runs": [{}]}}}`)
	code, out, stderr = runCmd(t, "-f", initExample, "-script", script, "-delete-at", "0", "-until", "1m")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, ", script "+script+"; unscripted: init containers exit 0 after 2s, containers run until stopped)")
	assert.Contains(t, out, "Virtual time ran out at 1m (-until) with the pod in phase Pending", "init-myservice waits for ever, as scripted")
	assert.NotContains(t, out, "Init:1/2")

	spec := writeFile(t, t.TempDir(), "spec.json", `{"initContainers": [{"name": "setup", "image": "busybox:1.36"}], "containers": [{"name": "app", "image": "busybox:1.36"}]}`)
	code, out, stderr = runCmd(t, "-spec", spec, "-delete-at", "0", "-until", "10s")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "no script: init containers exit 0 after 2s, containers run until stopped)")
	assert.Contains(t, out, "Started app")
}
