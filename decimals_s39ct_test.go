package meltica_test

// Outside contract tests, round 14 (s39ct): exact decimals end to end,
// written from DESIGN.md contract 7, the README ("Prices and quantities
// are schema.Decimal: the venue's digits, trailing zeros included, no float
// on the path") and schema.Decimal's docstrings, without reading the code.

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"sync"
	"testing"
	"time"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// s39ctDigits are numbers at the edges of what a Decimal holds
// (schema.Decimal: "an integer mantissa in ±(2^63-1) and a count of digits
// after the point (0..MaxScale)", MaxScale 18), each with the text the
// host must read back: the venue's own digits ("keeps the digits the venue
// sent, trailing zeros included"), except where the docstring says the
// trailing zeros go ("past MaxScale, or past the 63-bit mantissa, as in
// Coinbase's "312345678901.00000000" SHIB volume ... are dropped, all of
// them: the value stays exact").
var s39ctDigits = []struct{ sent, want string }{
	{"0.000000000000000001", "0.000000000000000001"}, // the smallest step, scale 18
	{"9223372036854775807", "9223372036854775807"},   // the largest mantissa, scale 0
	{"9.223372036854775807", "9.223372036854775807"}, // the largest mantissa, scale 18
	{"0.100000000000000000", "0.100000000000000000"}, // trailing zeros to scale 18
	{"92233720368.54775807", "92233720368.54775807"}, // the largest mantissa, scale 8
	{"123456789012345678.9", "123456789012345678.9"},
	{"68500.00000000", "68500.00000000"},
	{"0.00001305", "0.00001305"},
	{"1.0000000000000000000000", "1"},                 // zeros past MaxScale: all of them dropped
	{"312345678901.00000000", "312345678901"},         // the docstring's SHIB volume
	{"922337203685477580.70", "922337203685477580.7"}, // one zero past the mantissa
}

// s39ctTradeRecord is what the host read of one trade.
type s39ctTradeRecord struct {
	price, qty schema.Decimal
	jsonPrice  string
}

// s39ctTrades subscribes to s's trades and keeps each by its venue id.
type s39ctTrades struct {
	mu   sync.Mutex
	byID map[int]s39ctTradeRecord
}

func subscribeS39ctTrades(t *testing.T, s *session.Session) *s39ctTrades {
	r := &s39ctTrades{byID: map[int]s39ctTradeRecord{}}
	_, err := s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		if ev.Type != schema.EventTrade {
			return
		}
		id, err := strconv.Atoi(ev.Trade.ID.String())
		if err != nil {
			id = -1
		}
		b, err := json.Marshal(ev.Trade.Price)
		if err != nil {
			b = []byte(err.Error())
		}
		r.mu.Lock()
		r.byID[id] = s39ctTradeRecord{price: ev.Trade.Price, qty: ev.Trade.Qty, jsonPrice: string(b)}
		r.mu.Unlock()
	}})
	require.NoError(t, err)
	return r
}

func (r *s39ctTrades) get(id int) (s39ctTradeRecord, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.byID[id]
	return x, ok
}

// s39ctPair is trade id's price and quantity (indexes into s39ctDigits):
// every value is a price once and a quantity once.
func s39ctPair(id int) (price, qty int) {
	n := len(s39ctDigits)
	return (id - 1) % n, id % n
}

