package kube

import (
	"bytes"
	"strconv"
	"strings"
	"sync"

	yaml3 "go.yaml.in/yaml/v3"

	"github.com/podlife/podlife/internal/quote"
)

// document is one YAML document of a file, with the line (from 1) it starts on.
type document struct {
	data []byte
	line int
}

// splitDocuments cuts a file at its "---" lines, as kubectl does (k8s.io/apimachinery's
// YAMLReader): a line that starts with "---" followed by nothing but blanks or a comment. A JSON
// file has none and is one document.
func splitDocuments(data []byte) []document {
	var docs []document
	start, startLine, line := 0, 1, 1
	for off := 0; off < len(data); line++ {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			next = off + end + 1
		}
		text := data[off:next]
		if rest, ok := bytes.CutPrefix(text, []byte("---")); ok {
			if r := bytes.TrimSpace(rest); len(r) == 0 || r[0] == '#' {
				docs = append(docs, document{data: data[start:off], line: startLine})
				start, startLine = next, line+1
			}
		}
		off = next
	}
	return append(docs, document{data: data[start:], line: startLine})
}

// firstContentLine moves a document's line past leading blank and comment lines, so that an
// error points at its first key.
func firstContentLine(d document) int {
	line := d.line
	for text := range strings.Lines(string(d.data)) {
		t := strings.TrimSpace(text)
		if t != "" && !strings.HasPrefix(t, "#") {
			return line
		}
		line++
	}
	return d.line
}

// lineIndex maps field paths (spec.containers[0].image) to the line of their key in the file. It
// is built with a YAML parser that keeps positions; sigs.k8s.io/yaml, which decodes, drops them.
// It is built on first use: most documents have no warning and no error, and the second parse
// was a quarter of the time it takes to read one. Safe for concurrent use.
//
// It keeps the integers of the document as written too: sigs.k8s.io/yaml turns an integer too
// large for 64 bits into a float (100000000000000000000000 becomes 1e+23), and an error about
// it must show the digits the user wrote.
type lineIndex struct {
	once sync.Once
	doc  document // a copy of the document: the caller may reuse its buffer
	idx  map[string]int
	ints map[string]string // plain integer scalars by path, as written
}

func newLineIndex(d document) *lineIndex {
	return &lineIndex{doc: document{data: bytes.Clone(d.data), line: d.line}}
}

func (l *lineIndex) index() map[string]int {
	l.once.Do(func() {
		l.idx, l.ints = indexLines(l.doc)
		l.doc.data = nil
	})
	return l.idx
}

// integerText is the integer at path as the document wrote it; false when the value there is
// not a plain integer (or is unknown).
func (l *lineIndex) integerText(path string) (string, bool) {
	if l == nil {
		return "", false
	}
	l.index()
	s, ok := l.ints[path]
	return s, ok
}

func indexLines(d document) (map[string]int, map[string]string) {
	var root yaml3.Node
	if err := yaml3.Unmarshal(d.data, &root); err != nil {
		return nil, nil
	}
	idx, ints := map[string]int{}, map[string]string{}
	offset := d.line - 1
	var walk func(n *yaml3.Node, path string)
	walk = func(n *yaml3.Node, path string) {
		switch n.Kind {
		case yaml3.ScalarNode:
			if n.Style == 0 && isIntegerText(n.Value) {
				ints[path] = n.Value
			}
		case yaml3.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml3.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				child := quote.Value(k.Value) // as checkTypes writes a key into a path
				if path != "" {
					child = path + "." + child
				}
				if _, seen := idx[child]; !seen {
					idx[child] = k.Line + offset
				}
				walk(n.Content[i+1], child)
			}
		case yaml3.SequenceNode:
			for i, c := range n.Content {
				child := path + "[" + strconv.Itoa(i) + "]"
				idx[child] = c.Line + offset
				walk(c, child)
			}
		}
	}
	walk(&root, "")
	return idx, ints
}

// isIntegerText is whether s is a decimal integer: digits, with a sign or not.
func isIntegerText(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// lineOf is the line of path, or of its closest parent in the file (a missing field is reported
// where its parent is); 0 when nothing is known.
func (l *lineIndex) lineOf(path string) int {
	if l == nil {
		return 0
	}
	idx := l.index()
	for path != "" {
		if l, ok := idx[path]; ok {
			return l
		}
		if d := dottedKeys(path); d != path {
			if l, ok := idx[d]; ok {
				return l
			}
		}
		path = parentPath(path)
	}
	return 0
}

// dottedKeys writes the map keys of a field path as the index has them: field.Path's Key gives
// "metadata.labels[app]" and "containers[web].runs[0]", the index "metadata.labels.app" and
// "containers.web.runs[0]". List indexes stay. A key quote.Value quoted ("[\"a]b\"]") ends at
// its closing quote.
func dottedKeys(p string) string {
	if !strings.Contains(p, "[") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		if p[i] != '[' {
			b.WriteByte(p[i])
			i++
			continue
		}
		end := -1
		if i+1 < len(p) && p[i+1] == '"' {
			if q, err := strconv.QuotedPrefix(p[i+1:]); err == nil && strings.HasPrefix(p[i+1+len(q):], "]") {
				end = i + 1 + len(q)
			}
		} else if j := strings.IndexByte(p[i:], ']'); j >= 0 {
			end = i + j
		}
		if end < 0 {
			b.WriteString(p[i:])
			break
		}
		if inner := p[i+1 : end]; isIntegerText(inner) {
			b.WriteString(p[i : end+1])
		} else {
			b.WriteString("." + inner)
		}
		i = end + 1
	}
	return b.String()
}

// parentPath drops the last element of a field path: "a.b[2]" gives "a.b", "a.b" gives "a".
// Map keys in brackets may hold dots ("metadata.labels[app.kubernetes.io/name]"), and a key
// quote.Value quoted may hold dots and brackets too (spec."a.b[c"): inside the quotes a '"' is
// always escaped, so the quoted element starts at the last `."` or `["`.
func parentPath(p string) string {
	if strings.HasSuffix(p, `"]`) {
		if i := strings.LastIndex(p, `["`); i >= 0 {
			return p[:i]
		}
	}
	if strings.HasSuffix(p, `"`) {
		if i := strings.LastIndex(p, `."`); i >= 0 {
			return p[:i]
		}
	}
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
		return ""
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}
