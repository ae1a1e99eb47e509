package wsclient_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/meltica/meltica/wsclient"
)

// Audit of issue 14 G ("Honour Retry-After on a refused upgrade") against
// HELPERS' rule "every parser has a fuzz target with a seed corpus": the
// Retry-After header is venue input. Whatever its text, RetryAfter never
// panics and gives a wait in [0, one year] (its doc: "0 when absent, past or
// unparsable; at most a year"); a delta-seconds value of n in range is n s.
func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{
		"", "0", "1", "120", " 30 ", "-5", "99999999999", "9223372036854775807", "1.5", "abc",
		now.Add(time.Hour).Format(http.TimeFormat), now.Add(-time.Hour).Format(http.TimeFormat),
		"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := wsclient.RetryAfter(v, now)
		if d < 0 || d > 365*24*time.Hour {
			t.Fatalf("RetryAfter(%q) = %v, outside [0, 1 year]", v, d)
		}
	})
}
