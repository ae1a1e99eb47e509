package normalize

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Bybit v5 "Fast Execution": orderLinkId "maker trade is always \"\"".
// A host that matches fills to its orders by client id found no order for
// a maker fill. The order topic already named the order's orderLinkId:
// the fast fill carries it, whichever of the order's reports came first.
const bybitFastOrderID = "443d63fa-b4c3-4297-b7b1-23bca88b04dc"

func TestS34BybitFastMakerFillClientID(t *testing.T) {
	fast := bybitFast("execution.fast", "spot", "BTCUSDT", "", true)
	for _, c := range []struct {
		name   string
		frames []string
	}{
		{"order working, then fill", []string{bybitOrderPush(bybitFastOrderID, "New", "12.015", "3000", "0", "0", "3000"), fast}},
		{"order partially filled, then fill", []string{bybitOrderPush(bybitFastOrderID, "PartiallyFilled", "12.015", "3000", "0", "1000", "2000"), fast}},
		{"order filled, then its last fill", []string{bybitOrderPush(bybitFastOrderID, "Filled", "12.015", "1000", "0", "1000", "0"), fast}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, got := feedFrames(t, NewBybit, nil, c.frames, schema.EventExecReport)
			require.Len(t, got, 2)
			x := got[1].Exec
			require.Equal(t, schema.ExecTrade, x.ExecType)
			assert.True(t, x.IsMaker)
			assert.Equal(t, bybitFastOrderID, x.VenueOrderID.String())
			assert.Equal(t, "x1", x.ClientOrderID.String(), "the order topic's orderLinkId")
			assert.Zero(t, p.Stats().Errors)
		})
	}
}

// The other order of arrival: the fast fill before any order-topic report
// of its order (on a new connection, or without the order topic). The
// parser cannot know the client id then: the fill has an empty
// ClientOrderID and names the order by VenueOrderID; the order topic's
// report that follows carries both ids. A fast push's own orderLinkId (a
// taker's) is never replaced.
func TestS34BybitFastFillBeforeOrder(t *testing.T) {
	fast := bybitFast("execution.fast", "spot", "BTCUSDT", "", true)
	order := bybitOrderPush(bybitFastOrderID, "PartiallyFilled", "12.015", "3000", "0", "1000", "2000")
	_, got := feedFrames(t, NewBybit, nil, []string{fast, order}, schema.EventExecReport)
	require.Len(t, got, 2)
	fill, rep := got[0].Exec, got[1].Exec
	require.Equal(t, schema.ExecTrade, fill.ExecType)
	assert.True(t, fill.ClientOrderID.IsZero())
	assert.Equal(t, bybitFastOrderID, fill.VenueOrderID.String())
	assert.Equal(t, bybitFastOrderID, rep.VenueOrderID.String())
	assert.Equal(t, "x1", rep.ClientOrderID.String())

	taker := bybitFast("execution.fast", "spot", "BTCUSDT", "test-00001", false)
	_, got = feedFrames(t, NewBybit, nil, []string{order, taker}, schema.EventExecReport)
	require.Len(t, got, 2)
	assert.Equal(t, "test-00001", got[1].Exec.ClientOrderID.String())
}

// The ended orders' client ids are bounded: past maxBybitEnded later
// ended orders, the first is forgotten (its late fast fill then has an
// empty ClientOrderID, as before any report), so a long session's memory
// does not grow.
func TestS34BybitEndedOrdersBounded(t *testing.T) {
	frames := []string{bybitOrderPush(bybitFastOrderID, "Filled", "12.015", "1000", "0", "1000", "0")}
	for i := range maxBybitEnded {
		frames = append(frames, bybitOrderPush(fmt.Sprintf("other-%d", i), "Cancelled", "1", "1", "0", "0", "0"))
	}
	frames = append(frames, bybitFast("execution.fast", "spot", "BTCUSDT", "", true))
	_, got := feedFrames(t, NewBybit, nil, frames, schema.EventExecReport)
	require.Len(t, got, maxBybitEnded+2)
	x := got[len(got)-1].Exec
	require.Equal(t, schema.ExecTrade, x.ExecType)
	assert.True(t, x.ClientOrderID.IsZero())
}