// s39ctDecimalMarket is one venue's market stream on loopback, its
// trades carrying s39ctDigits, and the session reading it.
func s39ctDecimalMarket(t *testing.T, venue string) (*s36ctVenueMarket, *session.Session) {
	t.Helper()
	if venue == "okx" || venue == "binance" {
		var m *s36ctVenueMarket
		cfg := session.Config{NoClockSync: true, Client: s30ctFast()}
		if venue == "okx" {
			// OKX v5 "WebSocket → Subscribe" (acked {"event":"subscribe",
			// "arg":…}) and "Trades channel" (px and sz strings).
			m = newS36ctVenueMarket(t, schema.VenueOKX, "/ws/v5/public", func(msg map[string]any) []string {
				if msg["op"] != "subscribe" {
					return nil
				}
				var out []string
				for _, a := range msg["args"].([]any) {
					arg, _ := s28ctArgJSON(a)
					out = append(out, `{"event":"subscribe","arg":`+arg+`,"connId":"a4d3ae55"}`)
				}
				return out
			}, func(id int) string {
				p, q := s39ctPair(id)
				return fmt.Sprintf(`{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"%d","px":%q,"sz":%q,"side":"buy","ts":"%d","count":"1"}]}`, id, s39ctDigits[p].sent, s39ctDigits[q].sent, 1630048897000+id)
			})
			cfg.Venue, cfg.Channels = schema.VenueOKX, []string{"trades"}
		} else {
			// Binance "WebSocket Streams": SUBSCRIBE acked
			// {"result":null,"id":…}; combined streams wrap each payload
			// as {"stream":…,"data":…}; "Trade Streams" p and q strings.
			m = newS36ctVenueMarket(t, schema.VenueBinance, "/stream", func(msg map[string]any) []string {
				if msg["method"] != "SUBSCRIBE" {
					return nil
				}
				return []string{fmt.Sprintf(`{"result":null,"id":%v}`, msg["id"])}
			}, func(id int) string {
				p, q := s39ctPair(id)
				return fmt.Sprintf(`{"stream":"btcusdt@trade","data":{"e":"trade","E":%d,"s":"BTCUSDT","t":%d,"p":%q,"q":%q,"T":%d,"m":true,"M":true}}`, 1630048897000+id, id, s39ctDigits[p].sent, s39ctDigits[q].sent, 1630048897000+id)
			})
			v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}}) // its REST only: the instruments
			t.Cleanup(v.Close)
			cfg.Endpoints.REST, cfg.Channels = v.RESTURL(), []string{"trade"}
		}
		cfg.Endpoints.Stream, cfg.Symbols = m.ws(m.path), []string{"BTC-USDT"}
		s, err := session.Start(context.Background(), cfg)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
		return m, s
	}
	var m *s36ctVenueMarket
	for _, x := range s36ctMarkets(t) {
		if string(x.venue) == venue {
			m = x
		}
	}
	require.NotNil(t, m, venue)
	seq := 0
	m.trade = func(id int) string {
		p, q := s39ctPair(id)
		price, qty := s39ctDigits[p].sent, s39ctDigits[q].sent
		switch m.venue {
		case schema.VenueBybit: // v5 "Public Trade": p and v strings
			return fmt.Sprintf(`{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":%d,"data":[{"T":%d,"s":"BTCUSDT","S":"Buy","v":%q,"p":%q,"L":"PlusTick","i":"%d","BT":false}]}`, 1672304486868+id, 1672304486865+id, qty, price, id)
		case schema.VenueKraken: // v2 "Trade": price and qty JSON numbers
			return fmt.Sprintf(`{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":%s,"qty":%s,"ord_type":"market","trade_id":%d,"timestamp":"2023-09-25T07:49:37.708706Z"}]}`, price, qty, id)
		default: // Coinbase Advanced Trade "Market Trades": price and size strings
			seq++
			return fmt.Sprintf(`{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":%d,"events":[{"type":"update","trades":[{"trade_id":"%d","product_id":"BTC-USD","price":%q,"size":%q,"side":"BUY","time":"2019-08-14T20:42:27.265Z"}]}]}`, seq, id, price, qty)
		}
	}
	return m, m.start(t)
}

// A venue's prices and quantities at the edges of a Decimal reach the
// host unchanged — the same digits from String, the same quoted text from
// JSON (schema.Decimal: "It encodes as its text in JSON (a string)") —
// through the whole path (a loopback venue, wsclient, the venue's parser,
// the dispatcher, a subscriber's clone), on every venue the session
// serves, JSON strings (Binance, OKX, Bybit, Coinbase) and bare JSON
// numbers (Kraken v2) alike (README: "decimals of every form the venues
// send (JSON strings or bare numbers ...)"). The arithmetic a host then
// does on them is exact or refused, never rounded silently (schema.Decimal:
// "Arithmetic is exact or returns an error"): Mul and Add against
// math/big, and MulRound's one rounding (RoundHalfEven at 8 digits) too.
func TestS39ctVenueDigitsReachTheHostExactly(t *testing.T) {
	for _, venue := range []string{"binance", "okx", "bybit", "kraken", "coinbase"} {
		t.Run(venue, func(t *testing.T) {
			m, s := s39ctDecimalMarket(t, venue)
			trades := subscribeS39ctTrades(t, s)
			s31ctConnected(t, s)
			require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond)
			last := m.publish(2 * len(s39ctDigits))
			require.Eventually(t, func() bool { _, ok := trades.get(last); return ok }, s27ctWait, time.Millisecond, "the last trade reached the host")
			for id := 1; id <= last; id++ {
				got, ok := trades.get(id)
				p, q := s39ctPair(id)
				if !assert.True(t, ok, "trade %d (price %s, qty %s) never reached the host", id, s39ctDigits[p].sent, s39ctDigits[q].sent) {
					continue
				}
				assert.Equal(t, s39ctDigits[p].want, got.price.String(), "trade %d: the price's digits", id)
				assert.Equal(t, s39ctDigits[q].want, got.qty.String(), "trade %d: the quantity's digits", id)
				assert.Equal(t, strconv.Quote(s39ctDigits[p].want), got.jsonPrice, "trade %d: the price in JSON", id)
				s39ctExactArithmetic(t, got.price, got.qty)
			}
		})
	}
}

