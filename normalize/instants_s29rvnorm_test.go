package normalize

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Every instant member of every venue sample that reaches an event (found
// by setting it to 2040 and seeing 2040 in an event's int64 field) is set
// to instants int64 ns cannot hold (2263, 2300 and, as ms, 1600) in its
// own form (ms integer, quoted or bare, or RFC 3339): the message is
// refused with a *ParseError — never delivered with ExchangeTS 0 or
// another member's time, which the host cannot tell from a time not sent.
// Found by the outside contract team (TestS29ctInstantsOutOfRangeAreRefused):
// Bybit "ts", "cts", "creationTime", Coinbase "timestamp", OKX account
// "uTime" were dropped silently.
func TestS29rvInstantsOutOfRangeRefused(t *testing.T) {
	probe := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	far := []time.Time{time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)}
	tried := 0
	eachVenueSample(t, func(t *testing.T, venue schema.Venue, doc []byte) {
		feed := func(frame []byte) ([]*schema.CanonicalEvent, error) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := newVenueParser(venue, events, sink).(*Parser)
			err := p.HandleBytes(context.Background(), frame, 1)
			return sink.got, err
		}
		if _, err := feed(doc); err != nil {
			t.Skip("the sample alone:", err)
		}
		for _, sp := range scalarSpans(t, doc, 1000) {
			write, ok := instantForm(string(doc[sp[0]:sp[1]]))
			if !ok {
				continue
			}
			splice := func(v string) []byte {
				return append(append(append([]byte{}, doc[:sp[0]]...), v...), doc[sp[1]:]...)
			}
			evs, err := feed(splice(write(probe)))
			if err != nil || !hasInstant(evs, probe.UnixNano()) {
				continue // not an instant an event carries
			}
			for _, tm := range far {
				tried++
				frame := splice(write(tm))
				_, err := feed(frame)
				var pe *ParseError
				require.True(t, errors.As(err, &pe), "no *ParseError (%v) for %s", err, frame)
			}
		}
	})
	require.NotZero(t, tried)
}

// instantForm recognises a JSON scalar holding a Unix ms integer (2001 to
// 2033, quoted or bare) or an RFC 3339 text, and returns a writer of
// another instant in that form.
func instantForm(leaf string) (func(time.Time) string, bool) {
	text, quoted := leaf, false
	if uq, err := strconv.Unquote(leaf); err == nil {
		text, quoted = uq, true
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil && n >= 1e12 && n < 2e12 {
		return func(tm time.Time) string {
			s := strconv.FormatInt(tm.Unix()*1000+int64(tm.Nanosecond())/1e6, 10)
			if quoted {
				return strconv.Quote(s)
			}
			return s
		}, true
	}
	if _, ok := parseRFC3339([]byte(text)); ok && quoted {
		return func(tm time.Time) string { return strconv.Quote(tm.Format(time.RFC3339Nano)) }, true
	}
	return nil, false
}

// hasInstant reports whether an int64 field of an event holds ns.
func hasInstant(evs []*schema.CanonicalEvent, ns int64) bool {
	var walk func(v reflect.Value) bool
	walk = func(v reflect.Value) bool {
		switch v.Kind() {
		case reflect.Int64:
			return v.Int() == ns
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				f := v.Field(i)
				if f.Kind() == reflect.Pointer && v.Type().Field(i).IsExported() && !f.IsNil() {
					f = f.Elem() // an out-of-line section the event carries
				}
				if walk(f) {
					return true
				}
			}
		}
		return false
	}
	for _, ev := range evs {
		if walk(reflect.ValueOf(*ev)) {
			return true
		}
	}
	return false
}
