package schema_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

func TestID(t *testing.T) {
	var id schema.ID
	assert.True(t, id.IsZero())
	require.NoError(t, id.Set("abc-123"))
	assert.Equal(t, "abc-123", id.String())
	assert.True(t, id.Equal("abc-123"))
	assert.Equal(t, 7, id.Len())
	require.NoError(t, id.SetBytes([]byte("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")))
	assert.Equal(t, "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", string(id.Bytes()))
	id.SetUint(0)
	assert.Equal(t, "0", id.String())
	id.SetUint(18446744073709551615)
	assert.Equal(t, "18446744073709551615", id.String())
	long := strings.Repeat("x", 48)
	assert.ErrorIs(t, id.Set(long), schema.ErrIDTooLong)
	assert.True(t, id.IsZero(), "a failed Set leaves the ID empty, never truncated")
	assert.ErrorIs(t, id.SetBytes([]byte(long)), schema.ErrIDTooLong)
	require.NoError(t, id.UnmarshalText([]byte("ord-1")))
	txt, _ := id.MarshalText()
	assert.Equal(t, "ord-1", string(txt))
	assert.Equal(t, "ord-1", schema.MustID("ord-1").String())
	assert.Panics(t, func() { schema.MustID(long) })
	buf := []byte("1234567890")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = id.SetBytes(buf) }))
}

func TestEventTypeClasses(t *testing.T) {
	t.Parallel()
	coalescable := map[schema.EventType]bool{schema.EventBBO: true, schema.EventTicker: true, schema.EventKlineLive: true, schema.EventMarkPrice: true, schema.EventFundingRate: true}
	critical := map[schema.EventType]bool{schema.EventExecReport: true, schema.EventOrderAck: true, schema.EventGap: true, schema.EventConnState: true, schema.EventControl: true,
		schema.EventBalance: true, schema.EventPosition: true}
	for et := schema.EventType(0); int(et) < schema.NumEventTypes; et++ {
		assert.Equal(t, coalescable[et], et.Coalescable(), et.String())
		assert.Equal(t, critical[et], et.Critical(), et.String())
		assert.False(t, et.Coalescable() && et.Critical(), et.String())
		assert.NotContains(t, et.String(), "EventType(")
	}
	assert.Equal(t, "EventType(200)", schema.EventType(200).String())
}

func TestEnumStrings(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "buy", schema.SideBuy.String())
	assert.Equal(t, "sell", schema.SideSell.String())
	assert.Equal(t, "unknown", schema.Side(9).String())
	assert.Equal(t, "limit_maker", schema.OrderTypeLimitMaker.String())
	assert.Equal(t, "unknown", schema.OrderType(99).String())
	for tif, s := range map[schema.TimeInForce]string{schema.TIFGTC: "GTC", schema.TIFIOC: "IOC", schema.TIFFOK: "FOK", schema.TIFGTX: "GTX", 0: "unknown"} {
		assert.Equal(t, s, tif.String())
	}
	assert.Equal(t, "partially_filled", schema.StatusPartiallyFilled.String())
	assert.Equal(t, "unknown", schema.OrderStatus(99).String())
	assert.True(t, schema.StatusFilled.Final())
	assert.False(t, schema.StatusPartiallyFilled.Final())
	assert.Equal(t, "trade_prevention", schema.ExecTradePrevention.String())
	assert.Equal(t, "unknown", schema.ExecType(99).String())
	assert.Equal(t, "rotating", schema.ConnRotating.String())
	assert.Equal(t, "unknown", schema.ConnState(99).String())
	assert.Equal(t, "gap", schema.ControlGap.String())
	assert.Equal(t, "unknown", schema.ControlKind(99).String())
	assert.Equal(t, "cancel", schema.ActionCancel.String())
	assert.Equal(t, "place", schema.ActionPlace.String())
}

