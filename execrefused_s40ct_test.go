package meltica_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// s40ctRefusedReports are a real report of each venue's report channel
// (testdata/venues) and a value that makes the parser refuse it; seq
// matches the connection's message counter, renumbered per message
// (Coinbase sequence_num, Kraken v2 sequence), so that no message is a
// repeat of the one before.
var s40ctRefusedReports = []struct {
	file, old, new string
	seq            *regexp.Regexp
}{
	{"binance_executionReport_trade", `"L":  "0.99750000"`, `"L":  "x"`, nil},
	{"binance_futures_ORDER_TRADE_UPDATE_partial", `"L": "7100.50"`, `"L": "NaN"`, nil},
	{"okx_orders_fill", `"fillPx":"103698.9"`, `"fillPx":"x"`, nil},
	{"bybit_v5_execution", `"execPrice":"0.3374"`, `"execPrice":"-1"`, nil},
	{"kraken_v2_executions_trade", `"last_price":26599.9`, `"last_price":"x"`, regexp.MustCompile(`"sequence":\d+`)},
	{"coinbase_advanced_user_snapshot", `"status":"OPEN"`, `"status":"NOT_A_STATUS"`, regexp.MustCompile(`"sequence_num":\d+`)},
}

// TestS40ctRefusedReportsAnnouncedOnceASecond feeds each venue's parser,
// on one connection, refused execution reports and good ones at chosen
// receive times and counts the gap markers about execution reports.
//
// Package normalize, "Refused execution reports": one the parser refuses
// "returns its *ParseError and is announced ... by a gap marker:
// EventGap, Control.GapType EventExecReport, GapSource venue, GapCount
// the reports refused since the last marker, Reason "execution report
// refused: " and the first cause ... At most one marker a second of
// receive time per parser: the first refused report is announced at
// once, those within the second after a marker are counted and announced
// by the first message of the connection after it (every one when frames
// carry no receive time; one received before the marker — the host's
// clock stepped back — at once)"; Stats.Errors counts the messages
// dropped with a *ParseError.
func TestS40ctRefusedReportsAnnouncedOnceASecond(t *testing.T) {
	s40ctRefusedReportsOnceASecond(t, false)
}

// TestS40ctRefusedReportAfterAClockStepCountsThoseOwed: the same, with
// every refused report announced once the report received before the
// last marker (the host's clock stepped back) came, "at once", while one
// refused within the second after the marker was still owed.
//
// FAULT (fixed by s40rvnorm in normalize/execloss.go flushRefused): the
// message of the stepped-back report announced the one owed (a marker,
// GapCount 1) and took the stepped-back time as the marker's, so its own
// refusal fell within the new marker's second and was held for the next
// message of the connection — which may never come: a refused execution
// report unannounced. normalize/doc.go "Refused execution reports": "one
// received before the marker — the host's clock stepped back — at once".
func TestS40ctRefusedReportAfterAClockStepCountsThoseOwed(t *testing.T) {
	s40ctRefusedReportsOnceASecond(t, true)
}

func s40ctRefusedReportsOnceASecond(t *testing.T, strict bool) {
	ctx := context.Background()
	for _, c := range s40ctRefusedReports {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/venues/" + c.file + ".json")
			require.NoError(t, err)
			good := string(b)
			bad := strings.Replace(good, c.old, c.new, 1)
			require.NotEqual(t, good, bad, "the sample changed")
			venue, _, _ := strings.Cut(c.file, "_")
			n := 0
			msg := func(s string) []byte { // the connection's next message
				n++
				if c.seq != nil {
					name, _, _ := strings.Cut(c.seq.FindString(s), ":")
					s = c.seq.ReplaceAllString(s, fmt.Sprintf("%s:%d", name, n))
				}
				return []byte(s)
			}
			sink := &s25ctKeepSink{}
			pools := schema.NewPools(nil)
			p := s25ctParsers[venue](pools.Events, sink, nil)
			markers := func() []schema.Control {
				var out []schema.Control
				for _, ev := range sink.evs {
					if ev.Type == schema.EventGap && ev.Control.GapType == schema.EventExecReport {
						out = append(out, *ev.Control)
					}
				}
				return out
			}
			t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC).UnixNano()
			at := func(d time.Duration) int64 { return t0 + int64(d) }
			feedBad := func(recv int64) {
				t.Helper()
				err := p.HandleBytes(ctx, msg(bad), recv)
				var pe *normalize.ParseError
				require.True(t, errors.As(err, &pe), "a refused report is a *ParseError: %v", err)
			}
			feedGood := func(recv int64) {
				t.Helper()
				require.NoError(t, p.HandleBytes(ctx, msg(good), recv))
			}

			feedBad(at(0))
			m := markers()
			require.Len(t, m, 1, "the first refused report announced at once")
			assert.Equal(t, uint64(1), m[0].GapCount)
			assert.Equal(t, schema.GapVenue, m[0].GapSource)
			assert.True(t, strings.HasPrefix(m[0].Reason, "execution report refused: "), "Reason: %q", m[0].Reason)
			feedBad(at(200 * time.Millisecond))
			feedGood(at(500 * time.Millisecond))
			feedBad(at(900 * time.Millisecond))
			assert.Len(t, markers(), 1, "the refusals within the second after a marker are counted, not announced")
			feedGood(at(1200 * time.Millisecond))
			m = markers()
			require.Len(t, m, 2, "announced by the first message of the connection after the second")
			assert.Equal(t, uint64(2), m[1].GapCount, "the two refused since the marker")
			feedBad(at(1300 * time.Millisecond))
			assert.Len(t, markers(), 2, "within the second after the second marker: counted")

			feedBad(at(-time.Second)) // the host's clock stepped back
			require.Greater(t, len(markers()), 2, "one received before the marker announced at once")
			if strict {
				var sum uint64
				for _, c := range markers() {
					sum += c.GapCount
				}
				assert.Equal(t, p.Stats().Errors, sum,
					"the report received before the marker announced at once (with the one owed since the marker, or after it): %+v", markers())
			}
			for range 2 {
				was := len(markers())
				feedBad(0)
				assert.Greater(t, len(markers()), was, "frames without a receive time: every one announced")
			}
			var sum uint64
			for _, c := range markers() {
				sum += c.GapCount
			}
			assert.Equal(t, uint64(7), p.Stats().Errors, "every refused report counted: %+v", p.Stats())
			assert.Equal(t, p.Stats().Errors, sum, "the markers' counts add up to the reports refused, none lost or told twice: %+v", markers())

			for _, ev := range sink.evs {
				pools.Events.Put(ev)
			}
			require.NoError(t, pools.Shutdown(ctx))
		})
	}
}

