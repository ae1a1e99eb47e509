package normalize

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/schema"
)

// OrderOptions configure a [BinanceOrders] encoder. A nil *OrderOptions means
// the defaults.
type OrderOptions struct {
	// Symbols turns canonical symbols into Binance's. Defaults to a new
	// registry with [BinanceSymbolRules].
	Symbols *Symbols
	// RecvWindow is sent as recvWindow when non-zero (Binance's default is
	// 5 s). Defaults to 0: not sent.
	RecvWindow time.Duration
	// Now gives the request timestamp. Defaults to time.Now.
	Now func() time.Time
}

// BinanceOrders encodes order requests as signed Binance WS-API requests
// (order.place and order.cancel). It is safe for concurrent use when its
// Signer is (the provided ones are). Make it with [NewBinanceOrders].
type BinanceOrders struct {
	creds      *Credentials
	syms       *Symbols
	recvWindow int64 // ms
	now        func() time.Time
}

// NewBinanceOrders returns an encoder that signs with creds. It panics when
// creds is nil or has no signer.
func NewBinanceOrders(creds *Credentials, opts *OrderOptions) *BinanceOrders {
	if creds == nil || creds.signer == nil {
		panic("normalize: NewBinanceOrders needs credentials with a signer")
	}
	var o OrderOptions
	if opts != nil {
		o = *opts
	}
	if o.Symbols == nil {
		o.Symbols = NewBinanceSymbols()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &BinanceOrders{creds: creds, syms: o.Symbols, recvWindow: o.RecvWindow.Milliseconds(), now: o.Now}
}

// param is one request parameter; num values are written as JSON numbers.
type param struct {
	key, val string
	num      bool
}

// AppendRequest appends to dst the WS-API request for o (order.place or
// order.cancel, by o.Action) with request id id, signed: the parameters are
// sorted by name, joined as key=value&…, signed, and sent with the
// signature. The id comes back in the venue's answer: Control.RequestID of
// the schema.EventOrderAck (accepted) or of the schema.EventControl with
// Kind schema.ControlVenueError (refused, the venue's code in Control.Code).
func (e *BinanceOrders) AppendRequest(dst []byte, id uint64, o *schema.OrderRequest) ([]byte, error) {
	method, ps, err := e.params(o)
	if err != nil {
		return dst, err
	}
	return e.appendSigned(dst, id, method, ps)
}

// Check reports, without signing (a host's Signer may be remote and
// slow), the error AppendRequest would return for o: nil when Binance's
// order.place or order.cancel can express it.
func (e *BinanceOrders) Check(o *schema.OrderRequest) error {
	_, _, err := e.params(o)
	return err
}

// params are o's request method and parameters, unsigned.
func (e *BinanceOrders) params(o *schema.OrderRequest) (string, []param, error) {
	if err := o.Validate(); err != nil {
		return "", nil, err
	}
	sym, err := e.syms.VenueSymbol(o.Symbol)
	if err != nil {
		return "", nil, err
	}
	ps := make([]param, 0, 14)
	ps = append(ps, param{key: "apiKey", val: e.creds.apiKey}, param{key: "symbol", val: sym},
		param{key: "timestamp", val: strconv.FormatInt(e.now().UnixMilli(), 10), num: true})
	if e.recvWindow > 0 {
		ps = append(ps, param{key: "recvWindow", val: strconv.FormatInt(e.recvWindow, 10), num: true})
	}
	method := "order.place"
	if o.Action == schema.ActionCancel {
		method = "order.cancel"
		ps, err = cancelParams(ps, o)
	} else {
		ps, err = placeParams(ps, o)
	}
	return method, ps, err
}

// appendSigned sorts ps by name, signs them joined as key=value&…, and
// appends the request {"id","method","params"} with the signature last.
func (e *BinanceOrders) appendSigned(dst []byte, id uint64, method string, ps []param) ([]byte, error) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].key < ps[j].key })
	var payload []byte
	for i, p := range ps {
		if i > 0 {
			payload = append(payload, '&')
		}
		payload = append(append(append(payload, p.key...), '='), p.val...)
	}
	sig, err := e.creds.signer.AppendSignature(nil, payload)
	if err != nil {
		return dst, fmt.Errorf("normalize: signing %s: %w", method, err)
	}
	ps = append(ps, param{key: "signature", val: string(sig)})
	out := appender{b: dst}
	err = json.MarshalWrite(&out, &struct {
		ID     uint64        `json:"id"`
		Method string        `json:"method"`
		Params orderedParams `json:"params"`
	}{id, method, ps})
	if err != nil {
		return dst, fmt.Errorf("%w: %w", ErrBadValue, err)
	}
	return out.b, nil
}

