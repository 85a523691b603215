package probe_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/probe"
)

func TestResolvePortRules(t *testing.T) {
	ports := []podlife.Port{{Name: "http", ContainerPort: 8080}, {Name: "grpc", ContainerPort: 9090}, {Name: "broken", ContainerPort: 0}}
	tests := []struct {
		name    string
		ref     podlife.PortRef
		want    int32
		wantErr error
	}{
		{name: "a number is taken as is", ref: podlife.PortNumber(80), want: 80},
		{name: "a name resolves to the container port of that name", ref: podlife.PortName("grpc"), want: 9090},
		{name: "an unknown name is an error (the run is not counted)", ref: podlife.PortName("web"), wantErr: probe.ErrPortNotFound},
		{name: "upstream: an unknown name that reads as a number is that number", ref: podlife.PortName("8443"), want: 8443},
		{name: "a named port with an out-of-range number is an error", ref: podlife.PortName("broken"), wantErr: probe.ErrPortOutOfRange},
		{name: "port 0 is out of range", ref: podlife.PortNumber(0), wantErr: probe.ErrPortOutOfRange},
		{name: "a negative port is out of range", ref: podlife.PortNumber(-1), wantErr: probe.ErrPortOutOfRange},
		{name: "65535 is the highest port", ref: podlife.PortNumber(65535), want: 65535},
		{name: "65536 is out of range", ref: podlife.PortNumber(65536), wantErr: probe.ErrPortOutOfRange},
		{name: "a numeric name out of range is an error", ref: podlife.PortName("70000"), wantErr: probe.ErrPortOutOfRange},
		{name: "the name wins over the number when both are set", ref: podlife.PortRef{Name: "http", Number: 1}, want: 8080},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := probe.ResolvePort(tc.ref, ports)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Zero(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	_, err := probe.ResolvePort(podlife.PortName("web"), nil)
	require.EqualError(t, err, `port "web": port not found`)
}
