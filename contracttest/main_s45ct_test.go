// Package contracttest_test checks DESIGN.md's contracts from outside,
// through the exported API only, against real components: a WebSocket
// venue on loopback (httptest and coder/websocket's Accept) serving Binance
// messages from testdata/venues, a real wsclient.Client, a real Binance
// normalize.Parser and a real dispatch.Dispatcher. The tests were written
// from the README, DESIGN.md and each package's doc.go, not from the
// package tests.
package contracttest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test here starts client, dispatcher and server goroutines: none may
// outlive its test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
