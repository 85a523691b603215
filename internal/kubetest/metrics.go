package kubetest

import (
	"bytes"
	"context"
	"fmt"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Request is a kind of request in the API server's apiserver_request_total.
type Request struct {
	Verb        string // as the metric has it: POST, PUT, PATCH, DELETE, GET, LIST, WATCH, ...
	Resource    string
	Subresource string
}

// IsWrite reports whether the request changes what the server stores.
func (r Request) IsWrite() bool {
	switch r.Verb {
	case "POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY":
		return true
	}
	return false
}

// RequestCounts reads apiserver_request_total from the server's /metrics, summed over the
// labels other than verb, resource and subresource (response code, scope, group, version). The
// counts are the server's totals since it started, whoever sent the requests: subtract two
// readings for what happened between them.
func (s *APIServer) RequestCounts(ctx context.Context) (map[Request]float64, error) {
	raw, err := s.client.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("kube-apiserver /metrics: %w", err)
	}
	return parseRequestCounts(raw)
}

func parseRequestCounts(raw []byte) (map[Request]float64, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("kube-apiserver /metrics: %w", err)
	}
	counts := map[Request]float64{}
	for _, m := range families["apiserver_request_total"].GetMetric() {
		var r Request
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "verb":
				r.Verb = l.GetValue()
			case "resource":
				r.Resource = l.GetValue()
			case "subresource":
				r.Subresource = l.GetValue()
			}
		}
		counts[r] += m.GetCounter().GetValue()
	}
	return counts, nil
}
