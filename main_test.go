package meltica_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The examples and claims of this package start dispatcher goroutines:
// none may outlive its test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
