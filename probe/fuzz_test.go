package probe_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/probe"
)

const warningPrefix = "Probe terminated redirects, Response body: "

func FuzzHTTPOutcome(f *testing.F) {
	f.Add("10.0.0.1:8080", 302, "/next", uint8(3), 200, "", "ok")
	f.Add("h", 302, "/next", uint8(10), 200, "", "ok")
	f.Add("h", 301, "http://other/", uint8(1), 500, "", "")
	f.Add("[fd00::1]:80", 308, "http://[fd00::1]/", uint8(2), 307, "http://[::1", "x")
	f.Add("", 0, "", uint8(0), 404, "", "")
	f.Fuzz(func(t *testing.T, host string, status int, location string, hops uint8, finalStatus int, finalLocation, body string) {
		replies := make([]probe.HTTPReply, 0, int(hops)+1)
		for i := 0; i < int(hops); i++ {
			replies = append(replies, probe.HTTPReply{Status: status, Location: location})
		}
		replies = append(replies, probe.HTTPReply{Status: finalStatus, Location: finalLocation, Body: body})
		got := probe.HTTPOutcome(host, replies...)
		if got != probe.HTTPOutcome(host, replies...) {
			t.Fatal("same replies, different outcome")
		}
		switch got.Result {
		case probe.Success:
			if len(got.Message) > probe.MaxOutputBytes+len(warningPrefix) {
				t.Fatalf("message of %d bytes: the body is read up to 10 KiB", len(got.Message))
			}
			if got.Warning != strings.HasPrefix(got.Message, warningPrefix) {
				t.Fatalf("warning %v with message %q", got.Warning, got.Message)
			}
		case probe.Failure, probe.Unknown:
			if got.Warning {
				t.Fatal("only a success carries a warning")
			}
		default:
			t.Fatalf("result %v", got.Result)
		}

		// A single reply without Location decides by its status alone: 200..399 is success.
		single := probe.HTTPOutcome(host, probe.HTTPReply{Status: finalStatus, Body: body})
		if want := finalStatus >= 200 && finalStatus < 400; (single.Result == probe.Success) != want {
			t.Fatalf("status %d gave %v", finalStatus, single.Result)
		}
		if single.Result == probe.Failure && single.Message != "HTTP probe failed with statuscode: "+strconv.Itoa(finalStatus) {
			t.Fatalf("a failure's message names the status and leaves the body out: %q", single.Message)
		}
	})
}

func FuzzExecOutcome(f *testing.F) {
	f.Add(0, false, "ok")
	f.Add(1, false, "fail")
	f.Add(0, true, "")
	f.Add(-255, false, strings.Repeat("z", 20000))
	f.Fuzz(func(t *testing.T, exitCode int, timedOut bool, output string) {
		got := probe.ExecOutcome(exitCode, timedOut, output)
		if want := exitCode == 0 && !timedOut; (got.Result == probe.Success) != want {
			t.Fatalf("exit %d timedOut %v gave %v", exitCode, timedOut, got.Result)
		}
		if !got.Counted() {
			t.Fatal("an exec that ran is always counted")
		}
		if len(got.Message) > probe.MaxOutputBytes || !strings.HasPrefix(output, got.Message) && !timedOut {
			t.Fatalf("message is not the output cut to 10 KiB: %d bytes", len(got.Message))
		}
	})
}

func FuzzGRPCOutcome(f *testing.F) {
	f.Add("SERVING")
	f.Add("NOT_SERVING")
	f.Add("")
	f.Fuzz(func(t *testing.T, status string) {
		got := probe.GRPCOutcome(status)
		if (got.Result == probe.Success) != (status == "SERVING") {
			t.Fatalf("status %q gave %v", status, got.Result)
		}
	})
}

func FuzzResolvePort(f *testing.F) {
	f.Add("http", int32(0), "http", int32(8080))
	f.Add("", int32(80), "x", int32(1))
	f.Add("8443", int32(0), "web", int32(80))
	f.Add("99999999999999999999", int32(0), "", int32(0))
	f.Add("-1", int32(-1), "-1", int32(70000))
	f.Fuzz(func(t *testing.T, name string, number int32, portName string, portNumber int32) {
		ports := []podlife.Port{{Name: portName, ContainerPort: portNumber}}
		got, err := probe.ResolvePort(podlife.PortRef{Name: name, Number: number}, ports)
		if err != nil {
			if got != 0 {
				t.Fatalf("error %v with port %d", err, got)
			}
			if !errors.Is(err, probe.ErrPortNotFound) && !errors.Is(err, probe.ErrPortOutOfRange) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		if got < 1 || got > 65535 {
			t.Fatalf("port %d out of range without error", got)
		}
		switch {
		case name == "":
			if got != number {
				t.Fatalf("by number %d gave %d", number, got)
			}
		case name == portName:
			if got != portNumber {
				t.Fatalf("name %q resolved to %d, not its port %d", name, got, portNumber)
			}
		}
	})
}
