package session

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS29NoAnswerPlaceLookedUp: a place unanswered within
// Config.OrderAnswerTimeout (ErrNoAnswer) may be working at the venue: it
// is looked up by its client order id in the next pass, as one whose
// connection was lost. Failed before the order deadline took ErrNoAnswer
// for an unknown outcome (nothing looked up: a fill of it unseen).
func TestS29NoAnswerPlaceLookedUp(t *testing.T) {
	r := bareReconciler(10)
	r.unsure = map[orderKey]struct{}{}
	req := &schema.OrderRequest{Symbol: "BTC-USDT", ClientOrderID: schema.MustID("bot1"), Side: schema.SideBuy, Type: schema.OrderTypeMarket, Qty: dec("1")}
	r.outcome(req, fmt.Errorf("session: no answer to request 7: %w within 30s", ErrNoAnswer))
	require.Contains(t, r.unsure, orderKey{symbol: "BTC-USDT", id: req.ClientOrderID})
}