// TestS40ctReportFrameRefusedWholeIsAnnounced: package normalize,
// "Refused execution reports": "so is a report channel's frame refused
// before its reports were read (its envelope does not decode, or it has
// no "data": Bybit "order"/"execution", OKX "orders", Kraken v2
// "executions", Coinbase Advanced Trade "user"), counted as one". Each
// such frame — without its reports, or with them of the wrong JSON type —
// is a *ParseError and a marker about execution reports (GapCount 1);
// the parser goes on: the venue's real report after it is delivered.
func TestS40ctReportFrameRefusedWholeIsAnnounced(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		venue, good string
		bad         []string
		fault       map[int]string // the cases that fail, skipped as FAULT
	}{
		{"okx", "okx_orders_fill", []string{
			`{"arg":{"channel":"orders","instType":"SPOT"}}`,
			`{"arg":{"channel":"orders","instType":"SPOT"},"data":"x"}`,
			`{"arg":{"channel":"orders","instType":"SPOT"},"data":{"ordId":"1"}}`,
			`{"arg":{"channel":"orders-algo","instType":"SPOT"}}`,
			`{"arg":{"channel":"orders-algo","instType":"SPOT"},"data":"x"}`,
			`{"arg":{"channel":"algo-advance","instType":"SPOT"}}`,
			`{"arg":{"channel":"algo-advance","instType":"SPOT"},"data":"x"}`,
		}, nil},
		{"bybit", "bybit_v5_execution", []string{
			`{"id":"1","topic":"order","creationTime":1672364262474}`,
			`{"id":"1","topic":"execution","creationTime":1672364262474,"data":7}`,
			`{"id":"1","topic":"order","creationTime":1672364262474,"data":{"orderId":"1"}}`,
			`{"id":"1","topic":"execution.fast","creationTime":1672364262474}`,
			`{"id":"1","topic":"execution.fast","creationTime":1672364262474,"data":"x"}`,
		}, nil},
		{"kraken", "kraken_v2_executions_trade", []string{
			`{"channel":"executions","type":"update","sequence":5}`,
			`{"channel":"executions","type":"update","data":"x","sequence":5}`,
		}, nil},
		{"coinbase", "coinbase_advanced_user_snapshot", []string{
			`{"channel":"user","client_id":"","timestamp":"2026-04-07T14:30:06.000000Z","sequence_num":0}`,
			`{"channel":"user","client_id":"","timestamp":"2026-04-07T14:30:06.000000Z","sequence_num":0,"events":"x"}`,
		}, nil},
	}
	for _, c := range cases {
		for i, bad := range c.bad {
			t.Run(fmt.Sprintf("%s/%d", c.venue, i), func(t *testing.T) {
				if f := c.fault[i]; f != "" && os.Getenv("S40CT_NOSKIP") == "" {
					t.Skip(f)
				}
				sink := &s25ctKeepSink{}
				pools := schema.NewPools(nil)
				p := s25ctParsers[c.venue](pools.Events, sink, nil)
				err := p.HandleBytes(ctx, []byte(bad), 0)
				var pe *normalize.ParseError
				assert.True(t, errors.As(err, &pe), "the frame refused, a *ParseError: %v", err)
				var markers []schema.Control
				for _, ev := range sink.evs {
					if ev.Type == schema.EventGap && ev.Control.GapType == schema.EventExecReport {
						markers = append(markers, *ev.Control)
					}
				}
				if assert.Len(t, markers, 1, "the refused frame announced: %s", bad) {
					assert.Equal(t, uint64(1), markers[0].GapCount, "counted as one")
				}
				good, err := os.ReadFile("testdata/venues/" + c.good + ".json")
				require.NoError(t, err)
				// the next message of the connection (Kraken and Coinbase number them)
				next := regexp.MustCompile(`"(sequence|sequence_num)":\d+`).ReplaceAllString(string(good), `"$1":6`)
				was := len(sink.evs)
				require.NoError(t, p.HandleBytes(ctx, []byte(next), 0))
				delivered := false
				for _, ev := range sink.evs[was:] {
					delivered = delivered || ev.Type == schema.EventExecReport
				}
				assert.True(t, delivered, "the venue's next report delivered")
				for _, ev := range sink.evs {
					pools.Events.Put(ev)
				}
				require.NoError(t, pools.Shutdown(ctx))
			})
		}
	}
}
