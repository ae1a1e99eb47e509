package meltica_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// s34ctBinanceSpotExec is a Binance spot executionReport ("User Data
// Streams → Order Update") of order 4293153, with the execution type x,
// the order status X, the last fill l at L and the cumulative z; a
// TRADE's trade id t follows from l (distinct fills, distinct ids).
func s34ctBinanceSpotExec(x, status, l, lastPx, z string, orderList int64, extra string) string {
	tid := int64(-1)
	if x == "TRADE" {
		tid = 73839000 + int64(len(l)*100+int(l[2]))
	}
	return fmt.Sprintf(`{"e":"executionReport","E":1709393640518,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":%d,"C":"","x":%q,"X":%q,"r":"NONE","i":4293153,"l":%q,"z":%q,"L":%q,"n":"0","N":null,"T":1709393640518,"t":%d,"I":8641984,"w":true,"m":false,"M":false,"O":1709393640500,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1709393640500,"V":"NONE"%s}`,
		orderList, x, status, l, z, lastPx, tid, extra)
}

// Binance spot "User Data Streams → Order Update": the execution types
// NEW, CANCELED, REPLACED (an order amended keeping its priority),
// REJECTED, TRADE, EXPIRED and TRADE_PREVENTION (self-trade prevention,
// with its prevented-match members u, v, U, A, B) and the order statuses
// NEW, PENDING_NEW (an order list's pending leg), PARTIALLY_FILLED,
// FILLED, CANCELED, REJECTED, EXPIRED and EXPIRED_IN_MATCH. Each report
// must reach the host exactly once with the canonical words a trader
// expects (normalize doc "Private channels": an unknown word is an
// error, never a guess) — none of them may be Unknown.
func TestS34ctBinanceSpotExecutionTypes(t *testing.T) {
	x := newS34ctExecs(t, func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewBinance(p.Events, s, nil)
	})
	stp := `,"u":1,"v":3,"U":4293200,"A":"0.50000000","B":"0.50000000"`
	for _, c := range []struct {
		x, status, l, px, z, extra string
		exec                       schema.ExecType
		st                         schema.OrderStatus
	}{
		{"NEW", "NEW", "0.00000000", "0.00000000", "0.00000000", "", schema.ExecNew, schema.StatusNew},
		{"TRADE", "PARTIALLY_FILLED", "0.40000000", "0.10264410", "0.40000000", "", schema.ExecTrade, schema.StatusPartiallyFilled},
		{"REPLACED", "PARTIALLY_FILLED", "0.00000000", "0.00000000", "0.40000000", "", schema.ExecReplaced, schema.StatusPartiallyFilled},
		{"TRADE", "FILLED", "0.60000000", "0.10264410", "1.00000000", "", schema.ExecTrade, schema.StatusFilled},
		{"CANCELED", "CANCELED", "0.00000000", "0.00000000", "0.00000000", "", schema.ExecCanceled, schema.StatusCanceled},
		{"REJECTED", "REJECTED", "0.00000000", "0.00000000", "0.00000000", "", schema.ExecRejected, schema.StatusRejected},
		{"EXPIRED", "EXPIRED", "0.00000000", "0.00000000", "0.00000000", "", schema.ExecExpired, schema.StatusExpired},
		{"TRADE_PREVENTION", "EXPIRED_IN_MATCH", "0.00000000", "0.00000000", "0.00000000", stp, schema.ExecTradePrevention, schema.StatusExpiredInMatch},
		{"NEW", "PENDING_NEW", "0.00000000", "0.00000000", "0.00000000", "", schema.ExecNew, schema.StatusPendingNew},
	} {
		e := x.one(s34ctBinanceSpotExec(c.x, c.status, c.l, c.px, c.z, -1, c.extra))
		assert.Equal(t, c.exec, e.ExecType, "x=%s X=%s", c.x, c.status)
		assert.Equal(t, c.st, e.Status, "x=%s X=%s", c.x, c.status)
		if c.x == "TRADE" {
			assert.Equal(t, c.l, e.LastFillQty.String(), "the fill of x=%s X=%s", c.x, c.status)
		} else {
			assert.Zero(t, e.LastFillQty.Sign(), "no fill in x=%s X=%s", c.x, c.status)
		}
	}
}

