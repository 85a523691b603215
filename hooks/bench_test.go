package hooks_test

import (
	"testing"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
)

func BenchmarkKindOfAndEffect(b *testing.B) {
	h := &podlife.LifecycleHandler{Exec: execH}
	o := hooks.Outcome{Result: hooks.Failure, Message: "m"}
	b.ReportAllocs()
	for b.Loop() {
		if k, err := hooks.KindOf(h); err != nil || k != hooks.Exec {
			b.Fatal(k, err)
		}
		_ = hooks.EffectOf(hooks.PostStart, o)
	}
}

func BenchmarkValidate(b *testing.B) {
	h := &podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{Port: podlife.PortName("http-admin"),
		HTTPHeaders: []podlife.HTTPHeader{{Name: "X-Probe", Value: "1"}}}}
	b.ReportAllocs()
	for b.Loop() {
		if errs := hooks.Validate(h, nil, "p"); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}
