package meltica_test

// Outside contract tests, round 4 (s29ct): strange venue messages through
// the whole public pipeline — a WebSocket peer, wsclient, the venue's
// parser, the dispatcher, a subscriber — written from DESIGN.md ("The path
// of one message", contract 6) without reading the implementation.

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s29ctNumbered makes the i-th copy of a sample: Binance trade id "t" and
// Coinbase's per-connection "sequence_num" set to base+i, so that no copy
// is a repeat of another (normalize/doc.go: trade and frame repeats).
var s29ctNumberedRE = regexp.MustCompile(`("t"\s*:\s*|"sequence_num"\s*:\s*)(\d+)`)

func s29ctNumbered(data []byte, i int) []byte {
	return s29ctNumberedRE.ReplaceAllFunc(data, func(m []byte) []byte {
		sub := s29ctNumberedRE.FindSubmatch(m)
		n, _ := strconv.Atoi(string(sub[2]))
		return append(append([]byte(nil), sub[1]...), strconv.Itoa(n+i)...)
	})
}

// Contract 6 end to end: "Bad input gets a clear error and costs nothing
// else ... the connection and every other event unharmed". For a sample
// of each venue (trades and tickers the parsers do not compare for
// repeats, or numbered here), the peer sends on one connection 30 good
// copies with, after each, a copy the parser refuses (a value of
// s29ctValues in one of its leaves, taken when a fresh parser refuses it
// whole). The subscriber receives exactly the good copies' events, in
// order, as the parser gives them alone; each bad copy is one handler
// error (Stats.HandlerErrors, ReasonHandlerError events carrying the
// *ParseError); one connection throughout; no recovered panic; after Close
// every pool has every object back.
func TestS29ctStrangeMessagesThroughThePipeline(t *testing.T) {
	venues := map[string]schema.Venue{"binance": schema.VenueBinance, "okx": schema.VenueOKX, "bybit": schema.VenueBybit,
		"kraken": schema.VenueKraken, "coinbase": schema.VenueCoinbase}
	coalesce := map[string]bool{"okx_tickers": true, "kraken_v1_ticker": true, "coinbase_advanced_ticker": true}
	for _, name := range []string{"binance_trade", "okx_tickers", "bybit_v5_publicTrade", "kraken_v1_trade", "kraken_v1_ticker", "coinbase_advanced_ticker"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("testdata/venues/" + name + ".json")
			require.NoError(t, err)
			s := s25ctSample{name: name, venue: s29ctVenueOf(name), data: data}
			// the bad copies: refused whole by a fresh parser
			var bad [][]byte
			sh := s29ctWalk(t, data)
			for li, leaf := range sh.leaves {
				for j, val := range s29ctValues {
					if (li+j)%3 != 0 || len(bad) == 30 {
						continue
					}
					msg := s29ctSplice(data, leaf.From, leaf.To, val)
					r := newS29ctRun(t, s.venue)
					r.known = func(string) bool { return true }
					if evs, err := r.feed(msg, false); err != nil && len(evs) == 0 {
						bad = append(bad, msg)
					}
					r.close()
				}
			}
			require.NotEmpty(t, bad)
			var msgs [][]byte
			var want []string
			for i := range 2 * len(bad) {
				m := s29ctNumbered(data, i)
				if i%2 == 1 {
					m = s29ctNumbered(bad[i/2], i)
				} else {
					r := newS29ctRun(t, s.venue)
					evs, err := r.feed(m, false)
					require.NoError(t, err)
					want = append(want, evs...)
					r.close()
				}
				msgs = append(msgs, m)
			}

			url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
				c, err := websocket.Accept(w, r, nil)
				if err != nil {
					return
				}
				defer func() { _ = c.CloseNow() }()
				ctx := c.CloseRead(r.Context())
				for _, m := range msgs {
					if c.Write(ctx, websocket.MessageText, m) != nil {
						return
					}
				}
				<-ctx.Done()
			})
			ctx := context.Background()
			pools := schema.NewPools(nil)
			d := dispatch.New(pools.Events, nil)
			var mu sync.Mutex
			var got []string
			_, err = d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
				if ev.Type == schema.EventGap {
					return // Coinbase announces a frame it could not read (normalize/doc.go)
				}
				ev.IngestTS = 1_700_000_000_000_000_000 // the receive time: the wire's, not the sample's
				mu.Lock()
				got = append(got, s25ctShow(ev))
				mu.Unlock()
			}})
			require.NoError(t, err)
			p := s25ctParsers[s.venue](pools.Events, d, nil)
			evs := newS27ctEvents()
			c, err := wsclient.New(url, p.HandleFrame, &wsclient.Options{Venue: venues[s.venue], Frames: pools.Frames, OnEvent: evs.on, CloseTimeout: -1})
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx) }()
			require.Eventually(t, func() bool {
				st := c.Stats()
				return st.Messages == uint64(len(msgs)) && st.HandlerErrors == uint64(len(bad))
			}, s27ctWait, time.Millisecond, "every message read, every refusal counted")
			require.NoError(t, c.Close(ctx))
			require.NoError(t, <-done)
			require.NoError(t, d.Close(ctx)) // delivers what is queued
			mu.Lock()
			if coalesce[name] {
				// latest-wins per key (contract 4): a slow subscriber sees
				// fewer, never a stale one, and the latest last
				require.NotEmpty(t, got)
				assert.Equal(t, want[len(want)-1], got[len(got)-1], "the latest good copy's event last")
				j := 0
				for _, g := range got {
					for j < len(want) && want[j] != g {
						j++
					}
					assert.Less(t, j, len(want), "an event no good copy gives, or out of order: %.300s", g)
				}
			} else {
				assert.Equal(t, want, got, "the good copies' events, unchanged and in order")
			}
			mu.Unlock()
			st := c.Stats()
			assert.Equal(t, uint64(len(bad)), st.HandlerErrors)
			assert.Equal(t, uint64(len(msgs)), st.Messages)
			assert.Zero(t, st.TotalReconnects(), "one connection throughout")
			ps := p.Stats()
			assert.Equal(t, uint64(len(bad)), ps.Errors)
			assert.Zero(t, ps.Panics)
			ev := evs.await(t, "a refusal reported", func(ev wsclient.Event) bool { return ev.Reason == wsclient.ReasonHandlerError })
			var pe *normalize.ParseError
			assert.ErrorAs(t, ev.Err, &pe)
			require.NoError(t, pools.Shutdown(ctx), "every pooled object back")
		})
	}
}

func s29ctVenueOf(name string) string {
	for v := range s25ctParsers {
		if len(name) > len(v) && name[:len(v)+1] == v+"_" {
			return v
		}
	}
	return ""
}
