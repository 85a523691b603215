package probe

import (
	"net/url"
	"strconv"
)

// MaxRedirectRequests is how many requests an HTTP probe makes along a chain of same-host
// redirects: the 10th redirect response ends the run as a failure ("stopped after 10 redirects"),
// so at most 9 redirects are followed.
const MaxRedirectRequests = 10

// HTTPReply is one response an HTTP probe received, in the order received.
type HTTPReply struct {
	// Status is the HTTP status code.
	Status int
	// Location is a redirect's Location header, absolute or relative; empty when absent.
	Location string
	// Body is the response body; only the final reply's matters, cut to MaxOutputBytes.
	Body string
}

// HTTPOutcome interprets the replies an HTTP GET to host (the probe's host, or the pod IP, with
// or without a port) received, following redirects the way kubelet's client does:
//
//   - 301, 302, 303, 307 and 308 with a Location are redirects; one to the same host name (any
//     port) is followed, one to another host is not: that reply is final.
//   - The 10th same-host redirect ends the run as a failure ("stopped after 10 redirects").
//   - A Location that does not parse is a failure.
//   - The final reply decides: 200..299 is success with the body as message, 300..399 (a redirect
//     not followed, or without Location) is success with a warning, anything else a failure.
//
// A chain that ends on a redirect the client would follow, or an empty chain, is incomplete
// input: the outcome is not counted. A transport error (refused, timeout, TLS) is not a reply:
// build it with FailureOutcome(err.Error()); a body read error other than truncation with
// ErrorOutcome, as kubelet does not count it.
func HTTPOutcome(host string, replies ...HTTPReply) Outcome {
	origin := (&url.URL{Host: host}).Hostname()
	for i, r := range replies {
		if !followable(r) {
			return finalHTTP(r)
		}
		target, err := url.Parse(r.Location)
		if err != nil {
			return FailureOutcome("failed to parse Location header " + strconv.Quote(r.Location) + ": " + err.Error())
		}
		if target.Host != "" && target.Hostname() != origin {
			return finalHTTP(r) // redirect to another host: kept as the response
		}
		if i+1 >= MaxRedirectRequests {
			return FailureOutcome("Get " + strconv.Quote(r.Location) + ": stopped after 10 redirects")
		}
	}
	if len(replies) == 0 {
		return Outcome{Result: Unknown, Message: "no HTTP reply"}
	}
	return Outcome{Result: Unknown, Message: "HTTP redirect chain ends on a redirect that would be followed"}
}

// followable reports whether Go's HTTP client follows r for a GET.
func followable(r HTTPReply) bool {
	switch r.Status {
	case 301, 302, 303, 307, 308:
		return r.Location != ""
	}
	return false
}

func finalHTTP(r HTTPReply) Outcome {
	body := truncate(r.Body)
	switch {
	case r.Status >= 200 && r.Status < 300:
		return SuccessOutcome(body)
	case r.Status >= 300 && r.Status < 400:
		return Outcome{Result: Success, Warning: true, Message: "Probe terminated redirects, Response body: " + body}
	}
	// kubelet keeps the body out of a failure's message (kubernetes issue 99425).
	return FailureOutcome("HTTP probe failed with statuscode: " + strconv.Itoa(r.Status))
}
