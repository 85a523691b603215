package hooks_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
)

func grace(s int64) *int64 { return &s }

func TestValidate(t *testing.T) {
	const path = podlife.Path("spec.containers[0].lifecycle.preStop")
	tests := []struct {
		name  string
		h     *podlife.LifecycleHandler
		grace *int64
		want  []string // the errors, in order
	}{
		{"an exec handler with a command is valid", &podlife.LifecycleHandler{Exec: execH}, nil, nil},
		{"an httpGet handler with a port is valid", &podlife.LifecycleHandler{HTTPGet: httpH}, nil, nil},
		{"a sleep handler within the grace period is valid", &podlife.LifecycleHandler{Sleep: sleepH}, grace(30), nil},
		{"a sleep of 0 seconds is valid since 1.34", &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{}}, grace(30), nil},
		{"a sleep equal to the grace period is valid", &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 30}}, nil, nil},
		{"no handler: must specify a handler type", &podlife.LifecycleHandler{}, nil,
			[]string{"spec.containers[0].lifecycle.preStop: Required value: must specify a handler type"}},
		{"nil handler: must specify a handler type", nil, nil,
			[]string{"spec.containers[0].lifecycle.preStop: Required value: must specify a handler type"}},
		{"each handler past the first: may not specify more than 1 handler type",
			&podlife.LifecycleHandler{Exec: execH, HTTPGet: httpH, Sleep: sleepH}, nil,
			[]string{
				"spec.containers[0].lifecycle.preStop.httpGet: Forbidden: may not specify more than 1 handler type",
				"spec.containers[0].lifecycle.preStop.sleep: Forbidden: may not specify more than 1 handler type",
			}},
		{"exec needs a command", &podlife.LifecycleHandler{Exec: &podlife.ExecAction{}}, nil,
			[]string{"spec.containers[0].lifecycle.preStop.exec.command: Required value"}},
		{"sleep longer than the pod's grace period is invalid", &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 31}}, nil,
			[]string{"spec.containers[0].lifecycle.preStop.sleep.seconds: Invalid value: 31: must be non-negative and less than terminationGracePeriodSeconds (30)"}},
		{"negative sleep is invalid", &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: -1}}, grace(10),
			[]string{"spec.containers[0].lifecycle.preStop.sleep.seconds: Invalid value: -1: must be non-negative and less than terminationGracePeriodSeconds (10)"}},
		{"with a grace period of 0 only a 0 s sleep is valid", &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 1}}, grace(0),
			[]string{"spec.containers[0].lifecycle.preStop.sleep.seconds: Invalid value: 1: must be non-negative and less than terminationGracePeriodSeconds (0)"}},
		{"httpGet port 0 is invalid", &podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{}}, nil,
			[]string{"spec.containers[0].lifecycle.preStop.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive"}},
		{"httpGet port above 65535 is invalid", &podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{Port: podlife.PortNumber(70000)}}, nil,
			[]string{"spec.containers[0].lifecycle.preStop.httpGet.port: Invalid value: 70000: must be between 1 and 65535, inclusive"}},
		{"httpGet by port name is valid", &podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{Port: podlife.PortName("http-admin")}}, nil, nil},
		{"httpGet port name must be an IANA service name", &podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{Port: podlife.PortName("Admin")}}, nil,
			[]string{`spec.containers[0].lifecycle.preStop.httpGet.port: Invalid value: "Admin": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`}},
		{"httpGet scheme HTTPS is valid", &podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{Port: podlife.PortNumber(443), Scheme: "HTTPS"}}, nil, nil},
		{"httpGet scheme other than HTTP or HTTPS is not supported",
			&podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{Port: podlife.PortNumber(80), Scheme: "ftp"}}, nil,
			[]string{`spec.containers[0].lifecycle.preStop.httpGet.scheme: Unsupported value: "ftp": supported values: "HTTP", "HTTPS"`}},
		{"httpGet header names must be HTTP tokens",
			&podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{Port: podlife.PortNumber(80),
				HTTPHeaders: []podlife.HTTPHeader{{Name: "X-Ok", Value: "1"}, {Name: "Bad Header", Value: "2"}, {Name: ""}}}}, nil,
			[]string{
				`spec.containers[0].lifecycle.preStop.httpGet.httpHeaders[1].name: Invalid value: "Bad Header": a valid HTTP header`,
				`spec.containers[0].lifecycle.preStop.httpGet.httpHeaders[2].name: Invalid value: "": a valid HTTP header`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := hooks.Validate(tt.h, tt.grace, path)
			if assert.Len(t, errs, len(tt.want), "%v", errs) {
				for i, want := range tt.want {
					assert.Contains(t, errs[i].Error(), want)
				}
			}
			if len(tt.want) > 0 {
				assert.True(t, errors.Is(errs.AsError(), podlife.ErrInvalid))
			}
		})
	}
}

func TestValidatePortNames(t *testing.T) {
	tests := []struct {
		name string
		port string
		ok   bool
	}{
		{"letters and digits", "web8080", true},
		{"a dash inside", "http-alt", true},
		{"15 characters", "abcdefghijklmno", true},
		{"16 characters is too long", "abcdefghijklmnop", false},
		{"a leading dash", "-http", false},
		{"a trailing dash", "http-", false},
		{"a double dash", "ht--tp", false},
		{"digits only need a letter", "8080", false},
		{"an underscore", "my_port", false},
	}
	for _, tt := range tests {
		t.Run("IANA service name: "+tt.name, func(t *testing.T) {
			h := &podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{Port: podlife.PortName(tt.port)}}
			assert.Equal(t, tt.ok, len(hooks.Validate(h, nil, "h")) == 0)
		})
	}
}

// FuzzValidate: any port name, header name, scheme and sleep length is accepted or rejected
// without panicking, and a rejection always names a field under the given path.
func FuzzValidate(f *testing.F) {
	f.Add("http", "X-Header", "HTTP", int64(5), int64(30), int32(80))
	f.Add("", "", "", int64(-1), int64(0), int32(0))
	f.Add("--", "a b", "gopher", int64(1<<62), int64(-3), int32(-5))
	f.Fuzz(func(t *testing.T, portName, header, scheme string, seconds, grace int64, port int32) {
		for _, h := range []*podlife.LifecycleHandler{
			{HTTPGet: &podlife.HTTPGetAction{Port: podlife.PortRef{Number: port, Name: portName}, Scheme: scheme,
				HTTPHeaders: []podlife.HTTPHeader{{Name: header}}}},
			{Sleep: &podlife.SleepAction{Seconds: seconds}},
		} {
			for _, e := range hooks.Validate(h, &grace, "p") {
				if len(e.Field) < 2 || e.Field[:2] != "p." {
					t.Fatalf("error %v is not under the path", e)
				}
			}
		}
	})
}
