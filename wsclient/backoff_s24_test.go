package wsclient

import (
	"math"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// A cap of "wait as long as it takes" (math.MaxInt64, the largest
// time.Duration) must not overflow the doubling into a negative wait,
// which made the jitter panic (rand.Int64N of a negative n) on a long
// outage's 37th redial, nor overflow a floor plus its jitter into a
// negative wait that drops the floor.
func TestBackoffHugeCapsDoNotOverflow(t *testing.T) {
	for _, r := range []struct {
		name string
		rand func(int64) int64
	}{
		{"least", func(int64) int64 { return 0 }},
		{"most", func(n int64) int64 { return n - 1 }},
		{"math/rand", rand.Int64N}, // the default: panics on n ≤ 0
	} {
		t.Run(r.name, func(t *testing.T) {
			c, err := New("ws://venue.invalid/", nop, &Options{
				BackoffCap:     math.MaxInt64,
				TryAgainDelay:  math.MaxInt64,
				ForbiddenDelay: math.MaxInt64 - 1,
				Rand:           r.rand,
			})
			require.NoError(t, err)
			errs := []error{
				nil,
				websocket.CloseError{Code: websocket.StatusTryAgainLater},
				websocket.CloseError{Code: websocket.StatusPolicyViolation},
				&HandshakeError{StatusCode: http.StatusForbidden},
				&HandshakeError{StatusCode: http.StatusTooManyRequests, RetryAfter: time.Hour},
			}
			for _, err := range errs {
				for attempt := 1; attempt <= 100; attempt++ {
					var d time.Duration
					require.NotPanics(t, func() { d = c.retryDelay(attempt, err) }, "attempt %d after %v", attempt, err)
					require.GreaterOrEqual(t, d, time.Duration(0), "attempt %d after %v", attempt, err)
					if f := c.retryFloor(err); f > 0 {
						require.GreaterOrEqual(t, d, f, "attempt %d after %v: the floor kept", attempt, err)
					}
				}
			}
		})
	}
}
