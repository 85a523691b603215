package probe_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/probe"
)

// sameHostRedirects is n redirects to a path on the probe's own host.
func sameHostRedirects(n int) []probe.HTTPReply {
	out := make([]probe.HTTPReply, n)
	for i := range out {
		out[i] = probe.HTTPReply{Status: 302, Location: "/next"}
	}
	return out
}

func TestHTTPOutcomeRules(t *testing.T) {
	big := strings.Repeat("b", probe.MaxOutputBytes+1)
	warning := func(body string) probe.Outcome {
		return probe.Outcome{Result: probe.Success, Warning: true, Message: "Probe terminated redirects, Response body: " + body}
	}
	tests := []struct {
		name    string
		host    string
		replies []probe.HTTPReply
		want    probe.Outcome
	}{
		{name: "status 200 is success, with the body as message", host: "10.0.0.1",
			replies: []probe.HTTPReply{{Status: 200, Body: "ok"}}, want: probe.SuccessOutcome("ok")},
		{name: "status 299 is success", host: "10.0.0.1",
			replies: []probe.HTTPReply{{Status: 299}}, want: probe.SuccessOutcome("")},
		{name: "status 199 is a failure", host: "10.0.0.1",
			replies: []probe.HTTPReply{{Status: 199}}, want: probe.FailureOutcome("HTTP probe failed with statuscode: 199")},
		{name: "status 400 is a failure, and the message leaves the body out (kubernetes issue 99425)", host: "10.0.0.1",
			replies: []probe.HTTPReply{{Status: 400, Body: "secret"}}, want: probe.FailureOutcome("HTTP probe failed with statuscode: 400")},
		{name: "status 503 is a failure", host: "10.0.0.1",
			replies: []probe.HTTPReply{{Status: 503}}, want: probe.FailureOutcome("HTTP probe failed with statuscode: 503")},
		{name: "body read up to 10 KiB", host: "10.0.0.1",
			replies: []probe.HTTPReply{{Status: 200, Body: big}}, want: probe.SuccessOutcome(big[:10240])},
		{name: "same-host redirects are followed (relative Location)", host: "10.0.0.1:8080",
			replies: append(sameHostRedirects(3), probe.HTTPReply{Status: 204, Body: "done"}), want: probe.SuccessOutcome("done")},
		{name: "same-host means same host name: another port on it is followed", host: "10.0.0.1:8080",
			replies: []probe.HTTPReply{{Status: 301, Location: "http://10.0.0.1:9090/x"}, {Status: 500}},
			want:    probe.FailureOutcome("HTTP probe failed with statuscode: 500")},
		{name: "upstream: 9 same-host redirects then 200 is success (10 requests)", host: "h",
			replies: append(sameHostRedirects(9), probe.HTTPReply{Status: 200}), want: probe.SuccessOutcome("")},
		{name: "upstream: the 10th same-host redirect is a failure ('stopped after 10 redirects')", host: "h",
			replies: append(sameHostRedirects(10), probe.HTTPReply{Status: 200}),
			want:    probe.FailureOutcome(`Get "/next": stopped after 10 redirects`)},
		{name: "a redirect to another host is not followed and counts as success with a warning", host: "10.0.0.1",
			replies: []probe.HTTPReply{{Status: 302, Location: "https://example.com/login", Body: "<a>Found</a>"}, {Status: 500}},
			want:    warning("<a>Found</a>")},
		{name: "the host check comes first: a 10th redirect to another host is a warning, not a failure", host: "h",
			replies: append(sameHostRedirects(9), probe.HTTPReply{Status: 307, Location: "http://elsewhere/"}),
			want:    warning("")},
		{name: "a redirect without Location is final: success with a warning", host: "h",
			replies: []probe.HTTPReply{{Status: 302, Body: "moved"}}, want: warning("moved")},
		{name: "3xx codes the client never follows (300, 304) are final: success with a warning", host: "h",
			replies: []probe.HTTPReply{{Status: 304, Location: "/x"}}, want: warning("")},
		{name: "a Location that does not parse is a failure", host: "h",
			replies: []probe.HTTPReply{{Status: 302, Location: "http://[::1"}},
			want:    probe.FailureOutcome(`failed to parse Location header "http://[::1": parse "http://[::1": missing ']' in host`)},
		{name: "an IPv6 probe host compares by host name", host: "[fd00::1]:8080",
			replies: []probe.HTTPReply{{Status: 308, Location: "http://[fd00::1]/x"}, {Status: 200, Body: "v6"}},
			want:    probe.SuccessOutcome("v6")},
		{name: "no reply at all is incomplete input: not counted", host: "h",
			want: probe.Outcome{Result: probe.Unknown, Message: "no HTTP reply"}},
		{name: "a chain ending on a redirect the client would follow is incomplete input: not counted", host: "h",
			replies: sameHostRedirects(2),
			want:    probe.Outcome{Result: probe.Unknown, Message: "HTTP redirect chain ends on a redirect that would be followed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Empty(t, cmp.Diff(tc.want, probe.HTTPOutcome(tc.host, tc.replies...)))
		})
	}
}
