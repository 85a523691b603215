package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/podlife/podlife/phase"
)

// cstate is what a container's bar shows at a moment.
type cstate uint8

const (
	stWaiting cstate = iota // nothing runs yet: pulling, creating, or the pod is initializing
	stRunning               // running, not ready
	stReady                 // running and ready
	stDone                  // terminated with exit 0 (or waiting to run again after one)
	stFailed                // terminated with an error (or waiting out its back-off after one)
	numStates
)

var stateStyle = [numStates]struct{ class, colour, label string }{
	stWaiting: {"waiting", "#cfd4da", "waiting"},
	stRunning: {"running", "#f2b233", "running, not ready"},
	stReady:   {"ready", "#3a9d5d", "running, ready"},
	stDone:    {"done", "#7d9fd6", "terminated, exit 0"},
	stFailed:  {"failed", "#d9463e", "terminated, error (and its back-off)"},
}

// classify reads a container status as one of the bar states. A container waiting out its
// crash-loop back-off shows how its last instance ended: nothing runs, and that is why.
func classify(cs *phase.ContainerStatus) cstate {
	s := cs.State
	switch {
	case s.Running != nil && cs.Ready:
		return stReady
	case s.Running != nil:
		return stRunning
	case s.Terminated != nil:
		return exitState(s.Terminated)
	case s.Waiting != nil && s.Waiting.Reason == phase.ReasonCrashLoopBackOff && cs.LastTerminationState.Terminated != nil:
		return exitState(cs.LastTerminationState.Terminated)
	}
	return stWaiting
}

func exitState(t *phase.TerminatedState) cstate {
	if t.ExitCode == 0 {
		return stDone
	}
	return stFailed
}

type segment struct {
	from, to time.Duration
	state    cstate
}

type restartMark struct {
	at time.Duration
	n  int32
}

type probeMark struct {
	at      time.Duration
	message string
}

// track is one container's life for the picture.
type track struct {
	name, kind    string // kind: init, sidecar or app
	segs          []segment
	cur           cstate
	from          time.Duration
	seen          bool
	restartCount  int32
	restarts      []restartMark
	probeFailures []probeMark
	stopSignals   []time.Duration
}

func newTrack(name, kind string) *track { return &track{name: name, kind: kind} }

// observe moves the track to the container's status at at. A new instance starts a new
// segment even in the same state, so that each segment is one instance's.
func (t *track) observe(at time.Duration, cs *phase.ContainerStatus) {
	s := classify(cs)
	restarted := cs.RestartCount > t.restartCount
	if restarted {
		t.restarts = append(t.restarts, restartMark{at: at, n: cs.RestartCount})
		t.restartCount = cs.RestartCount
	}
	if !t.seen {
		t.cur, t.from, t.seen = s, at, true
		return
	}
	if s != t.cur || restarted {
		t.close(at)
		t.cur, t.from = s, at
	}
}

func (t *track) close(at time.Duration) {
	if at <= t.from {
		return
	}
	t.segs = append(t.segs, segment{from: t.from, to: at, state: t.cur})
}

func (t *track) finish(end time.Duration) {
	if t.seen {
		t.close(end)
		t.from = end
	}
}

// The picture's layout, in pixels.
const (
	svgWidth   = 980
	labelWidth = 150
	rightPad   = 36
	plotWidth  = svgWidth - labelWidth - rightPad
	titleY     = 26
	rowsTop    = 70 // the first row's slot; the deletion label sits above it
	barHeight  = 24
	rowPitch   = barHeight + 34 // room for restart badges above and probe marks below
	axisGap    = 16
)

// svgWriter writes elements with escaped attributes and text.
type svgWriter struct {
	b strings.Builder
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writing to a strings.Builder cannot fail
	return b.String()
}

// open writes <name a="v" ...>, or <name .../> when selfClose is set.
func (w *svgWriter) tag(name string, selfClose bool, attrs ...string) {
	w.b.WriteString("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.b.WriteString(" " + attrs[i] + `="` + esc(attrs[i+1]) + `"`)
	}
	if selfClose {
		w.b.WriteString("/>\n")
	} else {
		w.b.WriteString(">")
	}
}

