package meltica_test

// Outside contract tests, round 4 (s29ct): time — the venue's timestamps
// far in the future or the past, beyond 2038 and beyond what int64
// nanoseconds hold, and the host's clock stepped by hours — written from
// normalize/doc.go without reading the parsers.

import (
	"context"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// s29ctTimes lists the int64 fields of ev named *TS or *Time (the
// schema's instants, Unix ns), by path.
func s29ctTimes(v reflect.Value, path string, out map[string]int64) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			if fv.Kind() == reflect.Int64 && (strings.HasSuffix(f.Name, "TS") || strings.HasSuffix(f.Name, "Time") || f.Name == "OrderCreated") {
				out[path+"."+f.Name] = fv.Int()
				continue
			}
			s29ctTimes(fv, path+"."+f.Name, out)
		}
	case reflect.Pointer: // an out-of-line section (issue #15): nil unless the event carries it
		if !v.IsNil() {
			s29ctTimes(v.Elem(), path, out)
		}
	}
}

// s29ctInstant reads a leaf of a venue message as an instant: an integer
// (bare or quoted) in s, ms, µs or ns, or an RFC 3339 text. It returns the
// forms to put in its place for a given instant.
type s29ctInstant struct {
	ns     int64                     // the instant the leaf holds
	unit   int64                     // ns per unit of an integer leaf; 0 for RFC 3339
	quoted bool                      // the integer was sent quoted
	write  func(t time.Time) string  // a leaf for t, in the leaf's form
	writeU func(units string) string // a leaf of an integer of units, in its form
}

