package dispatch

import (
	"testing"

	"github.com/meltica/meltica/internal/allocs"
)

// allocsPerRun is allocs.PerRun (testing.AllocsPerRun less the runtime's
// sudog refills and sync.Pool arrays; see its doc), the package's tests'
// count of allocations. A test that starts no goroutine counts with it too
// when its few runs leave no margin (the route tests: 2 or 3 runs, where
// two sudogs of any other goroutine of the binary parking meanwhile made 1
// per run).
func allocsPerRun(t *testing.T, runs int, f func()) float64 {
	t.Helper()
	return allocs.PerRun(runs, f)
}

// AllocsPerRun is allocsPerRun for the package's external tests.
var AllocsPerRun = allocsPerRun
