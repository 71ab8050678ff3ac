package batch_test

import (
	"testing"

	"github.com/creditbridge/creditbridge/internal/leaktest"
)

// TestMain fails the tests when a committer outlives them.
func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }
