package kubenode

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// counters are one node's counts, updated lock-free on the pods' goroutines.
type counters struct {
	steps    atomic.Uint64 // Readys the machines handed out: events handled, roughly one each
	statuses atomic.Uint64 // status changes the machines reported
	events   atomic.Uint64 // Kubernetes events recorded on pods
	pushed   atomic.Uint64 // statuses given to the pod controller (each becomes a status write)
}

// Stats are a Group's counts so far, for a metrics endpoint, a log line or a benchmark.
type Stats struct {
	// Nodes is how many nodes the group runs.
	Nodes int `json:"nodes"`
	// Pods is how many pods the nodes hold now; Phases counts them by their last phase ("" for
	// a pod that has not reported yet).
	Pods   int            `json:"pods"`
	Phases map[string]int `json:"phases"`
	// Steps counts what the pods' machines handed out: about one per event (a container exit, a
	// probe result, a tick) each machine handled.
	Steps uint64 `json:"steps"`
	// StatusChanges counts the statuses the machines reported; StatusPushes those the nodes gave
	// the pod controllers to write (each one PUT of pods/status or none when it is outdated).
	StatusChanges uint64 `json:"statusChanges"`
	StatusPushes  uint64 `json:"statusPushes"`
	// Events counts the Kubernetes events recorded on pods (the recorder may merge or drop some).
	Events uint64 `json:"events"`
	// API counts the requests the group sent to the API server, by verb and resource
	// ("PUT pods/status", "POST events", "WATCH pods"), every node and controller included.
	API map[string]uint64 `json:"api"`
}

// APIWrites is the number of requests in API that change something (POST, PUT, PATCH, DELETE).
func (s Stats) APIWrites() uint64 {
	var n uint64
	for k, v := range s.API {
		verb, _, _ := strings.Cut(k, " ")
		switch verb {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			n += v
		}
	}
	return n
}

// requestCounter counts the API requests of the clients it wraps, by verb and resource.
type requestCounter struct {
	mu sync.Mutex
	n  map[string]uint64
}

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		key := requestKind(r.Method, r.URL)
		c.mu.Lock()
		c.n[key]++
		c.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

func (c *requestCounter) snapshot() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]uint64, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// requestKind is "VERB resource[/subresource]" of an API request: /api/v1/namespaces/ns/pods/p/status
// with PUT is "PUT pods/status"; a GET with watch=true is a WATCH.
func requestKind(method string, u *url.URL) string {
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	// /api/v1/... or /apis/group/version/...
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return method + " " + u.Path
	}
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) > 2 {
		parts = parts[2:]
	}
	resource := "-"
	if len(parts) > 0 {
		resource = parts[0]
	}
	if len(parts) > 2 {
		resource += "/" + parts[2]
	}
	if method == http.MethodGet && u.Query().Get("watch") == "true" {
		method = "WATCH"
	}
	return method + " " + resource
}
