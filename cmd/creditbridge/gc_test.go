package main

import (
	"runtime/debug"
	"testing"
)

func TestApplyServeGC(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })

	none := func(string) (string, bool) { return "", false }
	if p, env := applyServeGC(none); p != serveGCPercent || env {
		t.Fatalf("without GOGC: got %d (env %v), want %d", p, env, serveGCPercent)
	}
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Fatalf("runtime GC percent = %d, want %d", got, serveGCPercent)
	}

	for _, tc := range []struct {
		val  string
		want int
	}{{"150", 150}, {"off", -1}} {
		debug.SetGCPercent(100)
		env := func(k string) (string, bool) {
			if k == "GOGC" {
				return tc.val, true
			}
			return "", false
		}
		if p, fromEnv := applyServeGC(env); p != tc.want || !fromEnv {
			t.Fatalf("GOGC=%s: got %d (env %v), want %d from the environment", tc.val, p, fromEnv, tc.want)
		}
		// The environment's value is the runtime's own business: ours must not override it.
		if got := debug.SetGCPercent(100); got != 100 {
			t.Fatalf("GOGC=%s: runtime GC percent changed to %d", tc.val, got)
		}
	}
}
