package podlife_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podlife/podlife"
)

// FuzzValidateAndDefaulted decodes arbitrary JSON into a PodSpec and checks that Validate and
// Defaulted never panic, that every error names a field under spec, that Defaulted is idempotent
// and keeps a valid spec valid.
func FuzzValidateAndDefaulted(f *testing.F) {
	seeds := []string{
		`{}`,
		`{"containers":[{"name":"app","image":"nginx"}]}`,
		`{"containers":null,"initContainers":[{"name":"a","restartPolicy":"Always","restartPolicyRules":[{"action":"RestartAllContainers"}]}]}`,
		`{"containers":[{"name":"App","image":" x","imagePullPolicy":"Sometimes","ports":[{"name":"--","containerPort":-1,"protocol":"ICMP"}]}]}`,
		`{"containers":[{"name":"a","image":"b","livenessProbe":{"exec":{},"httpGet":{"port":{"number":80,"name":"x"}},"periodSeconds":-1,"terminationGracePeriodSeconds":0}}]}`,
		`{"containers":[{"name":"a","image":"b","lifecycle":{"preStop":{"sleep":{"seconds":99}},"postStart":{}}}],"terminationGracePeriodSeconds":-3}`,
		`{"containers":[{"name":"a","image":"b","restartPolicy":"Never","restartPolicyRules":[{"action":"Restart","exitCodes":{"operator":"In","values":[1,1,2]}}]}]}`,
		`{"containers":[{"name":"a","image":"b","env":[{"name":"","secretKeyRef":{},"configMapKeyRef":{"key":".."}}]}],"volumes":[{"name":"v","source":"hostPath","ref":"../x"}],"readinessGates":["a/b/c",""]}`,
		`{"containers":[{"name":"a","image":"b","readinessProbe":{"grpc":{"port":0},"terminationGracePeriodSeconds":5}}]}`,
		`not json`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s podlife.PodSpec
		if json.Unmarshal(data, &s) != nil {
			return
		}
		err := s.Validate()
		checkErrors(t, err)
		d := s.Defaulted()
		dErr := d.Validate()
		checkErrors(t, dErr)
		if err == nil && dErr != nil {
			t.Fatalf("Defaulted made a valid spec invalid: %v", dErr)
		}
		if diff := cmp.Diff(d, d.Defaulted()); diff != "" {
			t.Fatalf("Defaulted is not idempotent:\n%s", diff)
		}
		_ = s.ValidateWith(podlife.FeatureGates{})
		for range s.AllContainers() {
		}
	})
}

func checkErrors(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if !errors.Is(err, podlife.ErrInvalid) {
		t.Fatalf("error does not match ErrInvalid: %v", err)
	}
	var list podlife.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error is not a non-empty ErrorList: %T", err)
	}
	for _, e := range list {
		if !strings.HasPrefix(e.Field, "spec") || e.Type == "" {
			t.Fatalf("bad field error %+v", e)
		}
	}
}
