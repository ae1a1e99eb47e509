package book

import (
	"testing"

	"go.uber.org/goleak"
)

// The resync tests run a simulated venue, a websocket client and a
// dispatcher: none of their goroutines may outlive a test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
