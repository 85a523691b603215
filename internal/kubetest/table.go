package kubetest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/podlife/podlife/lifecycle/kube"
	"github.com/podlife/podlife/phase"
)

// tableAccept asks the API server for its Table rendering, the rows `kubectl get` prints.
const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io"

// PodRow is one row of the server's `kubectl get pods` table.
type PodRow struct {
	Namespace, Name string
	phase.Columns
	// Pod is the pod the row was printed from, when asked for (PodTable).
	Pod *v1.Pod
}

// PodColumns returns the STATUS, READY and RESTARTS cells the API server prints for the pods of
// namespace ("" for all) that opts select: the oracle for phase.KubectlColumns. The server
// renders "N (5m ago)" against its own clock at the time of the request.
func PodColumns(ctx context.Context, c kubernetes.Interface, namespace string, opts metav1.ListOptions) ([]PodRow, error) {
	raw, err := c.CoreV1().RESTClient().Get().Namespace(namespace).Resource("pods").
		VersionedParams(&opts, scheme.ParameterCodec).SetHeader("Accept", tableAccept).Do(ctx).Raw()
	if err != nil {
		return nil, fmt.Errorf("pods table: %w", err)
	}
	return decodePodTable(raw)
}

// PodTable is PodColumns with each row's whole pod (includeObject=Object): the columns and the
// status they were printed from, read at once.
func PodTable(ctx context.Context, c kubernetes.Interface, namespace string, opts metav1.ListOptions) ([]PodRow, error) {
	raw, err := c.CoreV1().RESTClient().Get().Namespace(namespace).Resource("pods").
		VersionedParams(&opts, scheme.ParameterCodec).Param("includeObject", string(metav1.IncludeObject)).
		SetHeader("Accept", tableAccept).Do(ctx).Raw()
	if err != nil {
		return nil, fmt.Errorf("pods table: %w", err)
	}
	return decodePodTable(raw)
}

// PodColumnsOf is PodColumns for one pod.
func PodColumnsOf(ctx context.Context, c kubernetes.Interface, namespace, name string) (PodRow, error) {
	raw, err := c.CoreV1().RESTClient().Get().Namespace(namespace).Resource("pods").Name(name).
		SetHeader("Accept", tableAccept).Do(ctx).Raw()
	if err != nil {
		return PodRow{}, fmt.Errorf("pod %s/%s table: %w", namespace, name, err)
	}
	rows, err := decodePodTable(raw)
	if err != nil {
		return PodRow{}, err
	}
	if len(rows) != 1 {
		return PodRow{}, fmt.Errorf("pod %s/%s table: %d rows, want 1", namespace, name, len(rows))
	}
	return rows[0], nil
}

// decodePodTable reads the Name, Ready, Status and Restarts cells by their column names, and the
// namespace from each row's object metadata.
func decodePodTable(raw []byte) ([]PodRow, error) {
	var t metav1.Table
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("decoding the pods table: %w", err)
	}
	if t.Kind != "Table" {
		return nil, fmt.Errorf("the server answered a %q, not a Table", t.Kind)
	}
	col := map[string]int{}
	for i, d := range t.ColumnDefinitions {
		col[d.Name] = i
	}
	for _, name := range []string{"Name", "Ready", "Status", "Restarts"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("the pods table has no %s column (columns: %v)", name, t.ColumnDefinitions)
		}
	}
	rows := make([]PodRow, 0, len(t.Rows))
	for i, r := range t.Rows {
		cell := func(name string) (string, error) {
			j := col[name]
			if j >= len(r.Cells) {
				return "", fmt.Errorf("pods table row %d: no %s cell", i, name)
			}
			s, ok := r.Cells[j].(string)
			if !ok {
				return "", fmt.Errorf("pods table row %d: %s cell is %T %v, not a string", i, name, r.Cells[j], r.Cells[j])
			}
			return s, nil
		}
		var row PodRow
		var err error
		for _, f := range []struct {
			name string
			dst  *string
		}{{"Name", &row.Name}, {"Ready", &row.Ready}, {"Status", &row.Status}, {"Restarts", &row.Restarts}} {
			if *f.dst, err = cell(f.name); err != nil {
				return nil, err
			}
		}
		if len(r.Object.Raw) > 0 {
			// The object's metadata by default (a PartialObjectMetadata), the whole Pod on request.
			var pod v1.Pod
			if err := json.Unmarshal(r.Object.Raw, &pod); err != nil {
				return nil, fmt.Errorf("pods table row %d: object: %w", i, err)
			}
			row.Namespace = pod.Namespace
			if pod.Kind == "Pod" {
				row.Pod = &pod
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// MatchColumns checks the server's columns against phase.KubectlColumns of in, with in.Now
// anywhere in [from, to], the interval in which the server rendered them. "(5m ago)" is a step
// function of time, so with to-from under a second any value the server can have printed is the
// one at from or the one at to. It returns nil on a match, else an error with both sides.
func MatchColumns(server phase.Columns, in phase.ColumnsInput, from, to time.Time) error {
	in.Now = from
	atFrom := phase.KubectlColumns(in)
	if server == atFrom {
		return nil
	}
	in.Now = to
	if atTo := phase.KubectlColumns(in); server == atTo {
		return nil
	}
	return fmt.Errorf("the API server prints %+v, phase.KubectlColumns %+v", server, atFrom)
}

// CheckPodColumns asks the server for the row of one pod at resourceVersion (exactly that
// version, from etcd; "" for the latest) and checks its columns against phase.KubectlColumns of
// the very object the server printed them from (its spec read by lifecycle/kube). It returns the
// row, and an error when they differ or the pod cannot be read.
func CheckPodColumns(ctx context.Context, c kubernetes.Interface, namespace, name, resourceVersion string) (PodRow, error) {
	opts := metav1.ListOptions{FieldSelector: "metadata.name=" + name}
	if resourceVersion != "" {
		opts.ResourceVersion, opts.ResourceVersionMatch = resourceVersion, metav1.ResourceVersionMatchExact
	}
	from := time.Now()
	rows, err := PodTable(ctx, c, namespace, opts)
	to := time.Now()
	if err != nil {
		return PodRow{}, err
	}
	if len(rows) != 1 || rows[0].Pod == nil {
		return PodRow{}, fmt.Errorf("pod %s/%s at %q: %d rows, want 1 with its object", namespace, name, resourceVersion, len(rows))
	}
	row := rows[0]
	spec, _, err := kube.FromPodSpec(row.Pod.Spec)
	if err != nil {
		return row, err
	}
	st, err := kube.FromPodStatus(row.Pod.Status)
	if err != nil {
		return row, err
	}
	in := phase.ColumnsInput{Spec: &spec, Status: &st}
	if dt := row.Pod.DeletionTimestamp; dt != nil {
		in.DeletionTimestamp = &dt.Time
	}
	if err := MatchColumns(row.Columns, in, from, to); err != nil {
		return row, fmt.Errorf("pod %s/%s at %s (phase %s, reason %q): %w", namespace, name, row.Pod.ResourceVersion, st.Phase, st.Reason, err)
	}
	return row, nil
}