// Binance spot order lists (OCO): "each of its orders has its
// executionReport" (g the orderListId), and the listStatus event is
// ignored (normalize doc: counted in Stats.Ignored, never an error). The
// two legs placed, the limit leg filled and the stop leg expired by the
// list: four reports in the venue's order, the listStatus events none.
func TestS34ctBinanceSpotOCOLegs(t *testing.T) {
	x := newS34ctExecs(t, func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewBinance(p.Events, s, nil)
	})
	leg := func(id int, typ, xs, st, l, z string) string {
		m := s34ctBinanceSpotExec(xs, st, l, map[bool]string{true: "0.10264410", false: "0.00000000"}[xs == "TRADE"], z, 29, "")
		m = strings.Replace(m, `"o":"LIMIT"`, `"o":`+fmt.Sprintf("%q", typ), 1)
		return strings.Replace(m, `"i":4293153`, fmt.Sprintf(`"i":%d`, id), 1)
	}
	list := func(status, orders string) string {
		return fmt.Sprintf(`{"e":"listStatus","E":1564035303637,"s":"ETHBTC","g":29,"c":"OCO","l":%q,"L":"EXECUTING","r":"NONE","C":"F4QN4G8DlFATFlIUQ0cjdD","T":1564035303625,"O":[%s]}`, status, orders)
	}
	orders := `{"s":"ETHBTC","i":17,"c":"AJYsMjErWJesZvqlJCTUgL"},{"s":"ETHBTC","i":18,"c":"bfYPSQdLoqAJeNrOr9adzq"}`
	msgs := []string{
		leg(17, "STOP_LOSS_LIMIT", "NEW", "NEW", "0.00000000", "0.00000000"),
		leg(18, "LIMIT_MAKER", "NEW", "NEW", "0.00000000", "0.00000000"),
		list("EXEC_STARTED", orders),
		leg(18, "LIMIT_MAKER", "TRADE", "FILLED", "1.00000000", "1.00000000"),
		leg(17, "STOP_LOSS_LIMIT", "EXPIRED", "EXPIRED", "0.00000000", "0.00000000"),
		list("ALL_DONE", orders),
	}
	var got []string
	for _, m := range msgs {
		require.NoError(t, x.feed(m), "%s", m)
		for _, ev := range x.take() {
			require.Equal(t, schema.EventExecReport, ev.Type, "only reports reach the host")
			got = append(got, fmt.Sprintf("%s %s/%s", ev.Exec.VenueOrderID.String(), ev.Exec.ExecType, ev.Exec.Status))
		}
	}
	assert.Equal(t, []string{"17 new/new", "18 new/new", "18 trade/filled", "17 expired/expired"}, got)
	assert.Equal(t, uint64(2), x.parser.Stats().Ignored, "the two listStatus events ignored, counted")
}

// s34ctFuturesExec is a USDⓈ-M ORDER_TRADE_UPDATE ("User Data Streams →
// Event: Order Update") of order 8886996 with client id c, execution
// type x and status X.
func s34ctFuturesExec(c, xs, st, l, lastPx, z string) string {
	return fmt.Sprintf(`{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":%q,"S":"SELL","o":"LIMIT","f":"GTC","q":"0.010","p":"9910","ap":"0","sp":"0","x":%q,"X":%q,"i":8886996,"l":%q,"z":%q,"L":%q,"N":"USDT","n":"0","T":1568879465650,"t":0,"b":"0","a":"9.91","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}}`,
		c, xs, st, l, z, lastPx)
}

// Binance USDⓈ-M "Event: Order Update": execution types NEW, CANCELED,
// CALCULATED (a liquidation's execution), EXPIRED, TRADE and AMENDMENT
// (price modified), statuses NEW, PARTIALLY_FILLED, FILLED, CANCELED,
// EXPIRED and EXPIRED_IN_MATCH; a liquidation's client id starts
// "autoclose-", an ADL close's is "adl_autoclose". Each report once, with
// its canonical words; a liquidation or ADL close is a fill (normalize
// doc: "CALCULATED, a liquidation's execution, as ExecTrade").
func TestS34ctBinanceFuturesExecutionTypes(t *testing.T) {
	x := newS34ctExecs(t, func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewBinance(p.Events, s, nil)
	})
	for _, c := range []struct {
		c, x, st, l, px, z string
		exec               schema.ExecType
		status             schema.OrderStatus
	}{
		{"web_1", "NEW", "NEW", "0", "0", "0", schema.ExecNew, schema.StatusNew},
		{"web_1", "AMENDMENT", "NEW", "0", "0", "0", schema.ExecAmendment, schema.StatusNew},
		{"web_1", "TRADE", "PARTIALLY_FILLED", "0.004", "9910", "0.004", schema.ExecTrade, schema.StatusPartiallyFilled},
		{"web_1", "CANCELED", "CANCELED", "0", "0", "0.004", schema.ExecCanceled, schema.StatusCanceled},
		{"web_2", "EXPIRED", "EXPIRED", "0", "0", "0", schema.ExecExpired, schema.StatusExpired},
		{"web_3", "EXPIRED", "EXPIRED_IN_MATCH", "0", "0", "0", schema.ExecExpired, schema.StatusExpiredInMatch},
		{"autoclose-1568879465650", "CALCULATED", "FILLED", "0.010", "9910.12", "0.010", schema.ExecTrade, schema.StatusFilled},
		{"adl_autoclose", "TRADE", "FILLED", "0.010", "9920.5", "0.010", schema.ExecTrade, schema.StatusFilled},
	} {
		e := x.one(s34ctFuturesExec(c.c, c.x, c.st, c.l, c.px, c.z))
		assert.Equal(t, c.exec, e.ExecType, "c=%s x=%s X=%s", c.c, c.x, c.st)
		assert.Equal(t, c.status, e.Status, "c=%s x=%s X=%s", c.c, c.x, c.st)
		if c.exec == schema.ExecTrade {
			assert.Equal(t, c.l, e.LastFillQty.String(), "the fill of c=%s", c.c)
			assert.Equal(t, c.px, e.LastFillPrice.String(), "the fill price of c=%s", c.c)
		}
	}
}
