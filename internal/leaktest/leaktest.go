// Package leaktest fails a package's tests when a goroutine outlives them
// (go.uber.org/goleak): every group commit, worker, server and client a
// test starts must be stopped by it. Test-only: import it from _test.go
// files.
package leaktest

import (
	"testing"

	"go.uber.org/goleak"
)

// ignored are goroutines that libraries start once per process and never
// stop; nothing a test does can end them.
var ignored = []goleak.Option{
	// fiber's limiter middleware keeps its counters in fiber's in-memory
	// storage, whose gc loop has no Close; one per fiber app.
	goleak.IgnoreTopFunction("github.com/gofiber/fiber/v2/internal/memory.(*Storage).gc"),
	// fiber's cached clock, started once by that storage.
	goleak.IgnoreTopFunction("github.com/gofiber/fiber/v2/internal/memory.New.StartTimeStampUpdater.func1.1"),
	// The same clock when a test's first fiber app started it (the frame is
	// named after utils, not the storage, then).
	goleak.IgnoreTopFunction("github.com/gofiber/fiber/v2/utils.StartTimeStampUpdater.func1.1"),
	// fasthttp's Date header clock, started once per process.
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
	// fasthttp's idle-worker cleaner sleeps up to 10 s between looks, so
	// it sees that its (shut down) server stopped only after that.
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
}

// VerifyTestMain runs the tests, then fails if goroutines are left over.
// Use it as the package's TestMain.
func VerifyTestMain(m *testing.M) { goleak.VerifyTestMain(m, ignored...) }