// s39ctRat is d's value, exactly.
func s39ctRat(t *testing.T, d schema.Decimal) *big.Rat {
	r, ok := new(big.Rat).SetString(d.String())
	require.True(t, ok, d.String())
	return r
}

// s39ctFits reports whether the exact value r is a Decimal: at its
// smallest scale, at most MaxScale digits after the point and a mantissa
// in ±(2^63-1).
func s39ctFits(r *big.Rat) bool {
	scale := 0
	x := new(big.Rat).Set(r)
	for !x.IsInt() {
		if scale == schema.MaxScale {
			return false
		}
		x.Mul(x, big.NewRat(10, 1))
		scale++
	}
	return x.Num().IsInt64()
}

// s39ctExactArithmetic holds schema.Decimal's promises on a and b: Mul
// ("returns d × o exactly ... ErrDecimalOverflow or ErrDecimalPrecision
// when the exact product cannot be represented"), Add ("d + o at the
// larger of the two scales, or ErrDecimalOverflow when the exact sum does
// not fit that scale"), and MulRound (one rounding, "exact before").
func s39ctExactArithmetic(t *testing.T, a, b schema.Decimal) {
	t.Helper()
	ra, rb := s39ctRat(t, a), s39ctRat(t, b)
	prod := new(big.Rat).Mul(ra, rb)
	got, err := a.Mul(b)
	if err == nil {
		assert.Zero(t, s39ctRat(t, got).Cmp(prod), "%s × %s = %s, not the exact %s", a, b, got, prod.FloatString(36))
	} else {
		assert.False(t, s39ctFits(prod), "%s × %s refused (%v), yet the exact product %s is a Decimal", a, b, err, prod.FloatString(36))
	}

	sum := new(big.Rat).Add(ra, rb)
	scale := max(a.Scale(), b.Scale())
	fits := new(big.Int).Mul(sum.Num(), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	fits.Quo(fits, sum.Denom())
	got, err = a.Add(b)
	if err == nil {
		assert.Zero(t, s39ctRat(t, got).Cmp(sum), "%s + %s = %s, not the exact sum", a, b, got)
		assert.Equal(t, scale, got.Scale(), "%s + %s: at the larger scale", a, b)
	} else {
		assert.False(t, fits.IsInt64(), "%s + %s refused (%v), yet the exact sum fits scale %d", a, b, err, scale)
	}

	// RoundHalfEven at 8 digits, from the exact product.
	scaled := new(big.Rat).Mul(prod, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(8), nil)))
	q, rem := new(big.Int).QuoRem(scaled.Num(), scaled.Denom(), new(big.Int))
	twice := new(big.Int).Mul(rem, big.NewInt(2))
	if c := twice.Cmp(scaled.Denom()); c > 0 || (c == 0 && q.Bit(0) == 1) {
		q.Add(q, big.NewInt(1)) // all values here are positive
	}
	got, err = a.MulRound(b, 8, schema.RoundHalfEven)
	if err == nil {
		assert.Equal(t, 8, got.Scale(), "MulRound at the scale asked")
		assert.Equal(t, q.String(), big.NewInt(got.Mantissa()).String(), "%s × %s rounded half-even at 8: %s", a, b, got)
	} else {
		assert.False(t, q.IsInt64(), "%s × %s at 8 digits refused (%v), yet %s×10^-8 fits", a, b, err, q)
	}
}
