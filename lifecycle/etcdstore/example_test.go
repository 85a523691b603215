package etcdstore_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/etcdstore"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// An agent on etcd: TLS with a client certificate whose common name is the node's etcd user
// (made by GrantNode), the node's lease held while the agent runs, and on the scheduler's side a
// Supervisor that marks the pods of a node whose lease expired Unknown. It needs a cluster, so it
// does not run here.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := zap.NewExample()

	cert, err := tls.LoadX509KeyPair("node-1.crt", "node-1.key") // CN = etcdstore.NodeUser(keys, "node-1")
	if err != nil {
		log.Fatal(err)
	}
	caPEM, err := os.ReadFile("ca.crt")
	if err != nil {
		log.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	store, err := etcdstore.New(etcdstore.Config{
		Endpoints:      []string{"https://10.0.0.1:2379", "https://10.0.0.2:2379", "https://10.0.0.3:2379"},
		TLS:            &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}},
		DialTimeout:    5 * time.Second,
		RequestTimeout: 5 * time.Second,
		Logger:         logger,
	})
	if err != nil {
		log.Fatal(err) // an *etcdstore.UnavailableError names the endpoints
	}
	defer store.Close()

	keys := lifecycle.Keys{} // /podlife/nodes/node-1/{pods,status}/..., /podlife/nodes/node-1/lease
	if _, err := etcdstore.HoldLease(ctx, store.Client(), keys, "node-1", etcdstore.LeaseOptions{TTL: 10 * time.Second, Logger: logger}); err != nil {
		log.Fatal(err)
	}
	rt := simruntime.NewRuntime(simruntime.NewWorld(simruntime.WorldOptions{}), lifecycle.RealClock{})
	agent, err := lifecycle.NewAgent(lifecycle.AgentConfig{Node: "node-1", Runtime: rt, Setup: rt, Store: store, Keys: keys, Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		if err := agent.Run(ctx); err != nil {
			log.Print(err)
		}
	}()

	// The scheduler's side, with a user that GrantSupervisor made.
	sched, err := etcdstore.New(etcdstore.Config{Endpoints: []string{"https://10.0.0.1:2379"}, Username: "scheduler", Password: "secret",
		TLS: &tls.Config{RootCAs: roots}})
	if err != nil {
		log.Fatal(err)
	}
	sup, err := etcdstore.NewSupervisor(etcdstore.SupervisorConfig{Store: sched, Keys: keys, Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	log.Print(sup.Run(ctx))
}
