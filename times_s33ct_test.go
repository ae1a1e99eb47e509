package meltica_test

// Outside contract tests, round 8 (s33ct): times and numbers as the
// venues send them, written from normalize/doc.go, normalize.Options and
// schema.Decimal's doc without reading the parsers. Each value is read
// exactly or refused with a typed error; a wrong number delivered silently
// is the fault.

import (
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

// s33ctRunWith is newS29ctRun with the parser's Options.
func s33ctRunWith(t testing.TB, venue string, opts *normalize.Options) *s29ctRun {
	r := &s29ctRun{t: t, pools: schema.NewPools(nil), sink: &s25ctKeepSink{}}
	r.p = s25ctParsers[venue](r.pools.Events, r.sink, opts)
	return r
}

// s33ctInstants lists every instant of evs (s29ctTimes), by event index
// and path, IngestTS left out (the test's own).
func s33ctInstants(evs []*schema.CanonicalEvent) []map[string]int64 {
	var out []map[string]int64
	for _, ev := range evs {
		m := map[string]int64{}
		s29ctTimes(reflect.ValueOf(*ev), "", m)
		delete(m, ".IngestTS")
		out = append(out, m)
	}
	return out
}

// normalize.Options.TimeUnit: "time.Microsecond for a Binance connection
// opened with timeUnit=MICROSECOND (Binance "Websocket Market Streams" and
// "WebSocket API": every time field is then in microseconds). […] Events
// carry Unix nanoseconds either way." Every Binance sample, its times in
// ms (every integer member of 13 digits, 2001–2286) rewritten as Binance
// sends them in µs with a sub-millisecond part (ms×1000 + 321), through a
// parser with TimeUnit µs: every instant an event had from one of them is
// the same instant plus 321 µs, exactly; nothing else changes.
func TestS33ctBinanceMicrosecondTimesExact(t *testing.T) {
	const extra = 321
	for _, s := range s25ctSamples(t) {
		if s.venue != "binance" {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			r := newS29ctRun(t, s.venue)
			_, err := r.feed(s.data, false)
			if err != nil {
				r.close()
				t.Skipf("the sample alone: %v", err)
			}
			base := s33ctInstants(r.sink.evs)
			baseShown := append([]string(nil), r.sink.shown...)
			r.close()

			// The ms leaves, rewritten from the end so spans stay valid.
			ms := map[int64]bool{}
			msg := append([]byte(nil), s.data...)
			leaves := s29ctWalk(t, s.data).leaves
			for i := len(leaves) - 1; i >= 0; i-- {
				leaf := leaves[i]
				orig := string(s.data[leaf.From:leaf.To])
				text, quoted := orig, false
				if uq, err := strconv.Unquote(orig); err == nil {
					text, quoted = uq, true
				}
				v, err := strconv.ParseInt(text, 10, 64)
				if err != nil || v < 1e12 || v >= 1e13 {
					continue
				}
				ms[v] = true
				u := strconv.FormatInt(v*1000+extra, 10)
				if quoted {
					u = strconv.Quote(u)
				}
				msg = s29ctSplice(msg, leaf.From, leaf.To, u)
			}
			if len(ms) == 0 {
				t.Skip("no time in ms")
			}
			r = s33ctRunWith(t, s.venue, &normalize.Options{TimeUnit: time.Microsecond})
			defer r.close()
			_, err = r.feed(msg, false)
			require.NoError(t, err, "the µs message %s", msg)
			require.Len(t, r.sink.evs, len(base), "as many events as in ms")
			got := s33ctInstants(r.sink.evs)
			moved := 0
			for i, m := range base {
				for f, b := range m {
					want := b
					if b != 0 && b%1e6 == 0 && ms[b/1e6] {
						want = b + extra*1e3
						moved++
					}
					assert.Equal(t, want, got[i][f], "event %d %s: sent %s", i, f, msg)
				}
			}
			require.NotZero(t, moved, "an instant read from the µs times")
			// Everything but the instants is what the ms message gave.
			for i := range r.sink.evs {
				if i < len(baseShown) {
					assert.Equal(t, s33ctStripTimes(baseShown[i]), s33ctStripTimes(r.sink.shown[i]), "event %d", i)
				}
			}
		})
	}
}

