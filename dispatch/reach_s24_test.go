package dispatch

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestGapMarkerReach, from doc.go and Filter's doc only: which subscribers
// a venue's gap marker reaches. A marker about a stream reaches that
// stream's subscribers and those of gap markers; one that names no type
// reaches every market data subscriber of its venue (and symbol), not
// one of critical types only; a marker without symbol passes any symbol
// list; nothing reaches another venue's subscriber.
func TestGapMarkerReach(t *testing.T) {
	subs := []struct {
		name string
		f    Filter
	}{
		{"trades", Filter{Types: []schema.EventType{schema.EventTrade}}},
		{"btc bbo", Filter{Symbols: []string{"BTC-USDT"}, Types: []schema.EventType{schema.EventBBO}}},
		{"eth all", Filter{Symbols: []string{"ETH-USDT"}}},
		{"exec only", Filter{Types: []schema.EventType{schema.EventExecReport}}},
		{"gaps", Filter{Types: []schema.EventType{schema.EventGap}}},
		{"okx all", Filter{Venues: []schema.Venue{schema.VenueOKX}}},
		{"binance trades+exec", Filter{Venues: []schema.Venue{bin}, Types: []schema.EventType{schema.EventTrade, schema.EventExecReport}}},
	}
	markers := []struct {
		name   string
		symbol string
		typ    schema.EventType
		want   []string
	}{
		{"btc trades", "BTC-USDT", schema.EventTrade, []string{"trades", "gaps", "binance trades+exec"}},
		{"btc bbo", "BTC-USDT", schema.EventBBO, []string{"btc bbo", "gaps"}},
		{"eth bbo", "ETH-USDT", schema.EventBBO, []string{"eth all", "gaps"}},
		{"venue trades", "", schema.EventTrade, []string{"trades", "eth all", "gaps", "binance trades+exec"}},
		{"venue bbo", "", schema.EventBBO, []string{"btc bbo", "eth all", "gaps"}},
		{"btc everything", "BTC-USDT", schema.EventUnknown, []string{"trades", "btc bbo", "gaps", "binance trades+exec"}},
		{"venue everything", "", schema.EventUnknown, []string{"trades", "btc bbo", "eth all", "gaps", "binance trades+exec"}},
		{"btc exec", "BTC-USDT", schema.EventExecReport, []string{"exec only", "gaps", "binance trades+exec"}},
	}
	for _, mk := range markers {
		t.Run(mk.name, func(t *testing.T) {
			p := newEventPool(8)
			d := New(p, nil)
			got := map[string]chan *schema.CanonicalEvent{}
			for _, s := range subs {
				ch := make(chan *schema.CanonicalEvent, 4)
				got[s.name] = ch
				_, err := d.Subscribe(s.f, &SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { ch <- ev }})
				require.NoError(t, err)
			}
			ev := take(t, p, bin, mk.symbol, schema.EventGap, 0)
			ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: mk.typ, GapSource: schema.GapVenue}
			require.NoError(t, d.Publish(context.Background(), ev))
			closeDispatcher(t, d)
			var reached []string
			for _, s := range subs {
				if len(got[s.name]) > 0 {
					reached = append(reached, s.name)
				}
			}
			assert.ElementsMatch(t, mk.want, reached)
		})
	}
}