func TestValidate(t *testing.T) {
	t.Parallel()
	d := schema.MustParseDecimal
	t.Run("frame", func(t *testing.T) {
		f := &schema.WsFrame{}
		assertInvalid(t, f.Validate(), "Provider")
		f.Provider = schema.VenueBinance
		assertInvalid(t, f.Validate(), "Data")
		f.Data = []byte("{}")
		assertInvalid(t, f.Validate(), "ReceivedAt")
		f.ReceivedAt = 1
		assert.NoError(t, f.Validate())
	})
	t.Run("raw", func(t *testing.T) {
		r := &schema.ProviderRaw{}
		assertInvalid(t, r.Validate(), "Provider")
		r.Provider = schema.VenueOKX
		assertInvalid(t, r.Validate(), "Payload")
		r.Payload = []byte("{}")
		assert.NoError(t, r.Validate())
	})
	t.Run("event", func(t *testing.T) {
		e := &schema.CanonicalEvent{}
		assertInvalid(t, e.Validate(), "Venue")
		e.Venue = schema.VenueKraken
		assertInvalid(t, e.Validate(), "Type")
		e.Type = schema.EventTrade
		assertInvalid(t, e.Validate(), "Symbol")
		e.Symbol = "BTC-USD"
		assert.NoError(t, e.Validate())
		e.Symbol, e.Type = "", schema.EventConnState
		assert.NoError(t, e.Validate(), "control events need no symbol")
	})
	t.Run("order", func(t *testing.T) {
		o := &schema.OrderRequest{}
		assertInvalid(t, o.Validate(), "Symbol")
		o.Symbol = "BTC-USDT"
		assertInvalid(t, o.Validate(), "Side")
		o.Side = schema.SideBuy
		assertInvalid(t, o.Validate(), "Type")
		o.Type = schema.OrderTypeLimit
		assertInvalid(t, o.Validate(), "Qty")
		o.Qty = d("-1")
		assertInvalid(t, o.Validate(), "Qty")
		o.Qty = d("0.5")
		assertInvalid(t, o.Validate(), "Price")
		o.Price = d("100.0")
		assert.NoError(t, o.Validate())
		o.Type = schema.OrderTypeMarket
		assertInvalid(t, o.Validate(), "Price")
		o.Price, o.Qty, o.QuoteQty = schema.Decimal{}, schema.Decimal{}, d("50")
		assert.NoError(t, o.Validate(), "a market order may name a quote amount")
		o.Type, o.Price, o.Qty, o.QuoteQty = schema.OrderTypeStopLossLimit, d("90"), d("1"), schema.Decimal{}
		assertInvalid(t, o.Validate(), "StopPrice")
		o.StopPrice = d("91")
		assert.NoError(t, o.Validate())
		o.Action = 7
		assertInvalid(t, o.Validate(), "Action")
		c := &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USDT"}
		assertInvalid(t, c.Validate(), "OrigClientOrderID")
		c.OrigClientOrderID = schema.MustID("abc")
		assert.NoError(t, c.Validate())
	})
	t.Run("exec", func(t *testing.T) {
		r := &schema.ExecReport{}
		assertInvalid(t, r.Validate(), "Venue")
		r.Venue = schema.VenueBinance
		assertInvalid(t, r.Validate(), "Symbol")
		r.Symbol = "BTC-USDT"
		assertInvalid(t, r.Validate(), "ClientOrderID")
		r.ClientOrderID = schema.MustID("c1")
		assertInvalid(t, r.Validate(), "Status")
		r.Status = schema.StatusNew
		assert.NoError(t, r.Validate())
	})
	t.Run("merged", func(t *testing.T) {
		m := &schema.MergedEvent{}
		assertInvalid(t, m.Validate(), "Symbol")
		m.Symbol = "BTC-USDT"
		assertInvalid(t, m.Validate(), "Type")
		m.Type = schema.EventBBO
		m.WindowOpen, m.WindowClose = 10, 5
		assertInvalid(t, m.Validate(), "WindowClose")
		m.WindowClose = 20
		// A window of best bid/offers [10, 20): its fragments lie inside.
		m.Fragments = []schema.Fragment{{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventBBO, ExchangeTS: 10}}
		assert.NoError(t, m.Validate())
		m.Fragments = append(m.Fragments, schema.Fragment{Venue: schema.VenueOKX, Symbol: "ETH-USDT", Type: schema.EventBBO, ExchangeTS: 19})
		assertInvalid(t, m.Validate(), "Fragments")
		m.Fragments[1].Symbol = "BTC-USDT"
		m.Fragments[1].Type = schema.EventTrade
		assertInvalid(t, m.Validate(), "Fragments")
		m.Fragments[1].Type = schema.EventBBO
		m.Fragments[1].Venue = ""
		assertInvalid(t, m.Validate(), "Fragments")
	})
}

func assertInvalid(t *testing.T, err error, field string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, schema.ErrInvalid)
	var ve *schema.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, field, ve.Field, err.Error())
}

func TestGapSourceNames(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "venue", schema.GapVenue.String())
	assert.Equal(t, "subscriber_queue", schema.GapSubscriberQueue.String())
	assert.Equal(t, "relay", schema.GapRelay.String())
	assert.Equal(t, "unknown", schema.GapSource(9).String())
	assert.Equal(t, schema.GapVenue, schema.Control{}.GapSource, "a parser's marker is the venue's by default")
}
