package podlife_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/podlife/podlife"
)

// The cases of apimachinery's TestIsDNS1123Label and TestIsDNS1123Subdomain, plus bytes that are
// not UTF-8; lifecycle/kube holds the ports to apimachinery's own functions on random input.
func TestIsDNS1123Label(t *testing.T) {
	good := []string{"a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a", "1--a--b--2", strings.Repeat("a", 63)}
	bad := []string{"", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1",
		"_", "a_", "_a", "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "a.b", "1.", ".1", "1.2",
		" ", "a ", " a", "a b", "1 ", " 1", "1 2", strings.Repeat("a", 64),
		"web\xff", "\xc3\xa9", "caf\u00e9", "a/b", "a\x00"}
	for _, s := range good {
		assert.Nil(t, podlife.IsDNS1123Label(s), "%q", s)
	}
	for _, s := range bad {
		assert.NotEmpty(t, podlife.IsDNS1123Label(s), "%q", s)
	}
	assert.Equal(t, []string{"must be no more than 63 characters"}, podlife.IsDNS1123Label(strings.Repeat("a", 64)))
}

func TestIsDNS1123Subdomain(t *testing.T) {
	good := []string{"a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a", "1--a--b--2",
		"a.a", "ab.a", "abc.a", "a1.a", "a-1.a", "a--1--2--b.a", "a.1", "ab.1", "abc.1", "a1.1", "a-1.1", "a--1--2--b.1",
		"0.a", "01.a", "012.a", "1a.a", "1-a.a", "1--a--b--2", "0.1", "01.1", "012.1", "1a.1", "1-a.1", "1--a--b--2.1",
		"a.b.c.d.e", "aa.bb.cc.dd.ee", "1.2.3.4.5", "11.22.33.44.55", strings.Repeat("a", 253)}
	bad := []string{"", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1",
		"_", "a_", "_a", "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "a..b", "1.", ".1", "1..2",
		" ", "a ", " a", "a b", "1 ", " 1", "1 2", "A.a", "aB.a", "ab.A", "A1.a", "a1.A",
		"A.1", "aB.1", "A1.1", "1A.1", "0.A", "01.A", "012.A", "1A.a", "1a.A",
		"A.B.C.D.E", "AA.BB.CC.DD.EE", "a.B.c.d.e", "aa.bB.cc.dd.ee", "a@b", "a,b", "a_b", "a;b",
		"a:b", "a%b", "a?b", "a$b", strings.Repeat("a", 254),
		"web\xff", "web.\xff", "a/b", "a\nb"}
	for _, s := range good {
		assert.Nil(t, podlife.IsDNS1123Subdomain(s), "%q", s)
	}
	for _, s := range bad {
		assert.NotEmpty(t, podlife.IsDNS1123Subdomain(s), "%q", s)
	}
}
