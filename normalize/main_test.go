package normalize

import (
	"testing"

	"go.uber.org/goleak"
)

// The package starts no goroutine; its tests (pool waits, the end-to-end
// client) must leave none behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
