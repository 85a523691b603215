package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
)

// A Client binds pods as the API server creates them: names are checked the same way, and a pod
// gets a UID. A ref with that UID names that pod only: once another pod holds the name, calls
// with the old UID fail instead of reaching the new pod.
func ExampleClient_Bind() {
	ctx := context.Background()
	client := lifecycle.Client{Store: memstore.New()}
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1.36"}}}

	_, err := client.Bind(ctx, "node-1", lifecycle.PodRef{Namespace: "default", Name: "Web"}, spec)
	fmt.Println(err)

	web, _ := client.Bind(ctx, "node-1", lifecycle.PodRef{Namespace: "default", Name: "web-0"}, spec)
	fmt.Println("UID given:", len(web.UID) == 36)

	// Forced deletion, and a new pod under the same name (as a StatefulSet does).
	_ = client.Delete(ctx, "node-1", web, new(int64), time.Now())
	next, _ := client.Bind(ctx, "node-1", lifecycle.PodRef{Namespace: "default", Name: "web-0"}, spec)
	err = client.Delete(ctx, "node-1", web, nil, time.Now())
	fmt.Println("old UID:", errors.Is(err, lifecycle.ErrUIDMismatch))
	rec, _, _ := client.Pod(ctx, "node-1", next)
	fmt.Println("new pod deleted:", rec.Deletion != nil)
	// Output:
	// lifecycle: binding a pod: metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')
	// UID given: true
	// old UID: true
	// new pod deleted: false
}
