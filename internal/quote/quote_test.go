package quote_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/podlife/podlife/internal/quote"
)

func TestValue(t *testing.T) {
	for _, tc := range []struct{ rule, in, want string }{
		{"a name stays as it is", "web-1", "web-1"},
		{"an image stays as it is", "registry.example.com:5000/app@sha256:ab", "registry.example.com:5000/app@sha256:ab"},
		{"printable Unicode stays", "café", "café"},
		{"empty is shown as empty quotes", "", `""`},
		{"a space is quoted, so the value's end shows", "all good", `"all good"`},
		{"a quote is quoted", `say "hi"`, `"say \"hi\""`},
		{"a backslash is quoted, so it is not read as an escape", `a\x1b`, `"a\\x1b"`},
		{"an escape sequence is escaped", "x\x1b[2J\x1b[H", `"x\x1b[2J\x1b[H"`},
		{"a newline is escaped", "a\nb", `"a\nb"`},
		{"a C1 control (8-bit CSI) is escaped", "a\u009b2J", `"a\u009b2J"`},
		{"a bidirectional override is escaped", "a\u202eb", `"a\u202eb"`},
		{"a byte that is not UTF-8 is escaped", "a\xffb", `"a\xffb"`},
		{"a literal replacement character is quoted too", "a\ufffdb", `"a�b"`},
	} {
		assert.Equal(t, tc.want, quote.Value(tc.in), tc.rule)
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct{ rule, in, want string }{
		{"plain text stays, newlines and tabs too", "file:2: bad\n\tand worse", "file:2: bad\n\tand worse"},
		{"escape sequences are escaped where they are", "a \x1b[2J\x1b[Hall good", `a \x1b[2J\x1b[Hall good`},
		{"a carriage return is escaped (it would overwrite the line)", "error\rall good", `error\rall good`},
		{"DEL is escaped", "a\x7fb", `a\x7fb`},
		{"C1 and bidirectional controls are escaped", "\u009b\u202e", `\u009b\u202e`},
		{"bytes that are not UTF-8 are escaped one by one", "a\xff\xfeb", `a\xff\xfeb`},
		{"a literal replacement character stays", "a\ufffdb", "a\ufffdb"},
	} {
		assert.Equal(t, tc.want, quote.Text(tc.in), tc.rule)
	}
}

func TestLine(t *testing.T) {
	assert.Equal(t, `web: a\tb\nfake row\x1b[2J`, quote.Line("web: a\tb\nfake row\x1b[2J"))
	assert.Equal(t, "Killing web: Stopping container web", quote.Line("Killing web: Stopping container web"))
}

func TestTextAllocatesNothingForSafeText(t *testing.T) {
	s := "lifecycle.yaml:12: document 1 (Pod web): spec.containers[0].image: Required value"
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = quote.Text(s) }))
}
