package normalize

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// bybitAccountExec is an execution topic frame (Bybit v5 "Execution") of
// one row that executes no order of ours: a funding fee, a dividend, a
// corporate action's settlement. Bybit sends it with orderId "" (the
// funding row JKorf/Bybit.Net#296 logged: "OrderId: , Qty: 0.045, Price:
// 67250.00"): execQty is the position's size, execPrice the mark price,
// execFee the amount paid (negative: received).
func bybitAccountExec(typ string) string {
	return `{"id":"1","topic":"execution","creationTime":1716796800012,"data":[{"category":"linear","symbol":"BTCUSDT","execFee":"0.0302625","execId":"f-` + typ +
		`","execPrice":"67250.00","execQty":"0.045","execType":"` + typ + `","execValue":"3026.25","isMaker":false,"feeRate":"0.00001","markPrice":"67250.00","leavesQty":"0","orderId":"","orderLinkId":"","orderPrice":"0","orderQty":"0","orderType":"UNKNOWN","stopOrderType":"UNKNOWN","side":"Sell","execTime":"1716796800000","seq":7}]}`
}

// Bybit v5 "Enums → execType": Funding ("Funding fee"), Dividend and the
// settlements of a corporate action (ForwardSplitSettle,
// ReverseSplitSettle, and CorporateAction, which they replaced) execute
// no order: they are account events, whose effect on the balance the
// wallet topic carries (EventBalance), as every other venue reports a
// funding fee (Binance USDⓈ-M ACCOUNT_UPDATE "FUNDING_FEE", OKX's
// account channel). Such a row was refused (orderId "" is a missing
// field), counted as an error and announced as a lost execution report —
// a gap marker every funding interval for every position, sending the
// host to reconcile every order. Now it is skipped on purpose and counted
// in Stats.Ignored: no report, no marker, no error.
func TestS36normBybitAccountExecIsNoReport(t *testing.T) {
	for _, typ := range []string{"Funding", "Dividend", "ForwardSplitSettle", "ReverseSplitSettle", "CorporateAction"} {
		t.Run(typ, func(t *testing.T) {
			c := newConnFeed(t, by)
			evs, err := c.feed(1, bybitAccountExec(typ))
			require.NoError(t, err)
			assert.Empty(t, evs, "no report, no lost-report marker")
			st := c.p.(*Parser).Stats()
			assert.Zero(t, st.Errors)
			assert.Equal(t, uint64(1), st.Ignored)
		})
	}
}

// The same row with an orderId (a venue that names the position's order)
// is no execution report either: it fills nothing and ends nothing.
func TestS36normBybitFundingWithOrderIDIsNoReport(t *testing.T) {
	c := newConnFeed(t, by)
	evs, err := c.feed(1, bybitExec("Funding", "F-1", "2", "0"))
	require.NoError(t, err)
	assert.Empty(t, evs)
	assert.Equal(t, uint64(1), c.p.(*Parser).Stats().Ignored)
}

// A frame whose rows mix a fill and a funding fee delivers the fill, once,
// and only the fill.
func TestS36normBybitFundingBesideAFill(t *testing.T) {
	const frame = `{"id":"1","topic":"execution","creationTime":1716796800012,"data":[` +
		`{"category":"linear","symbol":"BTCUSDT","execFee":"0.03","execId":"f-1","execPrice":"67250.00","execQty":"0.045","execType":"Funding","leavesQty":"0","orderId":"","orderLinkId":"","orderPrice":"0","orderQty":"0","orderType":"UNKNOWN","side":"Sell","execTime":"1716796800000","seq":7},` +
		`{"category":"linear","symbol":"BTCUSDT","execFee":"0.5","execId":"e-1","execPrice":"67251.00","execQty":"0.01","execType":"Trade","leavesQty":"0.01","orderId":"o-1","orderLinkId":"c-1","orderPrice":"67251.00","orderQty":"0.02","orderType":"Limit","side":"Buy","execTime":"1716796800001","seq":8}]}`
	c := newConnFeed(t, by)
	evs, err := c.feed(1, frame)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	x := evs[0].Exec
	assert.Equal(t, schema.ExecTrade, x.ExecType)
	requireDigits(t, "0.01", x.LastFillQty)
	st := c.p.(*Parser).Stats()
	assert.Zero(t, st.Errors)
	assert.Equal(t, uint64(1), st.Ignored)
	assert.Equal(t, uint64(2), st.Messages)
}