// s33ctStripTimes drops the 19-digit integers (ns instants) from a
// rendering, to compare the rest of two events.
func s33ctStripTimes(s string) string {
	var b strings.Builder
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			run++
			continue
		}
		if run > 0 && run < 16 {
			b.WriteString(s[i-run : i])
		}
		run = 0
		b.WriteByte(c)
	}
	if run > 0 && run < 16 {
		b.WriteString(s[len(s)-run:])
	}
	return b.String()
}

// s33ctRFC3339Forms gives the forms of RFC 3339 (§5.6, and its NOTE on
// "t", "z" and a space) for the instant tm, each with the instant it
// means: offsets other than Z, fractions of 0 to 9 digits and past 9 (the
// digits past ns dropped), lower-case letters. Coinbase Advanced Trade
// sends "2023-02-09T20:32:50.714964855Z" and "…:50Z" ("WebSocket
// Channels"), Kraken v2 "2023-09-25T07:49:37.708706Z" ("RFC3339 format").
func s33ctRFC3339Forms(tm time.Time) map[string]time.Time {
	tm = tm.UTC()
	sec := tm.Truncate(time.Second)
	ist := time.FixedZone("IST", 5*3600+1800)
	pst := time.FixedZone("PST", -8*3600)
	return map[string]time.Time{
		tm.Format("2006-01-02T15:04:05.000000000Z07:00"):                     tm,
		tm.Format("2006-01-02T15:04:05.000000000") + "123Z":                  tm,
		tm.In(ist).Format(time.RFC3339Nano):                                  tm,
		tm.In(pst).Format(time.RFC3339Nano):                                  tm,
		tm.Format("2006-01-02T15:04:05.999999999") + "+00:00":                tm,
		sec.Format("2006-01-02T15:04:05Z"):                                   sec,
		sec.In(pst).Format("2006-01-02T15:04:05-07:00"):                      sec,
		tm.Truncate(100 * time.Millisecond).Format("2006-01-02T15:04:05.0Z"): tm.Truncate(100 * time.Millisecond),
		strings.ToLower(tm.Format(time.RFC3339Nano)):                         tm,
		strings.Replace(tm.Format(time.RFC3339Nano), "T", " ", 1):            tm,
	}
}

// normalize/doc.go: ExchangeTS is "the time of the fact in Unix ns", an
// RFC 3339 text is read as the instant it names ("an RFC 3339 text
// outside 1970–2261" refused), and a bad value is a *ParseError, "never an
// event with zeros". Every RFC 3339 member of every Coinbase and Kraken
// sample that one of its events' instants comes from, written in each
// form of s33ctRFC3339Forms: the message is refused with a *ParseError or
// the instant delivered is the one the text names — an offset never
// ignored, a fraction never misread.
func TestS33ctRFC3339FormsExactOrRefused(t *testing.T) {
	for _, s := range s25ctSamples(t) {
		if s.venue != "coinbase" && s.venue != "kraken" {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			r := newS29ctRun(t, s.venue)
			_, err := r.feed(s.data, false)
			if err != nil {
				r.close()
				t.Skipf("the sample alone: %v", err)
			}
			base := s33ctInstants(r.sink.evs)
			r.close()
			tried, delivered := 0, 0
			for _, leaf := range s29ctWalk(t, s.data).leaves {
				orig, err := strconv.Unquote(string(s.data[leaf.From:leaf.To]))
				if err != nil {
					continue
				}
				tm, err := time.Parse(time.RFC3339Nano, orig)
				if err != nil {
					continue
				}
				type at struct {
					ev    int
					field string
				}
				var fields []at
				for i, m := range base {
					for f, v := range m {
						if v == tm.UnixNano() {
							fields = append(fields, at{i, f})
						}
					}
				}
				if len(fields) == 0 {
					continue
				}
				// Another instant than the sample's, so that a member the
				// event's time does not come from shows by keeping it.
				probe := tm.Add(time.Hour + 123456789*time.Nanosecond)
				for text, want := range s33ctRFC3339Forms(probe) {
					tried++
					msg := s29ctSplice(s.data, leaf.From, leaf.To, strconv.Quote(text))
					r := newS29ctRun(t, s.venue)
					_, err := r.feed(msg, false)
					if err == nil {
						delivered++
						require.Len(t, r.sink.evs, len(base), "%s=%q", leaf.Path, text)
						got := s33ctInstants(r.sink.evs)
						for _, f := range fields {
							v := got[f.ev][f.field]
							if v == tm.UnixNano() {
								continue // this event's time is another member's
							}
							assert.Equal(t, want.UnixNano(), v, "%s=%q: event %d %s is %s, the text names %s",
								leaf.Path, text, f.ev, f.field, time.Unix(0, v).UTC().Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
						}
					}
					r.close()
				}
			}
			if tried == 0 {
				t.Skip("no RFC 3339 instant")
			}
			t.Logf("%d forms tried, %d delivered", tried, delivered)
			assert.NotZero(t, delivered, "the venue's own form delivered")
		})
	}
}

// s33ctDecimalForms gives the other spellings of the decimal text d that
// schema.ParseDecimal documents ("an optional sign, digits with at most
// one point, an optional exponent": "-12.3400", "+.5", "1.5e-3") and
// that keep its digits (mantissa and scale): a plus sign, no 0 before the
// point, the exponent form. A bare JSON number gets the exponent forms
// only (the others are no JSON).
func s33ctDecimalForms(d string, quoted bool) []string {
	sign, body := "", d
	if strings.HasPrefix(body, "-") {
		sign, body = "-", body[1:]
	}
	intPart, frac, ok := strings.Cut(body, ".")
	if !ok || intPart == "" || frac == "" || strings.Trim(intPart+frac, "0123456789") != "" {
		return nil
	}
	exp := sign + intPart + frac + "e-" + strconv.Itoa(len(frac))
	forms := []string{exp, strings.ToUpper(exp)}
	if !quoted {
		return forms
	}
	if sign == "" {
		forms = append(forms, "+"+d)
	}
	if intPart == "0" {
		forms = append(forms, sign+"."+frac)
	}
	if sign == "" {
		forms = append(forms, intPart+frac+"E-"+strconv.Itoa(len(frac)))
	}
	return forms
}

// normalize/doc.go: "decimals keep the digits sent, quoted or bare
// ([schema.Decimal] decodes itself the same way)"; schema.ParseDecimal
// reads "-12.3400", "+.5" and "1.5e-3". Every decimal member of every
// real message (a text of digits with a point), written in the other
// spellings of the same digits (s33ctDecimalForms): the message gives the
// same events, or is refused with a *ParseError — never another number.
func TestS33ctDecimalSpellingsSameOrRefused(t *testing.T) {
	for _, s := range s25ctSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			base := s29ctBaseline(t, s)
			tried, same := 0, 0
			for li, leaf := range s29ctWalk(t, s.data).leaves {
				if s29ctDeepIndex.MatchString(leaf.Path) {
					continue // a book's other levels: spelt as its first
				}
				raw := string(s.data[leaf.From:leaf.To])
				text, quoted := raw, false
				if uq, err := strconv.Unquote(raw); err == nil {
					text, quoted = uq, true
				}
				for j, form := range s33ctDecimalForms(text, quoted) {
					if !s37slowSampled(li, j) {
						continue // under -race a sixteenth
					}
					put := form
					if quoted {
						put = strconv.Quote(form)
					}
					tried++
					r := newS29ctRun(t, s.venue)
					got, err := r.feed(s29ctSplice(s.data, leaf.From, leaf.To, put), true)
					r.close()
					if err != nil {
						continue
					}
					if assert.Equal(t, base, got, "%s: %s for %s", leaf.Path, put, raw) {
						same++
					}
				}
			}
			t.Logf("%d spellings tried, %d gave the same events", tried, same)
		})
	}
}

// OKX sends its times as strings of Unix ms ("ts":"1597026383085", OKX v5
// "WebSocket → Public channel"), Bybit and Binance as integers. Every such
// instant member of every real message, rewritten in other texts of an
// integer (a plus sign, a leading zero, ".0", an exponent, a fraction of a
// unit, spaces): the event gives the instant the text names, exactly, or
// the message is refused with a *ParseError (normalize/doc.go: "an
// integer member (ids, counts, times) that is none is ErrBadValue") —
// never the instant truncated or read as 0.
func TestS33ctIntegerTimeSpellingsExactOrRefused(t *testing.T) {
	for _, s := range s25ctSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			r := newS29ctRun(t, s.venue)
			_, err := r.feed(s.data, false)
			if err != nil {
				r.close()
				t.Skipf("the sample alone: %v", err)
			}
			base := s33ctInstants(r.sink.evs)
			r.close()
			tried := 0
			for _, leaf := range s29ctWalk(t, s.data).leaves {
				raw := string(s.data[leaf.From:leaf.To])
				type at struct {
					ev    int
					field string
				}
				var fields []at
				var in s29ctInstant
				for i, m := range base {
					for f, v := range m {
						if got, ok := s29ctReadInstant(raw, v); ok && v != 0 && got.unit > 1 {
							in, fields = got, append(fields, at{i, f})
						}
					}
				}
				if len(fields) == 0 {
					continue
				}
				units := in.ns / in.unit
				// Only the instants that follow the member (another may
				// hold the same value).
				{
					r := newS29ctRun(t, s.venue)
					_, err := r.feed(s29ctSplice(s.data, leaf.From, leaf.To, in.writeU(strconv.FormatInt(units+1000, 10))), false)
					var linked []at
					if err == nil && len(r.sink.evs) == len(base) {
						got := s33ctInstants(r.sink.evs)
						for _, f := range fields {
							if got[f.ev][f.field] == (units+1000)*in.unit {
								linked = append(linked, f)
							}
						}
					}
					r.close()
					fields = linked
				}
				if len(fields) == 0 {
					continue
				}
				u := strconv.FormatInt(units, 10)
				forms := map[string]int64{
					"1" + u[1:] + ".0": units * in.unit,
					u[:1] + "." + u[1:] + "e" + strconv.Itoa(len(u)-1): units * in.unit,
					u + ".5": units*in.unit + in.unit/2,
					u + ".9": units*in.unit + in.unit/10*9,
					"+" + u:  units * in.unit,
					"0" + u:  units * in.unit,
					" " + u:  units * in.unit,
					u + " ":  units * in.unit,
				}
				for text, want := range forms {
					put := in.writeU(text)
					if !in.quoted {
						// a bare number: only what is a JSON number
						if strings.HasPrefix(text, "+") || strings.HasPrefix(text, "0") || strings.Contains(text, " ") {
							continue
						}
					}
					if text[0] == '1' && u[0] != '1' {
						continue
					}
					tried++
					r := newS29ctRun(t, s.venue)
					_, err := r.feed(s29ctSplice(s.data, leaf.From, leaf.To, put), false)
					if err == nil && assert.Len(t, r.sink.evs, len(base), "%s=%s", leaf.Path, put) {
						got := s33ctInstants(r.sink.evs)
						for _, f := range fields {
							v := got[f.ev][f.field]
							assert.Equal(t, want, v, "%s=%s: event %d %s is %s, the text names %s", leaf.Path, put, f.ev, f.field,
								time.Unix(0, v).UTC().Format(time.RFC3339Nano), time.Unix(0, want).UTC().Format(time.RFC3339Nano))
						}
					}
					r.close()
				}
			}
			t.Logf("%d spellings tried", tried)
		})
	}
}
