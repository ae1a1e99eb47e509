package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s37rvnormCbOrder is one Coinbase user-channel order entry of order
// a1b2c3d4 (coinbaseUser's), cumulative quantity cum of 1.
func s37rvnormCbOrder(status, cum, leaves, value string) string {
	return `{"order_id":"a1b2c3d4","client_order_id":"c-1","cumulative_quantity":"` + cum + `","leaves_quantity":"` + leaves +
		`","avg_price":"50000","filled_value":"` + value + `","total_fees":"0","status":"` + status +
		`","product_id":"BTC-USD","creation_time":"2026-04-07T14:29:55.123456Z","order_side":"SELL","order_type":"LIMIT",` +
		`"limit_price":"50000","post_only":"false","cancel_reason":"","reject_reason":"","product_type":"SPOT","time_in_force":"GOOD_UNTIL_CANCELLED"}`
}

func s37rvnormExecs(t *testing.T, evs []*schema.CanonicalEvent) []schema.Execution {
	t.Helper()
	var out []schema.Execution
	for _, ev := range evs {
		if ev.Type == schema.EventExecReport {
			out = append(out, s42normExec(t, ev))
		}
	}
	return out
}

// TestS37rvnormMultiReportFrameCommitsEach: a frame of several reports of
// one order (Coinbase's orders of an update, Bybit's order topic's data)
// is read report by report, each one's memory committed before the next
// is read: the second of two Coinbase fills in one frame is its own
// growth (0.2, not 0.6 counted twice), and a report refused among
// accepted ones (a quantity no number) leaves no memory while the others
// do — the next frame's report is as if the refused one had not come.
func TestS37rvnormMultiReportFrameCommitsEach(t *testing.T) {
	f := newConnFeed(t, schema.VenueCoinbase)
	_, err := f.feed(1, string(coinbaseUser("snapshot", "OPEN", "0", "1", "0", "0")))
	require.NoError(t, err)
	frame := `{"channel":"user","client_id":"","timestamp":"2026-04-07T14:30:06.000000Z","events":[{"type":"update","orders":[` +
		s37rvnormCbOrder("OPEN", "0.4", "0.6", "20000.00") + `,` + s37rvnormCbOrder("OPEN", "0.6", "0.4", "30000.00") + `]}]}`
	evs, err := f.feed(1, frame)
	require.NoError(t, err)
	x := s37rvnormExecs(t, evs)
	require.Len(t, x, 2)
	assert.Equal(t, "0.4", x[0].LastFillQty.String())
	assert.Equal(t, "0.2", x[1].LastFillQty.String(), "the second fill of the frame grows from the first")

	// A frame whose middle report is refused: the first and the last are
	// remembered, the refused one not.
	bad := strings.Replace(s37rvnormCbOrder("OPEN", "0.8", "0.2", "40000.00"), `"cumulative_quantity":"0.8"`, `"cumulative_quantity":"x"`, 1)
	frame = `{"channel":"user","client_id":"","timestamp":"2026-04-07T14:30:07.000000Z","events":[{"type":"update","orders":[` +
		s37rvnormCbOrder("OPEN", "0.7", "0.3", "35000.00") + `,` + bad + `]}]}`
	evs, err = f.feed(1, frame)
	require.Error(t, err)
	x = s37rvnormExecs(t, evs)
	require.Len(t, x, 1, "the accepted report delivered")
	assert.Equal(t, "0.1", x[0].LastFillQty.String())
	evs, err = f.feed(1, string(coinbaseUser("update", "OPEN", "0.8", "0.2", "40000.00", "0")))
	require.NoError(t, err)
	x = s37rvnormExecs(t, evs)
	require.Len(t, x, 1)
	assert.Equal(t, "0.1", x[0].LastFillQty.String(), "growth from the accepted 0.7, not from the refused report")
}
