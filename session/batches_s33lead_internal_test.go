package session

import (
	"fmt"
	"strings"
	"testing"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS33leadSubscribeBatchesKeepTheVenuesBounds: the subscribe
// messages of one channel keep each venue's documented bound — OKX's
// 64 KB of args ("Subscribe"), Bybit's 10 args per request ("Connect";
// spot's rule, kept on every category) — each as full as the bound
// allows, every symbol asked for once and in order. Before: one message
// per channel, 2,000 OKX instruments in 106,001 bytes and 25 Bybit
// topics in one request.
func TestS33leadSubscribeBatchesKeepTheVenuesBounds(t *testing.T) {
	for _, tc := range []struct {
		venue   schema.Venue
		channel string
		n       int
		name    func(i int) string
	}{
		{schema.VenueOKX, "tickers", 2000, func(i int) string { return fmt.Sprintf("S%04d-USDT-SWAP", i) }},
		{schema.VenueOKX, "books", 5000, func(i int) string { return fmt.Sprintf("%s-USDT", strings.Repeat("X", 1+i%40)) }},
		{schema.VenueOKX, "trades", 3, func(i int) string { return fmt.Sprintf("S%d-USDT", i) }},
		{schema.VenueBybit, "publicTrade", 25, func(i int) string { return fmt.Sprintf("S%dUSDT", i) }},
		{schema.VenueBybit, "orderbook.50", 10, func(i int) string { return fmt.Sprintf("S%dUSDT", i) }},
		{schema.VenueKraken, "trade", 3000, func(i int) string { return fmt.Sprintf("S%d/USD", i) }},
	} {
		t.Run(fmt.Sprintf("%s/%s/%d", tc.venue, tc.channel, tc.n), func(t *testing.T) {
			spec := venues[tc.venue]
			syms := make([]string, tc.n)
			for i := range syms {
				syms[i] = tc.name(i)
			}
			var asked []string
			batches := spec.batches(tc.channel, syms)
			for k, b := range batches {
				msg, err := spec.subscribe(tc.channel, b)
				require.NoError(t, err)
				var m struct {
					Args   jsontext.Value `json:"args"`
					Params struct {
						Symbol []string `json:"symbol"`
					} `json:"params"`
				}
				require.NoError(t, json.Unmarshal(msg, &m))
				switch tc.venue {
				case schema.VenueOKX:
					// s33rvsess: the whole message (either reading of the bound)
					assert.LessOrEqual(t, len(msg), 64<<10, "batch %d", k)
					if k < len(batches)-1 { // full: the next symbol would not fit
						next := batches[k+1][0]
						assert.Greater(t, len(msg)+1+26+len(tc.channel)+len(next), 64<<10, "batch %d not full", k)
					}
					var args []struct {
						Channel string `json:"channel"`
						InstID  string `json:"instId"`
					}
					require.NoError(t, json.Unmarshal(m.Args, &args))
					for _, a := range args {
						require.Equal(t, tc.channel, a.Channel)
						asked = append(asked, a.InstID)
					}
				case schema.VenueBybit:
					var args []string
					require.NoError(t, json.Unmarshal(m.Args, &args))
					assert.LessOrEqual(t, len(args), 10, "batch %d", k)
					if k < len(batches)-1 {
						assert.Len(t, args, 10, "batch %d not full", k)
					}
					for _, a := range args {
						asked = append(asked, strings.TrimPrefix(a, tc.channel+"."))
					}
				default: // no documented bound: one message
					require.Len(t, batches, 1)
					asked = append(asked, m.Params.Symbol...)
				}
			}
			require.Equal(t, syms, asked, "every symbol once, in order")
		})
	}
}
