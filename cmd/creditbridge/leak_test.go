package main

import (
	"testing"

	"github.com/creditbridge/creditbridge/internal/leaktest"
)

// TestMain fails the package's tests when a goroutine outlives them: every
// group commit, worker and server a test starts must be stopped by it.
func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }
