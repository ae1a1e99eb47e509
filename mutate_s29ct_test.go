package meltica_test

// Outside contract tests, round 4 (s29ct): strange venue messages through
// the public parsers, written from normalize/doc.go and DESIGN.md contract 6
// ("Bad input gets a clear error and costs nothing else ... No panic, ever,
// on venue input") without reading the parsers. Every real message of
// testdata/venues is mutated member by member and value by value.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// s29ctSpan is a part of a JSON text: a scalar leaf, an object (From is
// just after its '{', To at its '}'), or a top-level member (name to value).
type s29ctSpan struct {
	From, To int
	Path     string
}

type s29ctShape struct {
	leaves, objects, members []s29ctSpan
}

// s29ctWalk finds the spans of v with goccy's jsontext tokens (no scanner
// of our own).
func s29ctWalk(t testing.TB, v []byte) s29ctShape {
	t.Helper()
	var sh s29ctShape
	dec := jsontext.NewDecoder(bytes.NewReader(v))
	var walk func(path string, depth int)
	walk = func(path string, depth int) {
		switch dec.PeekKind() {
		case '{':
			_, err := dec.ReadToken()
			require.NoError(t, err)
			from := int(dec.InputOffset())
			for dec.PeekKind() != '}' {
				name, err := dec.ReadValue()
				require.NoError(t, err)
				mFrom := int(dec.InputOffset()) - len(name)
				key := strings.Trim(string(name), `"`)
				walk(path+"/"+key, depth+1)
				if depth == 0 {
					sh.members = append(sh.members, s29ctSpan{mFrom, int(dec.InputOffset()), path + "/" + key})
				}
			}
			_, err = dec.ReadToken()
			require.NoError(t, err)
			sh.objects = append(sh.objects, s29ctSpan{from, int(dec.InputOffset()) - 1, path})
		case '[':
			_, err := dec.ReadToken()
			require.NoError(t, err)
			for i := 0; dec.PeekKind() != ']'; i++ {
				walk(fmt.Sprintf("%s/%d", path, i), depth+1)
			}
			_, err = dec.ReadToken()
			require.NoError(t, err)
		default:
			val, err := dec.ReadValue()
			require.NoError(t, err)
			end := int(dec.InputOffset())
			sh.leaves = append(sh.leaves, s29ctSpan{end - len(val), end, path})
		}
	}
	walk("", 0)
	return sh
}

func s29ctSplice(v []byte, from, to int, with string) []byte {
	out := make([]byte, 0, len(v)+len(with))
	out = append(out, v[:from]...)
	out = append(out, with...)
	return append(out, v[to:]...)
}

// s29ctAddMember inserts "name":val into the object at o, first or last.
func s29ctAddMember(v []byte, o s29ctSpan, member string, first bool) []byte {
	empty := len(bytes.TrimSpace(v[o.From:o.To])) == 0
	switch {
	case empty:
		return s29ctSplice(v, o.From, o.From, member)
	case first:
		return s29ctSplice(v, o.From, o.From, member+",")
	default:
		return s29ctSplice(v, o.To, o.To, ","+member)
	}
}

// s29ctRun is one parser fed messages one after another; it keeps the
// rendering of every event (Raw not kept) and checks the parser's
// promises on each: a nil error or a *ParseError, no recovered panic,
// every event valid and no negative price.
type s29ctRun struct {
	t     testing.TB
	pools *schema.Pools
	sink  *s25ctKeepSink
	p     *normalize.Parser
	// known tells the faults reported by tests of their own, which the
	// broad tests then let pass (nil: none).
	known func(field string) bool
}

func newS29ctRun(t testing.TB, venue string) *s29ctRun {
	r := &s29ctRun{t: t, pools: schema.NewPools(nil), sink: &s25ctKeepSink{}}
	r.p = s25ctParsers[venue](r.pools.Events, r.sink, &normalize.Options{})
	return r
}

// feed normalises msg and returns its error and the renderings of its
// events, gap markers left out when noGaps.
func (r *s29ctRun) feed(msg []byte, noGaps bool) ([]string, error) {
	r.t.Helper()
	before := len(r.sink.evs)
	err := r.p.HandleBytes(context.Background(), msg, 1_700_000_000_000_000_000)
	var out []string
	for i, ev := range r.sink.evs[before:] {
		if verr := ev.Validate(); verr != nil {
			r.t.Errorf("an event that does not validate (%v) from %s: %s", verr, msg, s25ctShow(ev))
		}
		if f := s29ctNegativePrice(reflect.ValueOf(*ev), ""); f != "" && (r.known == nil || !r.known(f)) {
			r.t.Errorf("a negative price %s (normalize/doc.go: no negative prices) from %s", f, msg)
		}
		if noGaps && ev.Type == schema.EventGap {
			continue
		}
		out = append(out, r.sink.shown[before+i])
	}
	var pe *normalize.ParseError
	if err != nil && !errors.As(err, &pe) {
		r.t.Errorf("an error that is no *ParseError: %T %v, from %s", err, err, msg)
	}
	if st := r.p.Stats(); st.Panics != 0 {
		r.t.Errorf("a decoder panic (recovered) on %s: %+v", msg, st)
	}
	return out, err
}

// close returns every event and checks the pool got them all back.
func (r *s29ctRun) close() {
	for _, ev := range r.sink.evs {
		r.pools.Events.Put(ev)
	}
	r.sink.evs, r.sink.shown = nil, nil
	require.NoError(r.t, r.pools.Shutdown(context.Background()), "every pooled object back")
}

var s29ctDecimal = reflect.TypeOf(schema.Decimal{})

// s29ctNegativePrice names a Decimal field called *Price (PriceChange
// excepted) that is negative, or a book level's price that is 0.
func s29ctNegativePrice(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == s29ctDecimal {
			return ""
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			if fv.Type() == s29ctDecimal {
				d := fv.Interface().(schema.Decimal)
				if strings.HasSuffix(f.Name, "Price") && f.Name != "PriceChange" && d.Sign() < 0 {
					return path + "." + f.Name + "=" + d.String()
				}
				if v.Type() == reflect.TypeOf(schema.Level{}) && f.Name == "Price" && d.Sign() == 0 {
					return path + ".Price=0 (a book level)"
				}
				continue
			}
			if s := s29ctNegativePrice(fv, path+"."+f.Name); s != "" {
				return s
			}
		}
	case reflect.Pointer: // an out-of-line section (issue #15): nil unless the event carries it
		if !v.IsNil() {
			return s29ctNegativePrice(v.Elem(), path)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if s := s29ctNegativePrice(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); s != "" {
				return s
			}
		}
	}
	return ""
}

func s29ctBaseline(t testing.TB, s s25ctSample) []string {
	r := newS29ctRun(t, s.venue)
	defer r.close()
	want, err := r.feed(s.data, true)
	if err != nil {
		// A message that needs state first (a delta before its snapshot,
		// a symbol the host registers): out of these tests' reach.
		t.Skipf("the sample alone: %v", err)
	}
	return want
}

// RFC 8259 §4 leaves an object's members to the sender, and goccy's v2
// API ignores members a struct does not name; normalize/doc.go speaks of
// "an object of more than 32 members the parser does not read (none
// documented)" as legal (it costs allocations, not the message). Venues
// add members to their messages without notice (Binance's changelog adds
// fields to existing streams regularly). So a member the docs do not list,
// added first or last to any object of any real message, whatever its
// value — null, [], {}, a number in exponent form, a 64 KiB string,
// nesting 64 deep — changes no event.
func TestS29ctUnknownMembersChangeNothing(t *testing.T) {
	values := map[string]string{
		"null":    `null`,
		"array":   `[]`,
		"object":  `{}`,
		"number":  `1e400`,
		"string":  `"x"`,
		"bool":    `true`,
		"64KiB":   `"` + strings.Repeat("a", 64<<10) + `"`,
		"deep64":  strings.Repeat(`[`, 64) + strings.Repeat(`]`, 64),
		"deepobj": strings.Repeat(`{"a":`, 32) + `1` + strings.Repeat(`}`, 32),
	}
	for _, s := range s25ctSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			want := s29ctBaseline(t, s)
			sh := s29ctWalk(t, s.data)
			for oi, o := range sh.objects {
				vi := 0
				for vn, val := range values {
					vi++
					for _, first := range []bool{true, false} {
						if !first && vn != "null" && vn != "64KiB" && o.Path != "" {
							continue // keep the count down: every value first, two last
						}
						if !s37slowSampled(oi, vi) {
							continue // under -race a sixteenth
						}
						if s.name == "binance_spot_outboundAccountPosition_wrapped" && o.Path == "" && !first {
							continue // TestS29ctWrappedAccountPositionTrailingMember (a fault)
						}
						msg := s29ctAddMember(s.data, o, `"zzS29ct":`+val, first)
						r := newS29ctRun(t, s.venue)
						got, err := r.feed(msg, true)
						r.close()
						if !assert.NoError(t, err, "object %q, member %s first=%v", o.Path, vn, first) ||
							!assert.Equal(t, want, got, "object %q, member %s first=%v", o.Path, vn, first) {
							t.Logf("message: %.400s", msg)
						}
					}
				}
			}
			// More than 32 unknown members at the top (documented: it
			// costs goccy's name check allocations, not the message).
			if len(sh.objects) > 0 && s.name != "binance_spot_outboundAccountPosition_wrapped" {
				top := sh.objects[len(sh.objects)-1]
				var many []string
				for i := range 40 {
					many = append(many, fmt.Sprintf(`"zz%d":%d`, i, i))
				}
				msg := s29ctAddMember(s.data, top, strings.Join(many, ","), false)
				r := newS29ctRun(t, s.venue)
				got, err := r.feed(msg, true)
				r.close()
				assert.NoError(t, err, "40 unknown members")
				assert.Equal(t, want, got, "40 unknown members")
			}
		})
	}
}

var s29ctSeqNum = regexp.MustCompile(`"sequence_num"\s*:\s*(\d+)`)

// s29ctNextFrame is the message that follows s on its connection: s
// itself, or for Coinbase Advanced Trade s with sequence_num + 1.
func s29ctNextFrame(s s25ctSample) []byte {
	m := s29ctSeqNum.FindSubmatchIndex(s.data)
	if s.venue != "coinbase" || m == nil {
		return s.data
	}
	n, _ := strconv.Atoi(string(s.data[m[2]:m[3]]))
	return s29ctSplice(s.data, m[2], m[3], strconv.Itoa(n+1))
}

// normalize/doc.go: "Member names sent twice are refused on every venue
// (goccy's default)". Every top-level member of every real message, sent
// twice with the same value, makes the message a *ParseError (never an
// event), and the same message sent right after it on the same parser
// gives the events it gives alone (gap markers aside: a dropped book
// message may be announced).
func TestS29ctDuplicateMembersAreRefused(t *testing.T) {
	for _, s := range s25ctSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			s29ctBaseline(t, s) // skips a sample that needs state first
			// Coinbase numbers frames per connection (sequence_num, checked
			// before the frame is decoded: normalize/doc.go): the message
			// after a refused one is the next number.
			next := s29ctNextFrame(s)
			want := s29ctBaseline(t, s25ctSample{name: s.name, venue: s.venue, data: next})
			sh := s29ctWalk(t, s.data)
			for _, m := range sh.members {
				top := sh.objects[len(sh.objects)-1]
				msg := s29ctAddMember(s.data, top, string(s.data[m.From:m.To]), false)
				r := newS29ctRun(t, s.venue)
				got, err := r.feed(msg, true)
				var pe *normalize.ParseError
				assert.ErrorAs(t, err, &pe, "member %s twice", m.Path)
				assert.Empty(t, got, "member %s twice: no event", m.Path)
				again, err := r.feed(next, true)
				assert.NoError(t, err, "the good message after it")
				assert.Equal(t, want, again, "the good message after member %s twice", m.Path)
				r.close()
			}
		})
	}
}

// FAULT (found by TestS29ctUnknownMembersChangeNothing): a member after
// "event" in Binance's WS-API user-data wrapper ({"subscriptionId":N,
// "event":{...}}, normalize/doc.go: "a WS-API user-data wrapper — is
// recognised by its leading members") makes an outboundAccountPosition
// a *ParseError ("malformed message: jsontext: invalid character ','
// after top-level value"), while balanceUpdate and executionReport in the
// same wrapper with the same member normalise as without it. A venue that
// adds a member to its wrapper (RFC 8259 §4; Binance adds fields without
// notice) then loses every account snapshot, silently for the book-keeping
// of the host: each is an error, no gap marker.
func TestS29ctWrappedAccountPositionTrailingMember(t *testing.T) {
	for _, name := range []string{"binance_spot_outboundAccountPosition_wrapped", "binance_spot_balanceUpdate_wrapped", "binance_spot_executionReport_wrapped"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("testdata/venues/" + name + ".json")
			require.NoError(t, err)
			s := s25ctSample{name: name, venue: "binance", data: data}
			want := s29ctBaseline(t, s)
			sh := s29ctWalk(t, data)
			msg := s29ctAddMember(data, sh.objects[len(sh.objects)-1], `"x":1`, false)
			r := newS29ctRun(t, "binance")
			defer r.close()
			got, err := r.feed(msg, true)
			require.NoError(t, err, "%s", msg)
			assert.Equal(t, want, got)
		})
	}
}

// s29ctValues are what a leaf of a real message is replaced with: the
// other JSON kind, numbers quoted and bare, exponent forms, huge, negative,
// zero and non-finite values, empty containers, a 64 KiB string.
var s29ctValues = []string{
	`null`, `""`, `"abc"`, `-1`, `"-1"`, `0`, `"0"`, `"-0"`, `1e400`, `1e-400`, `"1e3"`, `1E+2`, `1.5e-3`,
	`99999999999999999999999999`, `"99999999999999999999999999"`, `-9223372036854775809`,
	`18446744073709551616`, `"NaN"`, `"Infinity"`, `[]`, `{}`, `[[[[[[[[1]]]]]]]]`, `true`,
	`"` + strings.Repeat("9", 64<<10) + `"`,
}

// s29ctSorted returns a sorted copy, for comparing events as multisets.
func s29ctSorted(v []string) []string {
	out := append([]string(nil), v...)
	slices.Sort(out)
	return out
}

// Contract 6 and normalize/doc.go ("A message that cannot be normalised
// yields a *ParseError naming venue, message type and field; it is dropped
// and counted, and nothing else is affected"; "Nothing on venue input may
// panic"): every scalar of every real message (the first element of
// each array) replaced by each of s29ctValues gives either events or a
// *ParseError — never a panic, recovered or not, never an event that fails
// Validate or carries a negative price — and when it is refused, the
// message that follows it on the connection gives, with what the refused
// frame delivered of its other messages, exactly the events it gives alone
// (gap markers aside): a refused message moves no repeat or sequence
// state. Every pooled event goes back.
func TestS29ctMutatedValuesAreRefusedOrHarmless(t *testing.T) {
	for _, s := range s25ctSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			s29ctBaseline(t, s)
			next := s29ctNextFrame(s)
			want := s29ctSorted(s29ctBaseline(t, s25ctSample{name: s.name, venue: s.venue, data: next}))
			sh := s29ctWalk(t, s.data)
			refused := 0
			for li, leaf := range sh.leaves {
				if s29ctDeepIndex.MatchString(leaf.Path) {
					continue
				}
				orig := string(s.data[leaf.From:leaf.To])
				vals := s29ctValues
				if uq, err := strconv.Unquote(orig); err == nil && uq != "" {
					vals = append(vals[:len(vals):len(vals)], uq) // a quoted value bare
				} else if orig != "null" && orig != "true" && orig != "false" {
					vals = append(vals[:len(vals):len(vals)], strconv.Quote(orig)) // a bare one quoted
				}
				for j, val := range vals {
					if !s37slowSampled(li, j) {
						continue // under -race a sixteenth of the pairs, all values over the leaves
					}
					msg := s29ctSplice(s.data, leaf.From, leaf.To, val)
					r := newS29ctRun(t, s.venue)
					r.known = s29ctKnownPriceFaults(s.venue)
					first, err := r.feed(msg, true)
					switch {
					case err != nil && len(first) == 0:
						// The whole frame refused: the same frame sent
						// again normalises as if the first had not come.
						refused++
						after, err2 := r.feed(next, true)
						if !assert.NoError(t, err2, "%s=%.40s: the next message", leaf.Path, val) ||
							!assert.Equal(t, want, s29ctSorted(after),
								"%s=%.40s (refused: %v): the next message's events", leaf.Path, val, err) {
							t.Logf("message: %.300s", msg)
						}
					case err != nil:
						// One message of several refused: the others are
						// delivered as they are alone (a resend of the frame
						// would rightly repeat them).
						refused++
						assert.Subset(t, want, first, "%s=%.40s (refused: %v): the frame's other messages", leaf.Path, val, err)
					}
					r.close()
				}
			}
			t.Logf("%d leaves, %d mutations refused", len(sh.leaves), refused)
		})
	}
}

// s29ctDeepIndex matches a path through an array element past the first.
var s29ctDeepIndex = regexp.MustCompile(`/([1-9]|\d\d+)(/|$)`)

// s29ctKnownPriceFaults lets pass the two faults of prices reported by
// TestS29ctBookLevelAtPriceZero and TestS29ctBybitTickerNegativeMark.
func s29ctKnownPriceFaults(venue string) func(string) bool {
	if os.Getenv("S29CT_NOSKIP") != "" {
		return nil
	}
	return func(f string) bool {
		return strings.HasPrefix(f, ".Book.") && strings.HasSuffix(f, "(a book level)") ||
			venue == "bybit" && (strings.HasPrefix(f, ".Ticker.MarkPrice=") || strings.HasPrefix(f, ".Ticker.IndexPrice="))
	}
}

// s29ctEveryLeafAs feeds each real message with each scalar (first
// element of every array) replaced by val, on a fresh parser whose
// events check runs on.
func s29ctEveryLeafAs(t *testing.T, names func(string) bool, vals []string, check func(t *testing.T, msg []byte, ev *schema.CanonicalEvent)) {
	for _, s := range s25ctSamples(t) {
		if !names(s.name) {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			sh := s29ctWalk(t, s.data)
			for li, leaf := range sh.leaves {
				if s29ctDeepIndex.MatchString(leaf.Path) {
					continue
				}
				for j, val := range vals {
					if !s37slowSampled(li, j) {
						continue // under -race a sixteenth
					}
					msg := s29ctSplice(s.data, leaf.From, leaf.To, val)
					r := newS29ctRun(t, s.venue)
					r.known = func(string) bool { return true }
					_ = r.p.HandleBytes(context.Background(), msg, 1_700_000_000_000_000_000)
					for _, ev := range r.sink.evs {
						check(t, msg, ev)
					}
					r.close()
				}
			}
		})
	}
}

// FAULT: normalize/doc.go, the rules every venue shares: "no negative
// prices, no book level at price 0 — ErrBadValue". A book update's level
// at price 0 with quantity 0 (a delete) is delivered as a level at price 0
// on Bybit orderbook deltas, OKX books updates, Kraken v2 book updates and
// Coinbase Advanced Trade l2_data updates ("0", 0 and "-0" alike), where a
// level at price 0 with a quantity is refused. A venue never sends one: a
// message that does is corrupt, and the doc says it is refused.
func TestS29ctBookLevelAtPriceZero(t *testing.T) {
	s29ctEveryLeafAs(t, func(string) bool { return true }, []string{`"0"`, `0`, `"-0"`, `"0.000"`},
		func(t *testing.T, msg []byte, ev *schema.CanonicalEvent) {
			for _, side := range [][]schema.Level{ev.Book.Bids, ev.Book.Asks} {
				for _, l := range side {
					assert.NotZero(t, l.Price.Sign(), "a level at price 0 (qty %s) from %.300s", l.Qty, msg)
				}
			}
		})
}

// FAULT: "no negative prices" (normalize/doc.go): a Bybit linear tickers
// snapshot with "markPrice":"-1" or "indexPrice":"-1" is delivered with a
// negative Ticker.MarkPrice / IndexPrice, where a negative lastPrice,
// bid1Price or ask1Price is refused (and Binance's markPriceUpdate refuses
// a negative "p").
func TestS29ctBybitTickerNegativeMark(t *testing.T) {
	s29ctEveryLeafAs(t, func(n string) bool { return strings.HasPrefix(n, "bybit_v5_tickers") }, []string{`"-1"`, `-1`, `"-0.5"`},
		func(t *testing.T, msg []byte, ev *schema.CanonicalEvent) {
			if ev.Type != schema.EventTicker {
				assert.Nil(t, ev.Ticker, "a %v carries no Ticker", ev.Type)
				return
			}
			require.NotNil(t, ev.Ticker, "a ticker carries its Ticker: %.300s", msg)
			for name, d := range map[string]schema.Decimal{"MarkPrice": ev.Ticker.MarkPrice, "IndexPrice": ev.Ticker.IndexPrice, "Last": ev.Ticker.Last,
				"BidPrice": ev.Ticker.BidPrice, "AskPrice": ev.Ticker.AskPrice} {
				assert.GreaterOrEqual(t, d.Sign(), 0, "Ticker.%s=%s from %.300s", name, d, msg)
			}
		})
}

// s29ctThin says the broad mutation tests try a quarter of their cases:
// under the race detector (a loaded 2-core machine runs two race suites at
// once); all of them without it, CI's coverage step (-short) included.
// S29CT_FULL=1 runs them all.
func s29ctThin() bool {
	return os.Getenv("S29CT_FULL") == "" && raceEnabled
}
