package merge

import (
	"testing"

	"go.uber.org/goleak"
)

// The tests run dispatchers, whose subscriptions have goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