// Filling the client id costs no allocation per frame.
func TestS34BybitFastClientIDAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	events := schema.NewPools(nil).Events
	p := NewBybit(events, &putSink{events: events}, nil)
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, []byte(bybitOrderPush(bybitFastOrderID, "New", "12.015", "3000", "0", "0", "3000")), 1))
	require.NoError(t, p.HandleBytes(ctx, []byte(bybitOrderPush("ended", "Filled", "1", "1", "0", "1", "0")), 1))
	frames := [][]byte{
		[]byte(bybitFast("execution.fast", "spot", "BTCUSDT", "", true)), // the working order's
		[]byte(`{"topic":"execution.fast","creationTime":1716800399338,"data":[{"category":"spot","symbol":"BTCUSDT","orderId":"ended","isMaker":true,"orderLinkId":"","execId":"e2","execPrice":"1","execQty":"1","side":"Buy","execTime":"1716800399334","seq":1}]}`),
	}
	i := 0
	handle := func() {
		_ = p.HandleBytes(ctx, frames[i%2], 1)
		i++
	}
	for range 4 {
		handle()
	}
	assert.Zero(t, testing.AllocsPerRun(100, handle))
}

// Every word of Bybit v5 "Enums → orderStatus" and "→ execType" maps to a
// canonical one: "Active" ("order has been triggered and the new active
// order has been successfully placed. Is the final state of a successful
// conditional order") was a *ParseError wrapping ErrUnknownStatus, its
// report dropped; execType "UNKNOWN" ("May be returned by a classic
// account") one wrapping ErrUnknownExecType.
func TestS34BybitEveryDocumentedWord(t *testing.T) {
	for _, status := range []string{"Created", "New", "Rejected", "PartiallyFilled", "PartiallyFilledCanceled", "Filled",
		"Cancelled", "Untriggered", "Triggered", "Deactivated", "Active"} {
		p, got := feedFrames(t, NewBybit, nil, []string{bybitOrderPush("o-1", status, "1", "2", "0", "0", "2")}, schema.EventExecReport)
		require.Len(t, got, 1, status)
		assert.NotEqual(t, schema.StatusUnknown, got[0].Exec.Status, status)
		assert.Zero(t, p.Stats().Errors, status)
	}
	_, got := feedFrames(t, NewBybit, nil, []string{bybitOrderPush("o-1", "Active", "1", "2", "0", "0", "2")}, schema.EventExecReport)
	require.Len(t, got, 1)
	assert.Equal(t, schema.StatusNew, got[0].Exec.Status, "the conditional order's active order works")
	assert.Equal(t, schema.ExecTriggered, got[0].Exec.ExecType)

	const exec = `{"id":"1","topic":"execution","creationTime":1716800399340,"data":[{"category":"linear","symbol":"ICPUSDT","execFee":"0.5","execId":"e-1","execPrice":"12.015","execQty":"1000","execType":"%s","isMaker":false,"leavesQty":"2000","orderId":"o-1","orderLinkId":"","orderPrice":"12.015","orderQty":"3000","orderType":"Limit","side":"Sell","execTime":"1716800399334","seq":1}]}`
	for _, et := range []string{"Trade", "AdlTrade", "Funding", "BustTrade", "Delivery", "Settle", "BlockTrade", "MovePosition",
		"FutureSpread", "CorporateAction", "ForwardSplitSettle", "ReverseSplitSettle", "Dividend", "UNKNOWN"} {
		p, got := feedFrames(t, NewBybit, nil, []string{fmt.Sprintf(exec, et)}, schema.EventExecReport)
		if bybitAccountExecs[et] { // no order executed (s36norm)
			assert.Empty(t, got, et)
			assert.Equal(t, uint64(1), p.Stats().Ignored, et)
		} else {
			require.Len(t, got, 1, et)
		}
		assert.Zero(t, p.Stats().Errors, et)
	}
	_, got = feedFrames(t, NewBybit, nil, []string{fmt.Sprintf(exec, "UNKNOWN")}, schema.EventExecReport)
	require.Len(t, got, 1)
	x := got[0].Exec
	assert.Equal(t, schema.ExecUnknown, x.ExecType, "no word for what it executed: no fill claimed")
	assert.True(t, x.LastFillQty.IsZero())
	requireDigits(t, "0.5", x.Fee)
}
