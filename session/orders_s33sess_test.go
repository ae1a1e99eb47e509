package session_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// TestS33sessClientIDRulesAtTheirEdges: each venue's documented client
// order id rule, at its edges, is applied by Place before anything is
// sent or waited for: the longest id of the rule's alphabet passes the
// check (the call then waits for the connection, here for a ctx already
// ended), one byte longer or one character outside it is refused with
// normalize.ErrBadValue, and the venue sees nothing. OKX v5 "Place
// order": clOrdId "alphanumerical, 1 to 32"; Bybit v5 "Create Order":
// orderLinkId "max 36 characters", "numbers, letters (upper and lower
// cases), dashes, and underscores"; Kraken "Spot Client Order
// Identifiers": a UUID (36 or 32 hex digits) or free text of at most 18
// printable ASCII characters. (Binance's, ^[a-zA-Z0-9-_]{1,36}$ as its
// -1100 answer names it: orders_adversarial5_test.go.)
func TestS33sessClientIDRulesAtTheirEdges(t *testing.T) {
	rules := map[schema.Venue]struct{ ok, bad []string }{
		schema.VenueOKX: {
			ok:  []string{strings.Repeat("a", 31) + "Z", "0"},
			bad: []string{strings.Repeat("a", 33), "a-b", "a_b"},
		},
		schema.VenueBybit: {
			ok:  []string{strings.Repeat("a", 34) + "-_", "0"},
			bad: []string{strings.Repeat("a", 37), "a.b", "a:b"},
		},
		schema.VenueKraken: {
			ok:  []string{strings.Repeat("a", 17) + "!", "123e4567-e89b-12d3-a456-426614174000", "123e4567e89b12d3a456426614174000"},
			bad: []string{strings.Repeat("a", 19), "a b", "123e4567-e89b-12d3-a456-42661417400g"},
		},
	}
	for _, c := range placeCases() {
		r, ok := rules[c.venue]
		require.True(t, ok, "a rule for %s", c.venue)
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, nil)
			s := startOrders(t, c, f, nil)
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // checked first; a valid request then waits, and ends with ctx
			for _, id := range r.ok {
				req := venueLimit(t, s, id)
				_, err := s.Place(ctx, req)
				s.Pools().Orders.Put(req)
				require.Error(t, err)
				assert.NotErrorIs(t, err, normalize.ErrBadValue, "%q is in the rule", id)
				assert.ErrorIs(t, err, context.Canceled, "%q: checked, then waited for", id)
			}
			for _, id := range r.bad {
				req := venueLimit(t, s, id)
				_, err := s.Place(ctx, req)
				s.Pools().Orders.Put(req)
				assert.ErrorIs(t, err, normalize.ErrBadValue, "%q is outside the rule", id)
			}
			assert.Empty(t, f.ordersSeen(), "nothing sent")
		})
	}
}
