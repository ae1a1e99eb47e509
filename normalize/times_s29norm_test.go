package normalize

import (
	"strings"
	"testing"
	"time"
)

// parseRFC3339 agrees with the standard library on every time both read
// (Coinbase sends RFC 3339 with nanoseconds, Kraken v2 with microseconds;
// offsets other than Z are RFC 3339 too), and reads every time the
// standard library reads in its range (1970–2261), whatever its offset.
// Where they differ by design: a space or a lowercase t/z (RFC 3339 §5.6
// note), second 60 (a leap second), more than nine fraction digits (cut),
// and shapes outside RFC 3339 that the standard library reads (a one-digit
// hour).
func FuzzS29RFC3339(f *testing.F) {
	for _, s := range []string{
		"2021-04-17T16:43:37.089723Z", "2023-02-09T20:30:37.167359596Z", "2024-05-27T12:43:11.798009Z",
		"2022-12-25T09:30:59.123456+05:30", "1970-01-01T00:00:00Z", "2261-12-31T23:59:59.999999999-01:00",
		"2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2021-04-17 16:43:37Z", "2021-04-17T16:43:37.Z",
		"1969-12-31T23:59:59-01:00", "2021-04-17T24:00:00Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, ok := parseRFC3339([]byte(s))
		std, err := time.Parse(time.RFC3339Nano, s)
		// The standard library also reads some shapes RFC 3339 does not
		// (a one-digit hour): compared only in RFC 3339's fixed layout.
		strict := len(s) >= 20 && s[4] == '-' && s[7] == '-' && s[13] == ':' && s[16] == ':' && s[19] != ':'
		if err == nil && strict && std.Year() >= 1970 && std.Year() <= 2261 && std.UnixNano() >= 0 && std.UTC().Year() <= 2261 {
			if !ok {
				t.Fatalf("%q: refused, the standard library reads %v", s, std)
			}
			if ns != std.UnixNano() {
				t.Fatalf("%q: %d, the standard library %d", s, ns, std.UnixNano())
			}
			return
		}
		if ok && err != nil {
			lax := strings.ContainsAny(s[10:11], " t") || strings.ContainsAny(s, "z") || s[17:19] == "60"
			if i := strings.IndexByte(s, '.'); i > 0 {
				n := 0
				for _, c := range s[i+1:] {
					if c < '0' || c > '9' {
						break
					}
					n++
				}
				lax = lax || n > 9
			}
			if !lax {
				t.Fatalf("%q: read as %d, the standard library refuses it: %v", s, ns, err)
			}
		}
	})
}
