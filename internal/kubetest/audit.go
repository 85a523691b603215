package kubetest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// writeVerbs are the verbs that change what the server stores.
var writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}

// auditPolicy records the writes of users at the Metadata level (who, what, when; no bodies),
// once each, when the response is complete.
func auditPolicy(users []string) []byte {
	return []byte(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  users: [` + quoteList(users) + `]
  verbs: [` + quoteList(writeVerbs) + `]
- level: None
`)
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// Write is one write the API server answered, from its audit log.
type Write struct {
	User        string
	Verb        string // create, update, patch, delete, deletecollection
	Resource    string // pods, nodes, leases, events, ...
	Subresource string // status, binding, ...
	Code        int    // the response's HTTP status
	// Received is when the server received the request.
	Received time.Time
}

// What is the verb and resource, as "patch pods/status".
func (w Write) What() string {
	if w.Subresource != "" {
		return w.Verb + " " + w.Resource + "/" + w.Subresource
	}
	return w.Verb + " " + w.Resource
}

// auditEvent is the part of an audit.k8s.io/v1 Event that Write keeps.
type auditEvent struct {
	Stage string `json:"stage"`
	Verb  string `json:"verb"`
	User  struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
}

// AuditWrites reads the writes of Options.AuditUsers from the audit log so far. The server
// logs a request as it completes, so a write answered a moment ago may not be there yet:
// select by Received rather than by when the log was read.
func (s *APIServer) AuditWrites() ([]Write, error) {
	if s.AuditLog == "" {
		return nil, errors.New("kube-apiserver: no audit log (Options.AuditUsers is empty)")
	}
	return readAuditWrites(s.AuditLog)
}

func readAuditWrites(path string) ([]Write, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // nothing written yet
	}
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	var writes []Write
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var e auditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// The server may be writing the last line as it is read.
			if len(sc.Bytes()) > 0 && sc.Bytes()[len(sc.Bytes())-1] != '}' {
				break
			}
			return nil, fmt.Errorf("audit log %s line %d: %w", path, line, err)
		}
		if e.Stage != "ResponseComplete" {
			continue
		}
		w := Write{User: e.User.Username, Verb: e.Verb, Received: e.RequestReceivedTimestamp}
		if e.ObjectRef != nil {
			w.Resource, w.Subresource = e.ObjectRef.Resource, e.ObjectRef.Subresource
		}
		if e.ResponseStatus != nil {
			w.Code = e.ResponseStatus.Code
		}
		writes = append(writes, w)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	return writes, nil
}
