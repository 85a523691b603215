package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// node is any XML element, for looking at the SVG.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []node     `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n *node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n *node) hasClass(c string) bool {
	return strings.Contains(" "+n.attr("class")+" ", " "+c+" ")
}

// all is every element under n (n included) with the tag and class.
func (n *node) all(tag, class string) []*node {
	var out []*node
	var walk func(*node)
	walk = func(x *node) {
		if x.XMLName.Local == tag && (class == "" || x.hasClass(class)) {
			out = append(out, x)
		}
		for i := range x.Nodes {
			walk(&x.Nodes[i])
		}
	}
	walk(n)
	return out
}

// demoSVG runs the command with -svg and parses the file.
func demoSVG(t *testing.T, args ...string) (*node, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pod.svg")
	code, _, stderr := runCmd(t, append(args, "-svg", path)...)
	require.Equal(t, exitOK, code, stderr)
	data, err := os.ReadFile(path)
	require.NoError(t, err)

	// Well-formed: a strict decoder reads every token.
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	var root node
	require.NoError(t, xml.Unmarshal(data, &root))
	return &root, data
}

func TestSVGIsWellFormedWithOneRowPerContainer(t *testing.T) {
	root, data := demoSVG(t)
	require.True(t, bytes.HasPrefix(data, []byte(`<?xml version="1.0" encoding="UTF-8"`)))
	assert.Equal(t, "svg", root.XMLName.Local)
	assert.Equal(t, "http://www.w3.org/2000/svg", root.XMLName.Space)
	assert.Equal(t, "1.1", root.attr("version"))
	assert.NotEmpty(t, root.attr("viewBox"))

	rows := root.all("g", "container")
	require.Len(t, rows, 3)
	var ids, labels []string
	for _, r := range rows {
		ids = append(ids, r.attr("id"))
		texts := r.all("text", "")
		require.GreaterOrEqual(t, len(texts), 2)
		labels = append(labels, texts[0].Text+" / "+texts[1].Text)
	}
	assert.Equal(t, []string{"row-migrate", "row-log-shipper", "row-web"}, ids)
	assert.Equal(t, []string{"migrate / init container", "log-shipper / sidecar container", "web / app container"}, labels)

	byID := map[string]*node{}
	for _, r := range rows {
		byID[r.attr("id")] = r
	}
	web := byID["row-web"]
	restarts := web.all("g", "restart")
	require.Len(t, restarts, 3, "one mark per restart")
	for i, r := range restarts {
		texts := r.all("text", "")
		require.Len(t, texts, 1)
		assert.Equal(t, string(rune('1'+i)), texts[0].Text)
		require.Len(t, r.all("line", ""), 1, "a vertical mark")
		line := r.all("line", "")[0]
		assert.Equal(t, line.attr("x1"), line.attr("x2"))
	}
	assert.Empty(t, byID["row-migrate"].all("g", "restart"))
	assert.Empty(t, byID["row-log-shipper"].all("g", "restart"))

	assert.Len(t, web.all("path", "probe-failure"), 6)
	assert.Len(t, byID["row-log-shipper"].all("path", "probe-failure"), 2)
	assert.Len(t, web.all("path", "stop-signal"), 1)
	assert.Len(t, byID["row-log-shipper"].all("path", "stop-signal"), 1)

	// Every state shows somewhere; the crash loop's back-off is red.
	for _, class := range []string{"waiting", "running", "ready", "done", "failed"} {
		assert.NotEmpty(t, root.all("rect", class), class)
	}
	var failed int
	for _, r := range web.all("rect", "failed") {
		if r.hasClass("state") {
			failed++
		}
	}
	assert.Equal(t, 2, failed, "two back-offs (the final exit after SIGTERM is 0)")
	assert.Len(t, web.all("rect", "after-stop"), 1)

	require.Len(t, root.all("g", "deletion"), 1)
	assert.Contains(t, root.all("g", "deletion")[0].all("text", "")[0].Text, "delete (grace 30s)")
	require.Len(t, root.all("g", "stopped"), 1)
	ticks := root.all("line", "tick")
	assert.GreaterOrEqual(t, len(ticks), 5)
	axis := root.all("g", "axis")[0]
	var tickLabels []string
	for _, tx := range axis.all("text", "") {
		tickLabels = append(tickLabels, tx.Text)
	}
	assert.Equal(t, []string{"0s", "30s", "1m", "1m30s", "2m", "2m30s", "3m", "3m30s", "4m", "4m30s", "5m", "5m30s",
		"virtual time since the pod was bound"}, tickLabels)
	legend := root.all("g", "legend")
	require.Len(t, legend, 1)
	var legendTexts []string
	for _, tx := range legend[0].all("text", "") {
		legendTexts = append(legendTexts, tx.Text)
	}
	for _, want := range []string{"waiting", "running, not ready", "running, ready", "terminated, exit 0", "restart (its number)", "probe failure"} {
		assert.Contains(t, legendTexts, want)
	}
}

func TestSVGTracks(t *testing.T) {
	res := demoRows(t)
	var web *track
	for _, tr := range res.tracks {
		if tr.name == "web" {
			web = tr
		}
	}
	require.NotNil(t, web)
	type seg struct {
		from, to float64
		state    string
	}
	var got []seg
	for _, s := range web.segs {
		got = append(got, seg{s.from.Seconds(), s.to.Seconds(), stateStyle[s.state].class})
	}
	assert.Equal(t, []seg{
		{0, 7, "waiting"}, {7, 27, "ready"}, {27, 47, "ready"}, {47, 57, "failed"}, {57, 77, "ready"},
		{77, 97, "failed"}, {97, 167, "ready"}, {167, 187, "running"}, {187, 307, "ready"}, {307, 308, "done"},
	}, got)
	assert.Equal(t, []restartMark{{sec(27), 1}, {sec(57), 2}, {sec(97), 3}}, web.restarts)
	assert.Equal(t, []time.Duration{sec(305)}, web.stopSignals)
}

// A name that needs escaping comes out escaped, and the picture still parses.
func TestSVGEscapes(t *testing.T) {
	res := demoRows(t)
	var b bytes.Buffer
	require.NoError(t, writeSVG(&b, res, `a<b>&"c"`))
	require.Contains(t, b.String(), "a&lt;b&gt;&amp;&#34;c&#34;")
	var root node
	require.NoError(t, xml.Unmarshal(b.Bytes(), &root))
}

func TestSVGOfAPodThatNeverStops(t *testing.T) {
	root, _ := demoSVG(t, "-delete-at", "0", "-until", "3m")
	assert.Empty(t, root.all("g", "deletion"))
	assert.Empty(t, root.all("g", "stopped"))
	assert.Empty(t, root.all("rect", "after-stop"))
	assert.Len(t, root.all("g", "container"), 3)
}