func (w *svgWriter) empty(name string, attrs ...string) { w.tag(name, true, attrs...) }
func (w *svgWriter) open(name string, attrs ...string) {
	w.tag(name, false, attrs...)
	w.b.WriteString("\n")
}
func (w *svgWriter) end(name string) { w.b.WriteString("</" + name + ">\n") }

// text writes <text ...>s</text>.
func (w *svgWriter) text(s string, attrs ...string) {
	w.tag("text", false, attrs...)
	w.b.WriteString(esc(s) + "</text>\n")
}

// titled writes an element with a tooltip: <name ...><title>tip</title></name>.
func (w *svgWriter) titled(name, tip string, attrs ...string) {
	w.tag(name, false, attrs...)
	w.b.WriteString("<title>" + esc(tip) + "</title></" + name + ">\n")
}

func px(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// writeSVG draws one row per container, coloured by state over virtual time, with restarts,
// probe failures, stop signals and the deletion marked, a time axis and a legend.
func writeSVG(out io.Writer, res *result, podName string) error {
	// The axis runs to the end of the run; when the pod stopped, on to a round time at least
	// half a tick later, so that the final states show.
	end := max(res.end, time.Second)
	step := tickStep(end)
	if res.stopped {
		end = (res.end/step + 1) * step
		if end-res.end < step/2 {
			end += step
		}
	}
	x := func(t time.Duration) float64 {
		return labelWidth + float64(plotWidth)*float64(t)/float64(end)
	}
	barY := func(i int) float64 { return float64(rowsTop + 18 + i*rowPitch) }
	rowsBottom := barY(len(res.tracks)-1) + barHeight + 14
	axisY := rowsBottom + axisGap
	legendY := axisY + 46
	height := legendY + 40

	w := &svgWriter{}
	w.b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="no"?>` + "\n")
	w.open("svg", "xmlns", "http://www.w3.org/2000/svg", "version", "1.1",
		"width", strconv.Itoa(svgWidth), "height", px(height),
		"viewBox", "0 0 "+strconv.Itoa(svgWidth)+" "+px(height),
		"font-family", "DejaVu Sans, Helvetica, Arial, sans-serif", "font-size", "12")
	title := fmt.Sprintf("pod %s: container states over virtual time, 0s to %s", podName, fmtDur(res.end))
	w.text2("title", title)
	w.empty("rect", "x", "0", "y", "0", "width", "100%", "height", "100%", "fill", "#ffffff")
	w.text(title, "x", "16", "y", strconv.Itoa(titleY), "font-size", "15", "font-weight", "bold", "fill", "#222222")
	w.text(fmt.Sprintf("final phase %s", res.final.Phase), "x", strconv.Itoa(svgWidth-rightPad), "y", strconv.Itoa(titleY),
		"text-anchor", "end", "fill", "#555555")

	// Grid lines at the ticks, behind everything.
	w.open("g", "class", "grid", "stroke", "#e6e8eb", "stroke-width", "1")
	for t := time.Duration(0); t <= end; t += step {
		w.empty("line", "x1", px(x(t)), "y1", px(rowsTop), "x2", px(x(t)), "y2", px(axisY))
	}
	w.end("g")

	for i, t := range res.tracks {
		y := barY(i)
		w.open("g", "id", "row-"+t.name, "class", "container")
		w.text(t.name, "x", strconv.Itoa(labelWidth-12), "y", px(y+11), "text-anchor", "end", "font-weight", "bold", "fill", "#222222")
		w.text(t.kind+" container", "x", strconv.Itoa(labelWidth-12), "y", px(y+24), "text-anchor", "end", "font-size", "10", "fill", "#666666")
		w.empty("rect", "x", px(x(0)), "y", px(y), "width", px(plotWidth), "height", strconv.Itoa(barHeight),
			"fill", "#f5f6f7", "stroke", "#d5d8dc", "stroke-width", "0.5")
		for _, s := range t.segs {
			st := stateStyle[s.state]
			w.titled("rect", fmt.Sprintf("%s: %s from %s to %s", t.name, st.label, fmtDur(s.from), fmtDur(s.to)),
				"class", "state "+st.class, "x", px(x(s.from)), "y", px(y), "width", px(x(s.to)-x(s.from)),
				"height", strconv.Itoa(barHeight), "fill", st.colour)
		}
		if res.stopped && t.seen && res.end < end {
			st := stateStyle[t.cur]
			w.titled("rect", fmt.Sprintf("%s: %s (the pod stopped at %s)", t.name, st.label, fmtDur(res.end)),
				"class", "after-stop "+st.class, "x", px(x(res.end)), "y", px(y), "width", px(x(end)-x(res.end)),
				"height", strconv.Itoa(barHeight), "fill", st.colour, "fill-opacity", "0.4")
		}
		for _, r := range t.restarts {
			rx := x(r.at)
			w.open("g", "class", "restart")
			w.tag("title", false)
			w.b.WriteString(esc(fmt.Sprintf("%s: restart %d at %s", t.name, r.n, fmtDur(r.at))) + "</title>\n")
			w.empty("line", "x1", px(rx), "y1", px(y-9), "x2", px(rx), "y2", px(y+barHeight), "stroke", "#1f2328", "stroke-width", "2")
			w.empty("circle", "cx", px(rx), "cy", px(y-9), "r", "7", "fill", "#ffffff", "stroke", "#1f2328", "stroke-width", "1.5")
			w.text(strconv.Itoa(int(r.n)), "x", px(rx), "y", px(y-5.5), "text-anchor", "middle", "font-size", "9", "font-weight", "bold", "fill", "#1f2328")
			w.end("g")
		}
		for _, p := range t.probeFailures {
			px0 := x(p.at)
			w.titled("path", fmt.Sprintf("%s at %s: %s", t.name, fmtDur(p.at), p.message), "class", "probe-failure",
				"d", fmt.Sprintf("M%s,%s l-3.5,7 h7 z", px(px0), px(y+barHeight+2)), "fill", "#b3201a")
		}
		for _, s := range t.stopSignals {
			sx := x(s)
			w.titled("path", fmt.Sprintf("%s: stop signal (SIGTERM) at %s", t.name, fmtDur(s)), "class", "stop-signal",
				"d", fmt.Sprintf("M%s,%s l-4,-7 h8 z", px(sx), px(y-1)), "fill", "#1f2328")
		}
		w.end("g")
	}

	if d := res.deleted; d != nil {
		dx := x(d.at)
		w.open("g", "class", "deletion")
		w.tag("title", false)
		w.b.WriteString(esc(fmt.Sprintf("delete requested at %s, grace %ds", fmtDur(d.at), d.grace)) + "</title>\n")
		graceEnd := end // a grace that runs past the axis (or past time.Duration) is cut at its end
		if left := end - d.at; d.grace < int64(left/time.Second) {
			graceEnd = d.at + time.Duration(d.grace)*time.Second
		}
		w.empty("rect", "class", "grace", "x", px(dx), "y", px(rowsTop), "width", px(x(graceEnd)-dx),
			"height", px(rowsBottom-rowsTop), "fill", "#7b2cbf", "fill-opacity", "0.07")
		w.empty("line", "x1", px(dx), "y1", px(rowsTop), "x2", px(dx), "y2", px(rowsBottom),
			"stroke", "#7b2cbf", "stroke-width", "1.5", "stroke-dasharray", "5,3")
		anchor := "middle"
		if dx > svgWidth-rightPad-90 {
			anchor = "end"
		}
		w.text(fmt.Sprintf("delete (grace %ds)", d.grace), "x", px(dx), "y", px(rowsTop-4), "text-anchor", anchor,
			"font-size", "11", "fill", "#7b2cbf")
		w.end("g")
	}

	if res.stopped {
		sx := x(res.end)
		w.open("g", "class", "stopped")
		w.titled("line", fmt.Sprintf("the pod stopped at %s, phase %s", fmtDur(res.end), res.final.Phase),
			"x1", px(sx), "y1", px(rowsTop+8), "x2", px(sx), "y2", px(rowsBottom), "stroke", "#444444", "stroke-width", "1.5")
		w.text("stopped", "x", px(sx+3), "y", px(rowsTop+8), "font-size", "10", "fill", "#444444")
		w.end("g")
	}

	// The time axis.
	w.open("g", "class", "axis", "fill", "#333333")
	w.empty("line", "x1", px(x(0)), "y1", px(axisY), "x2", px(x(end)), "y2", px(axisY), "stroke", "#333333", "stroke-width", "1")
	for t := time.Duration(0); t <= end; t += step {
		w.empty("line", "class", "tick", "x1", px(x(t)), "y1", px(axisY), "x2", px(x(t)), "y2", px(axisY+5), "stroke", "#333333", "stroke-width", "1")
		w.text(fmtDur(t), "x", px(x(t)), "y", px(axisY+18), "text-anchor", "middle", "font-size", "11")
	}
	w.text("virtual time since the pod was bound", "x", px(x(end)), "y", px(axisY+34), "text-anchor", "end", "font-size", "11", "fill", "#666666")
	w.end("g")

	writeLegend(w, legendY)
	w.end("svg")
	_, err := io.WriteString(out, w.b.String())
	return err
}

// text2 writes a plain element with escaped text content.
func (w *svgWriter) text2(name, s string) {
	w.b.WriteString("<" + name + ">" + esc(s) + "</" + name + ">\n")
}

func writeLegend(w *svgWriter, y float64) {
	w.open("g", "class", "legend", "font-size", "11", "fill", "#333333")
	lx := 16.0
	item := func(width float64, label string, draw func(x float64)) {
		draw(lx)
		w.text(label, "x", px(lx+18), "y", px(y+10))
		lx += 18 + width
	}
	for s := cstate(0); s < numStates; s++ {
		st := stateStyle[s]
		item(textWidth(st.label)+18, st.label, func(x float64) {
			w.empty("rect", "x", px(x), "y", px(y), "width", "12", "height", "12", "fill", st.colour)
		})
	}
	lx = 16
	y += 20
	item(textWidth("restart (its number)")+18, "restart (its number)", func(x float64) {
		w.empty("line", "x1", px(x+6), "y1", px(y+1), "x2", px(x+6), "y2", px(y+13), "stroke", "#1f2328", "stroke-width", "2")
		w.empty("circle", "cx", px(x+6), "cy", px(y+3), "r", "3.5", "fill", "#ffffff", "stroke", "#1f2328", "stroke-width", "1.5")
	})
	item(textWidth("probe failure")+18, "probe failure", func(x float64) {
		w.empty("path", "d", fmt.Sprintf("M%s,%s l-3.5,7 h7 z", px(x+6), px(y+3)), "fill", "#b3201a")
	})
	item(textWidth("stop signal (SIGTERM)")+18, "stop signal (SIGTERM)", func(x float64) {
		w.empty("path", "d", fmt.Sprintf("M%s,%s l-4,-7 h8 z", px(x+6), px(y+10)), "fill", "#1f2328")
	})
	item(textWidth("delete requested, its grace period")+18, "delete requested, its grace period", func(x float64) {
		w.empty("rect", "x", px(x+6), "y", px(y), "width", "10", "height", "13", "fill", "#7b2cbf", "fill-opacity", "0.12")
		w.empty("line", "x1", px(x+6), "y1", px(y), "x2", px(x+6), "y2", px(y+13), "stroke", "#7b2cbf", "stroke-width", "1.5", "stroke-dasharray", "3,2")
	})
	item(textWidth("pod stopped (then faded)")+18, "pod stopped (then faded)", func(x float64) {
		w.empty("line", "x1", px(x+6), "y1", px(y), "x2", px(x+6), "y2", px(y+13), "stroke", "#444444", "stroke-width", "1.5")
	})
	w.end("g")
}

// textWidth estimates the width of 11 px sans-serif text.
func textWidth(s string) float64 { return 6.2 * float64(len(s)) }

// tickStep is the smallest round step that puts at most 12 ticks on the axis.
func tickStep(end time.Duration) time.Duration {
	steps := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second,
		30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
		30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour}
	for _, s := range steps {
		if end/s <= 12 {
			return s
		}
	}
	return 12 * time.Hour
}