// orderedParams are written in their order (sorted by name, as signed,
// then the signature): an object goccy's struct encoding cannot express.
// goccy v0.12.0 allocates once per MarshalJSONTo call; an order request
// costs 25 allocations in all (BenchmarkBinanceOrderPlace: the parameters'
// text, the signing payload, HMAC state, the signature), which orders, at
// their rate, can afford; market data decoding costs none.
type orderedParams []param

func (ps orderedParams) MarshalJSONTo(out *jsontext.Encoder) error {
	if err := out.WriteToken(jsontext.BeginObject); err != nil {
		return err
	}
	for _, p := range ps {
		if err := out.WriteToken(jsontext.String(p.key)); err != nil {
			return err
		}
		var err error
		if p.num {
			err = out.WriteValue(jsontext.Value(p.val))
		} else {
			err = out.WriteToken(jsontext.String(p.val))
		}
		if err != nil {
			return err
		}
	}
	return out.WriteToken(jsontext.EndObject)
}

// appender is an io.Writer appending to a slice.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

var (
	binanceSideNames = [...]string{schema.SideBuy: "BUY", schema.SideSell: "SELL"}
	binanceTypeNames = [...]string{
		schema.OrderTypeMarket: "MARKET", schema.OrderTypeLimit: "LIMIT", schema.OrderTypeLimitMaker: "LIMIT_MAKER",
		schema.OrderTypeStopLoss: "STOP_LOSS", schema.OrderTypeStopLossLimit: "STOP_LOSS_LIMIT",
		schema.OrderTypeTakeProfit: "TAKE_PROFIT", schema.OrderTypeTakeProfitLimit: "TAKE_PROFIT_LIMIT",
	}
)

func placeParams(ps []param, o *schema.OrderRequest) ([]param, error) {
	if o.ReduceOnly {
		return ps, fmt.Errorf("%w: Binance spot has no reduce-only orders", ErrUnsupported)
	}
	typ := o.Type
	if o.PostOnly {
		if typ != schema.OrderTypeLimit && typ != schema.OrderTypeLimitMaker {
			return ps, fmt.Errorf("%w: post-only needs a limit order", ErrUnsupported)
		}
		typ = schema.OrderTypeLimitMaker
	}
	// A time in force that the order's type cannot keep is refused, not
	// dropped: LIMIT_MAKER takes no timeInForce (it rests, GTC), so a
	// post-only IOC or FOK would rest on the book; a MARKET order takes
	// none either, so a FOK market order would fill in part (Binance spot
	// WebSocket API, "Place new order": timeInForce is for LIMIT,
	// STOP_LOSS_LIMIT and TAKE_PROFIT_LIMIT only).
	switch tif := o.TimeInForce; {
	case typ == schema.OrderTypeLimitMaker && (tif == schema.TIFIOC || tif == schema.TIFFOK):
		return ps, fmt.Errorf("%w: a post-only (LIMIT_MAKER) order rests on the book: no %s", ErrUnsupported, tif)
	case !typ.NeedsPrice() && tif == schema.TIFFOK:
		return ps, fmt.Errorf("%w: a %s order takes no FOK on Binance spot", ErrUnsupported, typ)
	case typ != schema.OrderTypeLimitMaker && tif == schema.TIFGTX:
		return ps, fmt.Errorf("%w: GTX is futures-only; use PostOnly", ErrUnsupported)
	}
	// RESULT for every type: the answer then carries the order's status,
	// quantities and price, which the Ack reports. Binance's default is FULL
	// (RESULT plus the fills) for MARKET and LIMIT and ACK (the ids only)
	// for the others, so a LIMIT_MAKER or stop order's Ack said nothing of
	// its status (Binance spot WebSocket API, "Place new order",
	// newOrderRespType). The fills come with the execution reports.
	ps = append(ps, param{key: "side", val: binanceSideNames[o.Side]}, param{key: "type", val: binanceTypeNames[typ]},
		param{key: "newOrderRespType", val: "RESULT"})
	if !o.ClientOrderID.IsZero() {
		id, err := clientID(&o.ClientOrderID)
		if err != nil {
			return ps, err
		}
		ps = append(ps, param{key: "newClientOrderId", val: id})
	}
	if o.Qty.Sign() > 0 {
		ps = append(ps, param{key: "quantity", val: binanceNumber(o.Qty)})
	} else {
		ps = append(ps, param{key: "quoteOrderQty", val: binanceNumber(o.QuoteQty)})
	}
	if typ.NeedsPrice() {
		ps = append(ps, param{key: "price", val: binanceNumber(o.Price)})
	}
	if typ.Conditional() {
		ps = append(ps, param{key: "stopPrice", val: binanceNumber(o.StopPrice)})
	}
	if typ.NeedsPrice() && typ != schema.OrderTypeLimitMaker {
		tif := "GTC" // Binance requires one; GTC unless told
		if o.TimeInForce == schema.TIFIOC || o.TimeInForce == schema.TIFFOK {
			tif = o.TimeInForce.String()
		}
		ps = append(ps, param{key: "timeInForce", val: tif})
	}
	return ps, nil
}