func s29ctReadInstant(leaf string, field int64) (s29ctInstant, bool) {
	text := leaf
	quoted := false
	if uq, err := strconv.Unquote(leaf); err == nil {
		text, quoted = uq, true
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil && n > 0 {
		for _, unit := range []int64{1, 1e3, 1e6, 1e9} {
			if n <= math.MaxInt64/unit && n*unit == field {
				in := s29ctInstant{ns: field, unit: unit, quoted: quoted}
				in.writeU = func(u string) string {
					if quoted {
						return strconv.Quote(u)
					}
					return u
				}
				in.write = func(t time.Time) string {
					// t's count of units, exact for instants past int64 ns
					u := t.Unix()*(1e9/unit) + int64(t.Nanosecond())/unit
					return in.writeU(strconv.FormatInt(u, 10))
				}
				return in, true
			}
		}
		return s29ctInstant{}, false
	}
	if !quoted {
		return s29ctInstant{}, false
	}
	if tm, err := time.Parse(time.RFC3339Nano, text); err == nil && tm.UnixNano() == field {
		return s29ctInstant{ns: field, write: func(t time.Time) string { return strconv.Quote(t.Format(time.RFC3339Nano)) }}, true
	}
	return s29ctInstant{}, false
}

// ExchangeTS and the schema's other instants are Unix ns (schema,
// normalize/doc.go: "milliseconds to nanoseconds"). Every leaf of every
// real message that one of its events' instants comes from (found by
// value — an integer of s, ms, µs or ns, or an RFC 3339 text — and
// confirmed by setting it to 2040) is set to 2038-01-19 03:14:08 (past
// int32 seconds), 2040 and 2100: the message is refused or the instant
// delivered exactly (to the leaf's unit). Set to instants int64 ns cannot
// hold (2263, 2300, 1600), the instant is never delivered wrapped: the
// field is refused, or (see TestS29ctInstantsOutOfRangeAreRefused) left
// at 0 or at another member's time.
func TestS29ctInstantsFarAwayAreExactOrRefused(t *testing.T) {
	s29ctInstants(t, false)
}

// FAULT: an instant int64 ns cannot hold (2263, 2300, 1600 in the leaf's
// own unit, which holds it), or 2262-04-11 (which they do hold), is
// delivered as 0 (no time) or as another member's time instead of a typed
// error: Bybit "ts" of tickers and "creationTime" of wallet and position
// give ExchangeTS 0, Bybit "cts" falls back to "ts"; Coinbase Advanced
// Trade's "timestamp" gives ExchangeTS (and Exec.TransactTime) 0, for
// 2262-04-11 too; OKX account "uTime" falls back. The host cannot tell a
// venue time it could not read from one it was not sent (normalize/doc.go:
// a bad value is a *ParseError; "never an event with zeros"). Binance,
// Kraken and OKX's other instants refuse them (TestS29ctInstantOverflowRefused).
func TestS29ctInstantsOutOfRangeAreRefused(t *testing.T) {
	s29ctInstants(t, true)
}

func s29ctInstants(t *testing.T, strict bool) {
	instants := []time.Time{
		time.Unix(1<<31, 0).UTC(),
		time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2100, 6, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	if strict {
		instants = append(instants, time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC))
	}
	fits := func(tm time.Time) bool {
		return !tm.Before(time.Unix(0, math.MinInt64)) && !tm.After(time.Unix(0, math.MaxInt64))
	}
	for _, s := range s25ctSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			r := newS29ctRun(t, s.venue)
			_, err := r.feed(s.data, false)
			base := append([]*schema.CanonicalEvent(nil), r.sink.evs...)
			if err != nil {
				r.close()
				t.Skipf("the sample alone: %v", err)
			}
			var baseTimes []map[string]int64
			for _, ev := range base {
				m := map[string]int64{}
				s29ctTimes(reflect.ValueOf(*ev), "", m)
				baseTimes = append(baseTimes, m)
			}
			r.close()
			sh := s29ctWalk(t, s.data)
			tried := 0
			probe := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
			for _, leaf := range sh.leaves {
				orig := string(s.data[leaf.From:leaf.To])
				// Candidates: the instants of the events equal to this
				// leaf's value; linked: those that follow the leaf when it
				// is set to 2040 (another member may hold the same value).
				var in s29ctInstant
				cand := map[[2]int]string{}
				keys := map[string]int{}
				for i, m := range baseTimes {
					for f, v := range m {
						if v == 0 || f == ".IngestTS" {
							continue
						}
						if got, ok := s29ctReadInstant(orig, v); ok {
							in = got
							if _, ok := keys[f]; !ok {
								keys[f] = len(keys)
							}
							cand[[2]int{i, keys[f]}] = f
						}
					}
				}
				if len(cand) == 0 {
					continue
				}
				type at struct {
					ev    int
					field string
				}
				var fields []at
				{
					r := newS29ctRun(t, s.venue)
					r.known = func(string) bool { return true }
					_, err := r.feed(s29ctSplice(s.data, leaf.From, leaf.To, in.write(probe)), false)
					if err == nil && len(r.sink.evs) == len(base) {
						for k, f := range cand {
							m := map[string]int64{}
							s29ctTimes(reflect.ValueOf(*r.sink.evs[k[0]]), "", m)
							if m[f] == probe.UnixNano() {
								fields = append(fields, at{k[0], f})
							}
						}
					}
					r.close()
				}
				if len(fields) == 0 {
					continue
				}
				for _, tm := range instants {
					tried++
					msg := s29ctSplice(s.data, leaf.From, leaf.To, in.write(tm))
					r := newS29ctRun(t, s.venue)
					r.known = func(string) bool { return true }
					_, err := r.feed(msg, false)
					evs := r.sink.evs
					if err == nil && len(evs) == len(base) {
						for _, f := range fields {
							m := map[string]int64{}
							s29ctTimes(reflect.ValueOf(*evs[f.ev]), "", m)
							if fits(tm) {
								// at the leaf's unit: ms drop what is below them
								want := tm.UnixNano()
								if in.unit > 1 {
									want = want / in.unit * in.unit
								}
								assert.Equal(t, want, m[f.field], "%s=%s: event %d %s", leaf.Path, in.write(tm), f.ev, f.field)
							} else if v := m[f.field]; strict || v != 0 && !s29ctNear(baseTimes[f.ev][f.field], v) {
								assert.Fail(t, "an instant int64 ns cannot hold was delivered",
									"%s=%s: event %d %s=%d (%s)", leaf.Path, in.write(tm), f.ev, f.field, v, time.Unix(0, v).UTC())
							}
						}
					}
					r.close()
				}
			}
			t.Logf("%d instants tried", tried)
		})
	}
}

// The control of TestS29ctInstantsOutOfRangeAreRefused: a Binance trade
// whose trade time "T" is 2263-01-01 in ms (9,246,182,400,000: a valid
// int64 of ms, whose ns do not fit an int64) is refused with a
// *ParseError, not delivered wrapped (held).
func TestS29ctInstantOverflowRefused(t *testing.T) {
	ms := time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	msg := fmt.Sprintf(`{"e":"trade","E":1700000000000,"s":"BTCUSDT","t":1,"p":"1.00","q":"2","T":%d,"m":true}`, ms)
	r := newS29ctRun(t, "binance")
	defer r.close()
	_, err := r.feed([]byte(msg), false)
	for _, ev := range r.sink.evs {
		t.Logf("delivered: ExchangeTS %d = %s", ev.ExchangeTS, time.Unix(0, ev.ExchangeTS).UTC())
	}
	var pe *normalize.ParseError
	require.ErrorAs(t, err, &pe, "refused")
	assert.Empty(t, r.sink.evs)
}

