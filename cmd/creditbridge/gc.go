package main

import (
	"runtime/debug"
	"strconv"
)

// serveGCPercent is the garbage collector's target for the long-running
// commands (serve, worker, demo) when GOGC is not set. The service's live
// heap is small (tens of MB) and its allocation rate high (every webhook
// is decoded, every order's rates and reasons are encoded), so Go's
// default of 100 runs a collection for every few MB allocated: in the
// partner-chain benchmark the collector took about a fifth of the
// server's CPU. At 400 it runs a quarter as often, for a heap that may
// grow to about five times the live heap between collections (README,
// "Memory and the garbage collector"). GOGC (and GOMEMLIMIT) in the
// environment win; the one-shot commands (audit, export, migrate) keep
// Go's default, so the export's streaming stays as small as measured.
const serveGCPercent = 400

// applyServeGC sets serveGCPercent unless GOGC is set; it returns the
// percentage in effect and whether it came from the environment.
func applyServeGC(lookup func(string) (string, bool)) (percent int, fromEnv bool) {
	if v, ok := lookup("GOGC"); ok && v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n, true
		}
		return -1, true // "off" (or a value the runtime rejected): the runtime's choice stands
	}
	debug.SetGCPercent(serveGCPercent)
	return serveGCPercent, false
}