// binanceMaxDecimals is the most decimals Binance spot writes for any
// asset (exchangeInfo's baseAssetPrecision and quoteAssetPrecision).
const binanceMaxDecimals = 8

// binanceNumber writes d with the digits it was given, but without
// trailing zeros past binanceMaxDecimals: Binance counts the decimals
// written, zeros too ("0.0470000000000000000000000000" was -1100 "Illegal
// characters found in parameter 'quantity'", sonvister/Binance#101; a
// float's trailing ".0" -1111 "Parameter 'quantity' has too much
// precision", veighna-global/vnpy_binance#43), and "0.500000000000" — a
// Decimal carried at the scale of a division — is 0.50000000 to the
// venue. Digits within 8 are kept as given (the WS-API's signing example
// signs "23416.10000000" as written). Non-zero digits past 8 are sent as
// they are: the instrument's step and tick sizes refuse them first.
func binanceNumber(d schema.Decimal) string {
	if d.Scale() > binanceMaxDecimals {
		if r, err := d.Round(binanceMaxDecimals, schema.RoundDown); err == nil && r.Equal(d) {
			return r.String()
		}
	}
	return d.String()
}

func cancelParams(ps []param, o *schema.OrderRequest) ([]param, error) {
	if !o.VenueOrderID.IsZero() {
		if _, ok := parseInt(o.VenueOrderID.Bytes()); !ok {
			return ps, fmt.Errorf("%w: Binance order ids are integers", ErrBadValue)
		}
		ps = append(ps, param{key: "orderId", val: o.VenueOrderID.String(), num: true})
	}
	for _, f := range []struct {
		key string
		id  *schema.ID
	}{{"origClientOrderId", &o.OrigClientOrderID}, {"newClientOrderId", &o.ClientOrderID}} {
		if f.id.IsZero() {
			continue
		}
		id, err := clientID(f.id)
		if err != nil {
			return ps, err
		}
		ps = append(ps, param{key: f.key, val: id})
	}
	return ps, nil
}

// clientID checks a client order id against Binance spot's
// ^[a-zA-Z0-9-_]{1,36}$, the legal range its -1100 answer names
// ("Illegal characters found in parameter 'newClientOrderId'; legal range
// is '^[a-zA-Z0-9-_]{1,36}$'."; binance-spot-api-docs PR #34: "dot(.) is
// not allowed"). USDⓈ-M's alphabet also takes . : / — not spot's.
func clientID(id *schema.ID) (string, error) {
	b := id.Bytes()
	ok := len(b) <= 36
	for _, c := range b {
		if !isAlnumByte(c) && c != '_' && c != '-' {
			ok = false
		}
	}
	if !ok {
		return "", fmt.Errorf("%w: client order id %q is not [a-zA-Z0-9-_]{1,36} (Binance spot)", ErrBadValue, b)
	}
	return string(b), nil
}

// BinanceSubscribe returns a SUBSCRIBE request for streams
// ("btcusdt@trade", "btcusdt@depth@100ms", …) with request id id; the ack
// comes back as an EventControl whose Control.RequestID is id.
func BinanceSubscribe(id uint64, streams ...string) ([]byte, error) {
	return binanceStreamRequest("SUBSCRIBE", id, streams)
}

// BinanceUnsubscribe returns the matching UNSUBSCRIBE request.
func BinanceUnsubscribe(id uint64, streams ...string) ([]byte, error) {
	return binanceStreamRequest("UNSUBSCRIBE", id, streams)
}

func binanceStreamRequest(method string, id uint64, streams []string) ([]byte, error) {
	if err := checkNames("stream name", streams); err != nil {
		return nil, err
	}
	return marshalRequest(&struct {
		Method string   `json:"method"`
		Params []string `json:"params"`
		ID     uint64   `json:"id"`
	}{method, streams, id})
}

// BinanceStream returns the stream name of a channel ("trade", "aggTrade",
// "bookTicker", "depth@100ms", "kline_1m", …) for a canonical symbol:
// BinanceStream(syms, "BTC-USDT", "trade") is "btcusdt@trade".
func BinanceStream(syms *Symbols, symbol, channel string) (string, error) {
	v, err := syms.VenueSymbol(symbol)
	if err != nil {
		return "", err
	}
	s := asciiLower(v) + "@" + channel
	if !validName(s) {
		return "", fmt.Errorf("%w: stream name %q", ErrBadValue, s)
	}
	return s, nil
}

// asciiLower lower-cases ASCII letters only: Binance stream names fold
// "BTCUSDT" to "btcusdt" and keep other scripts as listed.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