// Quote repeats, normalize/doc.go: "A Binance spot bookTicker, which has no
// time, is compared by "u" alone for 5 s (IngestTS) after the last one
// delivered (not when IngestTS went back: the host's clock stepped)". The
// host's clock stepped back an hour and forward five: a quote of a lower u
// within 5 s is dropped; one after the clock went back, or more than 5 s
// later, is delivered; after the step back the new last delivered is the
// reference.
func TestS29ctBookTickerWithTheClockStepped(t *testing.T) {
	q := func(u int) []byte {
		return []byte(fmt.Sprintf(`{"u":%d,"s":"BTCUSDT","b":"9548.1","B":"52","a":"9548.5","A":"11"}`, u))
	}
	t0 := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	steps := []struct {
		u         int
		at        time.Time
		delivered bool
		why       string
	}{
		{100, t0, true, "the first"},
		{90, t0.Add(time.Second), false, "a lower u within 5 s"},
		{101, t0.Add(2 * time.Second), true, "a higher u"},
		{95, t0.Add(-time.Hour), true, "the clock went back an hour"},
		{94, t0.Add(-time.Hour + time.Second), false, "a lower u than the last delivered, within 5 s of it"},
		{96, t0.Add(-time.Hour + 2*time.Second), true, "a higher one"},
		{50, t0.Add(-time.Hour + 8*time.Second), true, "more than 5 s after the last delivered"},
		{49, t0.Add(5 * time.Hour), true, "the clock went forward five hours"},
		{48, t0.Add(5*time.Hour + time.Second), false, "within 5 s again"},
	}
	pools := schema.NewPools(nil)
	sink := &s25ctKeepSink{}
	p := normalize.NewBinance(pools.Events, sink, nil)
	for _, st := range steps {
		before := len(sink.evs)
		require.NoError(t, p.HandleBytes(context.Background(), q(st.u), st.at.UnixNano()), "u=%d", st.u)
		got := len(sink.evs) - before
		if st.delivered {
			if assert.Equal(t, 1, got, "u=%d at %s: %s: delivered", st.u, st.at.Format(time.TimeOnly), st.why) {
				assert.Equal(t, uint64(st.u), sink.evs[before].SeqProvider)
			}
		} else {
			assert.Zero(t, got, "u=%d at %s: %s: dropped", st.u, st.at.Format(time.TimeOnly), st.why)
		}
	}
	for _, ev := range sink.evs {
		pools.Events.Put(ev)
	}
	require.NoError(t, pools.Shutdown(context.Background()))
}

// Refused execution reports, normalize/doc.go: "At most one marker a
// second of receive time per parser: the first refused report is announced
// at once, those within the second after a marker are counted and
// announced by the first message of the connection after it" — contract 3,
// never lost silently. With the host's clock stepped back an hour between
// two refused reports, the second is announced at once (it is not within
// the second after the marker) or, at the latest, by the next message:
// never an hour later, when the stepped clock has caught up.
//
// FAULT: after a refused report at t0 (marker at once), a second one at
// t0-1h is announced by no message until the receive time passes t0+1s:
// messages at t0-59m58s, t0-30m, t0-1m, t0 and t0+500ms announce nothing;
// the one at t0+1.1s does — the host's order state is unreconciled for
// the hour the clock went back (session reconciles on the marker).
func TestS29ctRefusedReportMarkerWithTheClockStepped(t *testing.T) {
	data, err := os.ReadFile("testdata/venues/binance_executionReport_trade.json")
	require.NoError(t, err)
	bad := []byte(strings.Replace(string(data), `"L":  "0.99750000"`, `"L":  "NaN"`, 1))
	require.NotEqual(t, string(data), string(bad))
	trade := []byte(`{"e":"trade","E":1700000000000,"s":"BTCUSDT","t":1,"p":"1.00","q":"2","T":1700000000000,"m":true}`)
	t0 := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	for name, second := range map[string]time.Time{
		"back an hour":    t0.Add(-time.Hour),
		"back a second":   t0.Add(-time.Second),
		"forward an hour": t0.Add(time.Hour),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			pools := schema.NewPools(nil)
			sink := &s25ctKeepSink{}
			p := normalize.NewBinance(pools.Events, sink, nil)
			markers := func() (n int, count uint64) {
				for _, ev := range sink.evs {
					if ev.Type == schema.EventGap && ev.Control.GapType == schema.EventExecReport {
						n++
						count += ev.Control.GapCount
					}
				}
				return n, count
			}
			assert.Error(t, p.HandleBytes(ctx, bad, t0.UnixNano()))
			n, _ := markers()
			require.Equal(t, 1, n, "the first refused report announced at once")
			assert.Error(t, p.HandleBytes(ctx, bad, second.UnixNano()))
			require.NoError(t, p.HandleBytes(ctx, trade, second.Add(2*time.Second).UnixNano()))
			n, count := markers()
			assert.Equal(t, uint64(2), count, "both refused reports announced by the next message (%d markers)", n)
			for _, ev := range sink.evs {
				pools.Events.Put(ev)
			}
			require.NoError(t, pools.Shutdown(ctx))
		})
	}
}

