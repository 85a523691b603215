// Package kubenode runs podlife as Kubernetes nodes: a pod created through the API server with
// spec.nodeName set to a podlife node lives by kubelet's rules, on a simulated runtime (a
// KWOK-like node that is kubelet-exact) or on containerd (a real node). Start runs one or many
// nodes in one process; cmd/podlife-node is the command.
//
// Each node is virtual-kubelet's pod controller and node controller (github.com/virtual-kubelet/
// virtual-kubelet/node) over a provider built on a lifecycle.Agent, with an in-memory store
// (lifecycle/memstore) between the two, so that the Machine is the only place a lifecycle rule
// lives and the Agent's recovery, identity and deletion rules hold here as everywhere:
//   - CreatePod binds the pod to the agent with its API UID (lifecycle.Client.Bind);
//   - UpdatePod gives the agent a new spec when a container image or activeDeadlineSeconds
//     changed (lifecycle.Client.UpdateSpec); any other change (labels, tolerations, ...) is
//     logged and otherwise ignored, as kubelet acts on nothing else;
//   - DeletePod asks for the deletion with the pod's deletionGracePeriodSeconds (the agent
//     gives it in full from when it sees it; a second, shorter one restarts the stop), or with
//     grace 0 when the API object is already gone (a forced deletion);
//   - every status the agent writes is pushed to the pod controller (NotifyPods), which writes
//     it to the API, as kube.ToPodStatus gives it (with the node's address as hostIP, and the
//     conditions others own kept);
//   - the pods' events (lifecycle.Record: Pulled, Created, Started, Killing, BackOff,
//     Unhealthy, DeadlineExceeded, ...) become Kubernetes events on the pod through client-go's
//     event recorder, so `kubectl describe pod` shows them.
//
// The API object of a deleted pod goes when podlife's stop ends, not after the whole grace:
// virtual-kubelet's pod controller deletes it once the deletion grace has passed (or at once
// when no app container runs), so the provider holds those deletions back while the pod still
// stops; once the final status is in the API (the pod controller writes it; the provider does
// after 5 s), it deletes the object with grace 0 and a UID precondition, as kubelet's status
// manager does.
//
// A pod the API server accepts but podlife does not fully model runs without the fields it
// drops: they are logged, and those a node would act on are listed in a Warning event
// (ReasonNotModelled). A pod podlife cannot run at all is rejected as kubelet's admission
// rejects one: Failed, with reason ReasonUnsupported and a message, never an error of the node.
//
// On a simulated node (SimNode), each pod's ScriptAnnotation says what its containers do:
// simruntime's JSON form of a PodScript, for example
//
//	metadata:
//	  annotations:
//	    podlife.io/script: |
//	      {"containers": {"app": {"runs": [{"for": "5s", "exitCode": 1}, {"for": "5s", "exitCode": 1}, {}],
//	                              "probes": {"readiness": {"fail": true, "failFrom": "20s", "failUntil": "40s"}}}}}
//
// (the app container crashes twice, then runs; its readiness probe fails from 20 s to 40 s
// after each start). Without the annotation every container runs until it is stopped.
//
// A node whose process restarts recovers its pods as kubelet does: before its agent starts, the
// provider puts the node's pods from the API server (specs, deletions and statuses) into the
// agent's store, and the agent restores each from its status and what the runtime still runs
// (lifecycle.Restore without a checkpoint): no container is started twice, none is lost.
//
// The node registers with its capacity, conditions (Ready, no pressure), addresses and
// nodeInfo, and its lease (40 s unless Options.LeaseDuration says otherwise) is renewed every
// quarter of its duration, which keeps it Ready; a node the server shows otherwise while its
// process runs (the node lifecycle controller marked it Unknown after the process was paused)
// reports Ready again at once, as kubelet does. Group.Stats counts pods, machine steps, status
// pushes, events and every API request by verb and resource.
package kubenode