// What each documented execType is, in the words of Bybit v5 "Enums →
// execType": the executions of an order (a fill: ExecTrade with its
// quantity), those of no order (skipped, Ignored), and UNKNOWN ("May be
// returned by a classic account"), an execution of the order named that
// says not what it executed: ExecUnknown, no fill claimed.
func TestS36normBybitExecTypesByTheDoc(t *testing.T) {
	const exec = `{"id":"1","topic":"execution","creationTime":1716800399340,"data":[{"category":"linear","symbol":"ICPUSDT","execFee":"0.5","execId":"e-1","execPrice":"12.015","execQty":"1000","execType":"%s","isMaker":false,"leavesQty":"2000","orderId":"o-1","orderLinkId":"","orderPrice":"12.015","orderQty":"3000","orderType":"Limit","side":"Sell","execTime":"1716800399334","seq":1}]}`
	fills := []string{
		"Trade",        // a fill
		"AdlTrade",     // "Auto-Deleveraging": the position reduced by a fill at the bankruptcy price
		"BustTrade",    // "Takeover liquidation": a liquidation order filled
		"Delivery",     // "USDC futures delivery; Position closed by contract delisted"
		"Settle",       // "Inverse futures settlement; Position closed due to delisting"
		"BlockTrade",   // a block trade's fill
		"MovePosition", // a position moved between accounts by a trade at a price
		"FutureSpread", // "Spread leg execution"
	}
	for _, et := range fills {
		p, got := feedFrames(t, NewBybit, nil, []string{fmt.Sprintf(exec, et)}, schema.EventExecReport)
		require.Len(t, got, 1, et)
		assert.Equal(t, schema.ExecTrade, got[0].Exec.ExecType, et)
		requireDigits(t, "1000", got[0].Exec.LastFillQty)
		assert.Zero(t, p.Stats().Errors, et)
	}
	for _, et := range []string{"Funding", "Dividend", "ForwardSplitSettle", "ReverseSplitSettle", "CorporateAction"} {
		p, got := feedFrames(t, NewBybit, nil, []string{fmt.Sprintf(exec, et)})
		assert.Empty(t, got, et)
		assert.Equal(t, uint64(1), p.Stats().Ignored, et)
		assert.Zero(t, p.Stats().Errors, et)
	}
	p, got := feedFrames(t, NewBybit, nil, []string{fmt.Sprintf(exec, "UNKNOWN")}, schema.EventExecReport)
	require.Len(t, got, 1)
	assert.Equal(t, schema.ExecUnknown, got[0].Exec.ExecType)
	assert.True(t, got[0].Exec.LastFillQty.IsZero())
	assert.Equal(t, schema.StatusUnknown, got[0].Exec.Status)
	assert.Zero(t, p.Stats().Errors)
}

// FuzzS36normBybitExecution: the execution topic's rows of no order among
// fills, fuzzed (fuzzS35Reports' rules: no panic, every error a
// *ParseError, every event back in its pool).
func FuzzS36normBybitExecution(f *testing.F) {
	fuzzS35Reports(f, schema.VenueBybit, bybitOrderPush("o-1", "New", "100", "2", "0", "0", "2"),
		bybitAccountExec("Funding"), bybitAccountExec("Dividend"), bybitExec("Funding", "F-1", "2", "0"),
		bybitExec("UNKNOWN", "U-1", "1", "1"), bybitExec("AdlTrade", "A-1", "1", "1"))
}

// An ignored row costs no allocation (the path every funding time takes).
func TestS36normBybitAccountExecAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	events := schema.NewPools(nil).Events
	p := NewBybit(events, &putSink{events: events}, nil)
	frame := []byte(bybitAccountExec("Funding"))
	handle := func() { _ = p.HandleBytes(context.Background(), frame, 1) }
	for range 4 {
		handle()
	}
	assert.Zero(t, testing.AllocsPerRun(100, handle))
	assert.Zero(t, p.Stats().Errors)
	assert.Equal(t, uint64(105), p.Stats().Ignored)
}