// s29ctNear says v is within a year of the sample's own instant b: another
// member's time of the message (a fallback), not a wrapped value.
func s29ctNear(b, v int64) bool {
	d := time.Duration(b - v)
	return d < 366*24*time.Hour && d > -366*24*time.Hour
}

// Trade repeats, normalize/doc.go: "A trade at or below the highest id but
// later (ExchangeTS) than every trade delivered is a venue that started
// its ids again: delivered, and followed." With the venue's ids restarting
// after ordinary trades, the restart is delivered (the control, held).
// After one trade stamped far in the future (2100: a venue clock glitch),
// the same restart is never recognised — no later trade is later than
// 2100 — and every trade of the symbol after it is dropped as a repeat,
// counted in Stats.Repeats only: no error, no gap marker, the stream
// silent for good (contract 5: "No silent stalls"; the prompt's axis 3).
func TestS29ctTradeRestartAfterAFutureTrade(t *testing.T) {
	base := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC).UnixMilli()
	run := func(t *testing.T, future bool) (delivered []uint64) {
		pools := schema.NewPools(nil)
		sink := &s25ctKeepSink{}
		p := normalize.NewBinance(pools.Events, sink, nil)
		tr := func(id uint64, ms, recv int64) {
			m := fmt.Sprintf(`{"e":"trade","E":%d,"s":"BTCUSDT","t":%d,"p":"1.00","q":"2","T":%d,"m":true}`, ms, id, ms)
			require.NoError(t, p.HandleBytes(context.Background(), []byte(m), recv*1e6))
		}
		tr(100, base, base)
		if future { // the venue's clock says 2100; the host receives it now
			tr(101, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), base+1)
		} else {
			tr(101, base+1, base+1)
		}
		tr(102, base+2, base+2)
		for i := range uint64(5) { // the venue's ids start again
			tr(1+i, base+10+int64(i), base+10+int64(i))
		}
		for _, ev := range sink.evs {
			delivered = append(delivered, ev.SeqProvider)
			pools.Events.Put(ev)
		}
		require.NoError(t, pools.Shutdown(context.Background()))
		return delivered
	}
	t.Run("control", func(t *testing.T) {
		assert.Equal(t, []uint64{100, 101, 102, 1, 2, 3, 4, 5}, run(t, false))
	})
	t.Run("after a trade of 2100", func(t *testing.T) {
		got := run(t, true)
		assert.Equal(t, []uint64{100, 101, 102, 1, 2, 3, 4, 5}, got, "the restart delivered, or at least announced")
	})
}

// Quote repeats (normalize/doc.go: a numbered quote "whose number is at
// most the last delivered ... and whose exchange time is not later is
// dropped ...; one with a later time is delivered and its number
// followed"): a Binance 24hrTicker stamped 2100 between ordinary ones
// does not stop the venue's renumbered quotes that follow (held: the
// comparison is with the last delivered quote, not the latest time seen).
func TestS29ctQuoteRenumberAfterAFutureQuote(t *testing.T) {
	pools := schema.NewPools(nil)
	sink := &s25ctKeepSink{}
	p := normalize.NewBinance(pools.Events, sink, nil)
	tk := func(last uint64, ms int64) {
		m := fmt.Sprintf(`{"e":"24hrTicker","E":%d,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0018","x":"0.0009","c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026","A":"100","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":%d,"n":18151}`, ms, last)
		require.NoError(t, p.HandleBytes(context.Background(), []byte(m), ms*1e6))
	}
	base := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC).UnixMilli()
	tk(100, base)
	tk(101, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	tk(102, base+2)
	tk(5, base+10) // renumbered
	tk(6, base+11)
	tk(4, base+11) // a repeat: lower, not later
	var got []uint64
	for _, ev := range sink.evs {
		got = append(got, ev.SeqProvider)
		pools.Events.Put(ev)
	}
	assert.Equal(t, []uint64{100, 101, 102, 5, 6}, got)
	require.NoError(t, pools.Shutdown(context.Background()))
}
