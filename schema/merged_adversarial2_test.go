package schema_test

// Adversarial tests, second round (reviewer R4): MergedEvent.Validate holds
// a window to exactly its fragments.

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

func TestAdversarial2MergedValidateWindow(t *testing.T) {
	t.Parallel()
	frag := func(ex, in int64) schema.Fragment {
		return schema.Fragment{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade, ExchangeTS: ex, IngestTS: in}
	}
	window := func(open, closeAt int64, fs ...schema.Fragment) *schema.MergedEvent {
		return &schema.MergedEvent{Symbol: "BTC-USDT", Type: schema.EventTrade, WindowOpen: open, WindowClose: closeAt, Fragments: fs}
	}
	for _, tc := range []struct {
		name string
		m    *schema.MergedEvent
		ok   bool
	}{
		{"inside", window(100, 200, frag(100, 0), frag(199, 0)), true},
		{"at the close", window(100, 200, frag(200, 0)), false},
		{"before the open", window(100, 200, frag(99, 0)), false},
		{"venue time wins over receive time", window(100, 200, frag(150, 500)), true},
		{"receive time when no venue time", window(100, 200, frag(0, 150)), true},
		{"receive time outside", window(100, 200, frag(0, 250)), false},
		{"no time at all, window from zero", window(0, 1, frag(0, 0)), true},
		{"negative times", window(-200, -100, frag(-150, 0)), true},
		{"negative, outside", window(-200, -100, frag(-50, 0)), false},
		{"top of int64", window(math.MaxInt64-10, math.MaxInt64, frag(math.MaxInt64-1, 0)), true},
		{"at math.MaxInt64, outside any window", window(math.MaxInt64-10, math.MaxInt64, frag(math.MaxInt64, 0)), false},
		{"reversed", window(200, 100), false},
		{"window without time, fragments anywhere", window(0, 0, frag(5, 0)), true},
	} {
		err := tc.m.Validate()
		if tc.ok {
			require.NoError(t, err, tc.name)
		} else {
			require.ErrorIs(t, err, schema.ErrInvalid, tc.name)
		}
	}
	// A consolidated view (coalescable type, one instant) holds each
	// venue's last quote, of any time: its fragments are not held to its
	// instant. A window of best bid/offers is a window like any other.
	view := &schema.MergedEvent{Symbol: "BTC-USDT", Type: schema.EventBBO, WindowOpen: 500, WindowClose: 500,
		Fragments: []schema.Fragment{{Venue: schema.VenueOKX, Symbol: "BTC-USDT", Type: schema.EventBBO, ExchangeTS: 100}}}
	require.True(t, view.View())
	require.NoError(t, view.Validate())
	view.WindowClose = 600
	require.False(t, view.View())
	require.ErrorIs(t, view.Validate(), schema.ErrInvalid, "a window of quotes holding one from before it")
}
