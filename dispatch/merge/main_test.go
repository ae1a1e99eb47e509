package merge

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

// patience bounds every wait of these tests on another goroutine: a
// deadline for a machine loaded 10-25 times over, never a measurement.
const patience = 60 * time.Second

// The tests run dispatchers, whose subscriptions have goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
