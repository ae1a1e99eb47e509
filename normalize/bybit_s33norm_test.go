package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// bybitFast is a Bybit v5 "Fast Execution" push as the page lists its
// fields (category, symbol, orderId, isMaker, orderLinkId, execId,
// execPrice, execQty, side, execTime, seq).
func bybitFast(topic, category, symbol, linkID string, maker bool) string {
	m := "false"
	if maker {
		m = "true"
	}
	return `{"topic":"` + topic + `","creationTime":1716800399338,"data":[{"category":"` + category + `","symbol":"` + symbol +
		`","orderId":"443d63fa-b4c3-4297-b7b1-23bca88b04dc","isMaker":` + m + `,"orderLinkId":"` + linkID +
		`","execId":"3510f361-0add-5c7b-a2e7-9679810944fc","execPrice":"12.015","execQty":"1000","side":"Sell","execTime":"1716800399334","seq":34771365464}]}`
}

// Every field of a Fast Execution push (Bybit v5 "Fast Execution":
// "All-In-One Topic: execution.fast; Categorised Topic:
// execution.fast.linear, execution.fast.inverse, execution.fast.spot";
// "You can only receive execType=Trade update"), on each of its topics and
// categories: a fill (ExecTrade) of the order, its trade id, price,
// quantity, side, maker flag, time, and the cross sequence seq; no status,
// fee or order quantity (the page names none).
func TestS33BybitFastExecutionFields(t *testing.T) {
	for _, c := range []struct{ topic, category, symbol, canon string }{
		{"execution.fast", "linear", "ICPUSDT", "ICP-USDT"},
		{"execution.fast.linear", "linear", "ICPUSDT", "ICP-USDT"},
		{"execution.fast.inverse", "inverse", "BTCUSD", "BTC-USD"},
		{"execution.fast.spot", "spot", "ICPUSDT", "ICP-USDT"},
	} {
		t.Run(c.topic+"/"+c.category, func(t *testing.T) {
			for _, maker := range []bool{false, true} {
				p, got := feedFrames(t, NewBybit, nil, []string{bybitFast(c.topic, c.category, c.symbol, "test-00001", maker)})
				require.Len(t, got, 1)
				ev := got[0]
				require.Equal(t, schema.EventExecReport, ev.Type)
				assert.Equal(t, c.canon, ev.Symbol)
				assert.Equal(t, uint64(34771365464), ev.SeqProvider, "seq")
				assert.Equal(t, int64(1716800399334)*1e6, ev.ExchangeTS, "execTime")
				x := ev.Exec
				assert.Equal(t, schema.ExecTrade, x.ExecType)
				assert.Equal(t, schema.StatusUnknown, x.Status)
				assert.Equal(t, "443d63fa-b4c3-4297-b7b1-23bca88b04dc", x.VenueOrderID.String())
				assert.Equal(t, "test-00001", x.ClientOrderID.String())
				assert.Equal(t, "3510f361-0add-5c7b-a2e7-9679810944fc", x.TradeID.String())
				assert.Equal(t, schema.SideSell, x.Side)
				assert.Equal(t, maker, x.IsMaker, "isMaker")
				requireDigits(t, "12.015", x.LastFillPrice)
				requireDigits(t, "1000", x.LastFillQty)
				assert.Equal(t, int64(1716800399334)*1e6, x.TransactTime)
				assert.True(t, x.Fee.IsZero() && x.Qty.IsZero() && x.Price.IsZero() && x.CumFillQty.IsZero())
				st := p.Stats()
				assert.Zero(t, st.Errors)
				assert.Zero(t, st.Unknown)
			}
		})
	}
}

// A bot that subscribes to both "execution.fast" (for its latency) and
// "execution" (for the fee and the order's status) gets each fill twice,
// fast first. The second is no new fill (a host summing fills would count
// it twice) and no amendment either: the fast push names no order price
// or quantity, so the full report's orderPrice/orderQty are not a change
// of the order. It is delivered without its fill, as the order's status,
// with the fill's fee (never delivered before).
func TestS33BybitFastThenFullExecution(t *testing.T) {
	fast := bybitFast("execution.fast", "linear", "ICPUSDT", "test-00001", false)
	full := `{"id":"1","topic":"execution","creationTime":1716800399340,"data":[{"category":"linear","symbol":"ICPUSDT","execFee":"0.5","execId":"3510f361-0add-5c7b-a2e7-9679810944fc","execPrice":"12.015","execQty":"1000","execType":"Trade","execValue":"12015","isMaker":false,"feeRate":"0.0006","leavesQty":"2000","orderId":"443d63fa-b4c3-4297-b7b1-23bca88b04dc","orderLinkId":"test-00001","orderPrice":"12.015","orderQty":"3000","orderType":"Limit","stopOrderType":"UNKNOWN","side":"Sell","execTime":"1716800399334","isLeverage":"0","seq":34771365464}]}`
	for _, c := range []struct {
		name, full string
		status     schema.OrderStatus
	}{
		{"partial", full, schema.StatusPartiallyFilled},
		{"last", strings.Replace(full, `"leavesQty":"2000"`, `"leavesQty":"0"`, 1), schema.StatusFilled},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, got := feedFrames(t, NewBybit, nil, []string{fast, c.full}, schema.EventExecReport)
			require.Len(t, got, 2)
			assert.Equal(t, schema.ExecTrade, got[0].Exec.ExecType)
			requireDigits(t, "1000", got[0].Exec.LastFillQty)
			x := got[1].Exec
			assert.NotEqual(t, schema.ExecAmendment, x.ExecType, "the full report is no amendment")
			assert.NotEqual(t, schema.ExecTrade, x.ExecType, "nor a second fill")
			assert.True(t, x.LastFillQty.IsZero(), "its fill was reported by the fast push")
			requireDigits(t, "0.5", x.Fee, "the fee, which the fast push lacks")
			assert.Equal(t, c.status, x.Status)
		})
	}
}

// The other order (the topics are pushed apart, so the full report may
// come first): the fast push is then a repeat of the fill, dropped and
// counted, never an amendment (it names no order price or quantity).
func TestS33BybitFullThenFastExecution(t *testing.T) {
	fast := bybitFast("execution.fast", "linear", "ICPUSDT", "test-00001", false)
	full := `{"id":"1","topic":"execution","creationTime":1716800399340,"data":[{"category":"linear","symbol":"ICPUSDT","execFee":"0.5","execId":"3510f361-0add-5c7b-a2e7-9679810944fc","execPrice":"12.015","execQty":"1000","execType":"Trade","isMaker":false,"leavesQty":"2000","orderId":"443d63fa-b4c3-4297-b7b1-23bca88b04dc","orderLinkId":"test-00001","orderPrice":"12.015","orderQty":"3000","orderType":"Limit","side":"Sell","execTime":"1716800399334","seq":34771365464}]}`
	p, got := feedFrames(t, NewBybit, nil, []string{full, fast}, schema.EventExecReport)
	require.Len(t, got, 1, "the fast push repeats the fill")
	assert.Equal(t, schema.ExecTrade, got[0].Exec.ExecType)
	assert.Equal(t, uint64(1), p.Stats().Repeats)
}
