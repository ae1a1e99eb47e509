package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestOnExecReport: execution reports reach the host as pooled
// ExecReports, in order; one the host keeps is named by Close's leak check.
func TestOnExecReport(t *testing.T) {
	v := startVenue(t)
	reports := make(chan *schema.ExecReport, 64)
	s, err := session.Start(context.Background(), session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), OnExecReport: func(r *schema.ExecReport) { reports <- r }})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req, err := s.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Symbol, req.ClientOrderID, req.Side, req.Type = "BTC-USDT", schema.MustID("mkt-1"), schema.SideBuy, schema.OrderTypeMarket
	req.Qty = schema.MustParseDecimal("0.02")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	want := []schema.OrderStatus{schema.StatusNew, schema.StatusPartiallyFilled, schema.StatusFilled}
	var kept *schema.ExecReport
	for i, st := range want {
		r := <-reports
		require.NoError(t, r.Validate())
		assert.Equal(t, schema.VenueBinance, r.Venue)
		assert.Equal(t, "BTC-USDT", r.Symbol)
		assert.Equal(t, "mkt-1", r.ClientOrderID.String())
		assert.Equal(t, st, r.Status)
		assert.Positive(t, r.IngestTS)
		if i == len(want)-1 {
			kept = r // never returned
			continue
		}
		s.Pools().Execs.Put(r)
	}
	require.NotNil(t, kept)
	// Close waits this long for the kept report, then names it.
	closeCtx, cancelClose := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelClose()
	err = s.Close(closeCtx)
	require.Error(t, err, "the kept report is a leak")
	assert.Contains(t, err.Error(), "execs")
	s.Pools().Execs.Put(kept)
}
