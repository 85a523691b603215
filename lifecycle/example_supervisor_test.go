package lifecycle_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/phase"
)

// A Supervisor needs only a Store: here, on memstore, a node's lease key is deleted, as etcd
// does when the lease an agent held expires (lifecycle/etcdstore's HoldLease), and the node's
// running pod turns Unknown, reason NodeLost, one Seq above the agent's last status.
func ExampleSupervisor() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := memstore.New()
	keys := lifecycle.Keys{}
	ref := lifecycle.PodRef{Namespace: "default", Name: "web"}
	b, _ := lifecycle.EncodeStatus(lifecycle.StatusRecord{Pod: ref, Node: "node-1", Seq: 4,
		Status: phase.PodStatus{Phase: phase.Running}})
	if _, err := store.Put(ctx, keys.Status("node-1", ref), b, 0); err != nil {
		log.Fatal(err)
	}
	if _, err := store.Put(ctx, keys.Lease("node-1"), nil, 0); err != nil {
		log.Fatal(err)
	}

	sup, err := lifecycle.NewSupervisor(lifecycle.SupervisorConfig{Store: store, Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = sup.Run(ctx) }()

	if err := store.Delete(ctx, keys.Lease("node-1"), lifecycle.AnyRevision); err != nil {
		log.Fatal(err)
	}
	client := lifecycle.Client{Store: store, Keys: keys}
	for {
		st, err := client.Status(ctx, "node-1", ref)
		if err != nil {
			log.Fatal(err)
		}
		if st.Status.Phase == phase.Unknown {
			fmt.Println(st.Status.Phase, st.Status.Reason, st.Writer, st.Seq)
			fmt.Println(st.Status.Message)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Output:
	// Unknown NodeLost supervisor 5
	// Node node-1 which was running pod web is unresponsive
}
