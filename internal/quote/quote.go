// Package quote makes values read from input (a manifest's kind and names, images, runtime
// messages) safe to print on a terminal. A crafted value can hold escape sequences that clear the
// screen, move the cursor or retitle the window, and print a fake "all good" over a real error;
// a printed value must never carry a raw control character to the reader.
package quote

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Value is s as a token in a message: unchanged when it is non-empty and only printable
// characters other than space, '"' and '\', as every valid Kubernetes name and most images are;
// otherwise in double quotes with Go's escapes (strconv.Quote), so a reader sees where it begins
// and ends and what it holds.
func Value(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r == ' ' || r == '"' || r == '\\' || r == utf8.RuneError || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// Text is a message of many lines as it may be printed: newlines and tabs stay, and every other
// character that is not printable (C0 and C1 controls, DEL, bidirectional overrides, bytes that
// are not UTF-8) becomes its Go escape (\x1b, \u202e). It is the last guard before a terminal
// for messages that embed values someone else formatted; a value of one's own is Value.
func Text(s string) string { return escape(s, true) }

// Line is Text for one cell or line of output: newlines and tabs are escaped too, so a value
// cannot start a line of its own or break a table's columns.
func Line(s string) string { return escape(s, false) }

func escape(s string, multiline bool) string {
	i := firstUnsafe(s, multiline)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for s = s[i:]; s != ""; {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[0])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[0])&0xf, 16))
		case safe(r, multiline):
			b.WriteString(s[:size])
		default:
			q := strconv.QuoteRuneToASCII(r) // '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		s = s[size:]
	}
	return b.String()
}

func firstUnsafe(s string, multiline bool) int {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size <= 1) || !safe(r, multiline) {
			return i
		}
		i += size
	}
	return -1
}

func safe(r rune, multiline bool) bool {
	return strconv.IsPrint(r) || (multiline && (r == '\n' || r == '\t'))
}
