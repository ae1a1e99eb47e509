package benchmarks

import (
	"testing"

	"go.uber.org/goleak"
)

// Audit of issue 7 against HELPERS' rule "goleak guards every package that
// starts goroutines": the baseline pipeline and the raw WebSocket reader
// (baseline, internal/rawws) start goroutines and have no tests of their
// own; this package's tests and benchmarks run them, so the guard is here.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
