package normalize

import (
	"github.com/meltica/meltica/schema"
)

// The decoders below fill an event from one Binance payload. Keys are
// matched exactly ("t" is not "T"); fields they do not name are skipped, so
// Binance may add or drop fields. Errors go to p.f and the caller drops the
// event.

// decodeTrade decodes trade (id in "t") and aggTrade (id in "a"): they
// differ only in the id field, which the spec names.
func (p *Binance) decodeTrade(ev *schema.CanonicalEvent, b []byte, sp *binanceSpec) {
	d := &p.f
	var tradeTime, eventTime int64
	var it iter
	for it.object(b); it.next(); {
		d.mark(it.key)
		switch string(it.key) {
		case sp.seqKey: // "t" or "a"
			ev.SeqProvider = d.unsigned(sp.seqKey, it.val)
			ev.Trade.ID.SetUint(ev.SeqProvider)
		case "s":
			ev.Symbol = p.symbol(it.val)
		case "p":
			ev.Trade.Price = d.price("p", it.val)
		case "q":
			ev.Trade.Qty = d.price("q", it.val)
		case "T":
			tradeTime = d.millis("T", it.val)
		case "E":
			eventTime = d.millis("E", it.val)
		case "m": // buyer is the maker: the aggressor sold
			ev.Trade.Side = schema.SideBuy
			if d.boolean("m", it.val) {
				ev.Trade.Side = schema.SideSell
			}
		}
	}
	p.finish(&it, sp.required)
	ev.ExchangeTS = either(tradeTime, eventTime)
}

// decodeBookTicker decodes bookTicker (spot has no "e" and no time).
func (p *Binance) decodeBookTicker(ev *schema.CanonicalEvent, b []byte, sp *binanceSpec) {
	d := &p.f
	var tx, eventTime int64
	var it iter
	for it.object(b); it.next(); {
		d.mark(it.key)
		switch string(it.key) {
		case "u":
			ev.SeqProvider = d.unsigned("u", it.val)
		case "s":
			ev.Symbol = p.symbol(it.val)
		case "b":
			ev.BBO.BidPrice = d.price("b", it.val)
		case "B":
			ev.BBO.BidQty = d.price("B", it.val)
		case "a":
			ev.BBO.AskPrice = d.price("a", it.val)
		case "A":
			ev.BBO.AskQty = d.price("A", it.val)
		case "E":
			eventTime = d.millis("E", it.val)
		case "T":
			tx = d.millis("T", it.val)
		}
	}
	p.finish(&it, sp.required)
	ev.ExchangeTS = either(eventTime, tx)
}

// decodeDepth decodes depthUpdate diffs (U/u, futures pu) and partial-book
// snapshots (lastUpdateId, bids/asks, no symbol but the stream's).
func (p *Binance) decodeDepth(ev *schema.CanonicalEvent, b []byte, sp *binanceSpec) {
	d := &p.f
	var tx, eventTime int64
	hasSeq := false
	var it iter
	for it.object(b); it.next(); {
		d.mark(it.key)
		switch string(it.key) {
		case "s":
			ev.Symbol = p.symbol(it.val)
		case "U":
			ev.Book.FirstSeq = d.unsigned("U", it.val)
		case "u":
			ev.Book.LastSeq = d.unsigned("u", it.val)
			hasSeq = true
		case "lastUpdateId":
			ev.Book.LastSeq = d.unsigned("lastUpdateId", it.val)
			hasSeq = true
		case "pu":
			ev.Book.PrevSeq = d.unsigned("pu", it.val)
		case "b":
			ev.Book.Bids = p.levels("b", it.val, ev.Book.Bids[:0])
		case "bids":
			ev.Book.Bids = p.levels("bids", it.val, ev.Book.Bids[:0])
		case "a":
			ev.Book.Asks = p.levels("a", it.val, ev.Book.Asks[:0])
		case "asks":
			ev.Book.Asks = p.levels("asks", it.val, ev.Book.Asks[:0])
		case "E":
			eventTime = d.millis("E", it.val)
		case "T":
			tx = d.millis("T", it.val)
		}
	}
	p.finish(&it, sp.required)
	if !hasSeq {
		d.fail(sp.seqKey, ErrMissingField)
	}
	if ev.Type == schema.EventBookUpdate && ev.Book.FirstSeq > ev.Book.LastSeq {
		d.fail("U", errBadRange)
	}
	ev.SeqProvider = ev.Book.LastSeq
	ev.ExchangeTS = either(eventTime, tx)
}

var errBadRange = wrapBad("first update id after last")

// levels appends the [price, qty] pairs of a book side to dst. Elements
// after the second (Binance's legacy third, an empty array) are ignored.
func (p *Binance) levels(field string, v []byte, dst []schema.Level) []schema.Level {
	d := &p.f
	var side iter
	for side.array(v); side.next(); {
		var lv schema.Level
		n := 0
		var pair iter
		for pair.array(side.val); pair.next(); n++ {
			switch n {
			case 0:
				lv.Price = d.price(field, pair.val)
			case 1:
				lv.Qty = d.price(field, pair.val)
			}
		}
		if err := pair.finish(); err != nil || n < 2 {
			d.fail(field, errLevel)
			return dst
		}
		dst = append(dst, lv)
	}
	if err := side.finish(); err != nil {
		d.fail(field, errLevel)
	}
	return dst
}

var errLevel = wrapBad("want [price, quantity] levels")

// decodeKline decodes a kline; "x" says whether the candle is closed.
func (p *Binance) decodeKline(ev *schema.CanonicalEvent, b []byte, sp *binanceSpec) {
	d := &p.f
	k := &ev.Kline
	var it iter
	for it.object(b); it.next(); {
		d.mark(it.key)
		switch string(it.key) {
		case "s":
			ev.Symbol = p.symbol(it.val)
		case "E":
			ev.ExchangeTS = d.millis("E", it.val)
		case "k":
			outer := d.seen
			d.seen = 0
			p.decodeCandle(ev, it.val)
			d.seen = outer
		}
	}
	p.finish(&it, sp.required)
	if k.Closed {
		ev.Type = schema.EventKlineClosed
	}
}

func (p *Binance) decodeCandle(ev *schema.CanonicalEvent, b []byte) {
	d := &p.f
	k := &ev.Kline
	var it iter
	for it.object(b); it.next(); {
		d.mark(it.key)
		switch string(it.key) {
		case "t":
			k.OpenTime = d.millis("t", it.val)
		case "T":
			k.CloseTime = d.millis("T", it.val)
		case "s":
			if ev.Symbol == "" {
				ev.Symbol = p.symbol(it.val)
			}
		case "i":
			iv, ok := binanceIntervals[string(d.text("i", it.val))]
			if !ok {
				d.fail("i", wrapBad("unknown interval"))
			}
			k.Interval = iv
		case "L": // last trade id, -1 when none: the candle's sequence
			if n := d.integer("L", it.val); n > 0 {
				ev.SeqProvider = uint64(n)
			}
		case "o":
			k.Open = d.price("o", it.val)
		case "c":
			k.Close = d.price("c", it.val)
		case "h":
			k.High = d.price("h", it.val)
		case "l":
			k.Low = d.price("l", it.val)
		case "v":
			k.Volume = d.price("v", it.val)
		case "q":
			k.QuoteVolume = d.price("q", it.val)
		case "n":
			k.TradeCount = d.unsigned("n", it.val)
		case "x":
			k.Closed = d.boolean("x", it.val)
		}
	}
	p.finish(&it, "tTiohlcvx")
}

// binanceIntervals interns kline intervals.
var binanceIntervals = internTable("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M")

// decodeTicker decodes 24hrTicker and 24hrMiniTicker (whose fields are a
// subset of the full ticker's).
func (p *Binance) decodeTicker(ev *schema.CanonicalEvent, b []byte, sp *binanceSpec) {
	d := &p.f
	t := &ev.Ticker
	var it iter
	for it.object(b); it.next(); {
		d.mark(it.key)
		switch string(it.key) {
		case "s":
			ev.Symbol = p.symbol(it.val)
		case "E":
			ev.ExchangeTS = d.millis("E", it.val)
		case "p":
			t.PriceChange = d.decimal("p", it.val)
		case "P":
			t.ChangePct = d.decimal("P", it.val)
		case "c":
			t.Last = d.price("c", it.val)
		case "Q":
			t.LastQty = d.price("Q", it.val)
		case "b":
			t.BidPrice = d.price("b", it.val)
		case "B":
			t.BidQty = d.price("B", it.val)
		case "a":
			t.AskPrice = d.price("a", it.val)
		case "A":
			t.AskQty = d.price("A", it.val)
		case "o":
			t.Open = d.price("o", it.val)
		case "h":
			t.High = d.price("h", it.val)
		case "l":
			t.Low = d.price("l", it.val)
		case "v":
			t.Volume = d.price("v", it.val)
		case "q":
			t.QuoteVolume = d.price("q", it.val)
		case "O":
			t.WindowOpen = d.millis("O", it.val)
		case "C":
			t.WindowClose = d.millis("C", it.val)
		case "n":
			t.TradeCount = d.unsigned("n", it.val)
		case "L": // last trade id (-1 when none); mini tickers have none
			if n := d.integer("L", it.val); n > 0 {
				ev.SeqProvider = uint64(n)
			}
		}
	}
	p.finish(&it, sp.required)
}

// decodeMarkPrice decodes a futures markPriceUpdate.
func (p *Binance) decodeMarkPrice(ev *schema.CanonicalEvent, b []byte, sp *binanceSpec) {
	d := &p.f
	m := &ev.Mark
	var it iter
	for it.object(b); it.next(); {
		d.mark(it.key)
		switch string(it.key) {
		case "s":
			ev.Symbol = p.symbol(it.val)
		case "E":
			ev.ExchangeTS = d.millis("E", it.val)
		case "p":
			m.MarkPrice = d.price("p", it.val)
		case "i":
			m.IndexPrice = d.price("i", it.val)
		case "P":
			m.EstSettlePrice = d.price("P", it.val)
		case "r":
			if t := d.text("r", it.val); len(t) > 0 { // "" between funding periods
				m.FundingRate = d.decimal("r", it.val)
			}
		case "T":
			m.NextFundingTime = d.millis("T", it.val)
		}
	}
	p.finish(&it, sp.required)
}

// decodeForceOrder decodes a futures liquidation order ("o" holds it).
func (p *Binance) decodeForceOrder(ev *schema.CanonicalEvent, b []byte, sp *binanceSpec) {
	d := &p.f
	var eventTime, tradeTime int64
	var it iter
	for it.object(b); it.next(); {
		d.mark(it.key)
		switch string(it.key) {
		case "E":
			eventTime = d.millis("E", it.val)
		case "o":
			outer := d.seen
			d.seen = 0
			tradeTime = p.decodeLiquidation(ev, it.val)
			d.seen = outer
		}
	}
	p.finish(&it, sp.required)
	ev.ExchangeTS = either(tradeTime, eventTime)
}

func (p *Binance) decodeLiquidation(ev *schema.CanonicalEvent, b []byte) (tradeTime int64) {
	d := &p.f
	l := &ev.Liquidation
	var it iter
	for it.object(b); it.next(); {
		d.mark(it.key)
		switch string(it.key) {
		case "s":
			ev.Symbol = p.symbol(it.val)
		case "S":
			l.Side = p.side("S", it.val)
		case "p":
			l.Price = d.price("p", it.val)
		case "q":
			l.Qty = d.price("q", it.val)
		case "ap":
			l.AvgPrice = d.price("ap", it.val)
		case "z":
			l.FilledQty = d.price("z", it.val)
		case "X":
			l.Status = binanceStatuses[string(d.text("X", it.val))]
		case "T":
			tradeTime = d.millis("T", it.val)
		}
	}
	p.finish(&it, "sSpq")
	return tradeTime
}

// decodeExec decodes an executionReport into the Exec section. Every field
// Binance documents is mapped; unknown enum values stay Unknown rather than
// drop the report (execution reports are never dropped for a new word).
func (p *Binance) decodeExec(ev *schema.CanonicalEvent, b []byte, sp *binanceSpec) {
	d := &p.f
	x := &ev.Exec
	var it iter
	for it.object(b); it.next(); {
		d.mark(it.key)
		switch string(it.key) {
		case "s":
			ev.Symbol = p.symbol(it.val)
		case "E":
			ev.ExchangeTS = d.millis("E", it.val)
		case "c":
			d.id("c", it.val, &x.ClientOrderID)
		case "C":
			d.id("C", it.val, &x.OrigClientOrderID)
		case "i":
			d.id("i", it.val, &x.VenueOrderID)
		case "t":
			d.id("t", it.val, &x.TradeID)
		case "S":
			x.Side = p.side("S", it.val)
		case "o":
			x.Type = binanceOrderTypes[string(d.text("o", it.val))]
		case "f":
			x.TimeInForce = binanceTIFs[string(d.text("f", it.val))]
		case "x":
			x.ExecType = binanceExecTypes[string(d.text("x", it.val))]
		case "X":
			x.Status = binanceStatuses[string(d.text("X", it.val))]
		case "q":
			x.Qty = d.price("q", it.val)
		case "p":
			x.Price = d.price("p", it.val)
		case "P":
			x.StopPrice = d.price("P", it.val)
		case "l":
			x.LastFillQty = d.price("l", it.val)
		case "L":
			x.LastFillPrice = d.price("L", it.val)
		case "z":
			x.CumFillQty = d.price("z", it.val)
		case "Z":
			x.CumQuoteQty = d.price("Z", it.val)
		case "n":
			x.Fee = d.decimal("n", it.val) // a rebate can be negative
		case "N":
			d.id("N", it.val, &x.FeeAsset)
		case "m":
			x.IsMaker = d.boolean("m", it.val)
		case "r":
			x.RejectReason = rejectReason(d.text("r", it.val))
		case "T":
			x.TransactTime = d.millis("T", it.val)
		case "O":
			x.OrderCreated = d.millis("O", it.val)
		}
	}
	p.finish(&it, sp.required)
	if x.CumFillQty.Cmp(x.Qty) <= 0 {
		if rem, err := x.Qty.Sub(x.CumFillQty); err == nil {
			x.RemainingQty = rem
		}
	}
	if ev.ExchangeTS == 0 {
		ev.ExchangeTS = x.TransactTime
	}
}

// decodeControl decodes a subscription ack ({"result":…,"id":…}, also WS-API
// responses) or a venue error ({"error":{"code","msg"},"id"}).
func (p *Binance) decodeControl(ev *schema.CanonicalEvent, b []byte, sp *binanceSpec) {
	d := &p.f
	c := &ev.Control
	c.Kind = schema.ControlSubscribeAck
	var it iter
	for it.object(b); it.next(); {
		switch string(it.key) {
		case "id": // a number for SUBSCRIBE; WS-API ids may be strings
			if len(it.val) > 0 && it.val[0] != '"' && !isNull(it.val) {
				if n := d.integer("id", it.val); n > 0 {
					ev.SeqProvider = uint64(n)
				}
			}
		case "error":
			c.Kind = schema.ControlVenueError
			p.decodeVenueError(c, it.val)
		}
	}
	p.finish(&it, sp.required)
	if c.Kind == schema.ControlSubscribeAck {
		c.Code = int64(ev.SeqProvider)
	}
}

func (p *Binance) decodeVenueError(c *schema.Control, b []byte) {
	d := &p.f
	var it iter
	for it.object(b); it.next(); {
		switch string(it.key) {
		case "code":
			c.Code = d.integer("error.code", it.val)
		case "msg":
			c.Reason = string(d.text("error.msg", it.val))
		}
	}
	if err := it.finish(); err != nil {
		d.fail("error", err)
	}
}

// symbol resolves the "s" field.
func (p *Binance) symbol(v []byte) string {
	t := p.f.text("s", v)
	if t == nil {
		return ""
	}
	return p.lookup("s", t)
}

// side decodes "BUY"/"SELL".
func (p *Binance) side(field string, v []byte) schema.Side {
	switch string(p.f.text(field, v)) {
	case "BUY":
		return schema.SideBuy
	case "SELL":
		return schema.SideSell
	}
	p.f.fail(field, wrapBad("want BUY or SELL"))
	return schema.SideUnknown
}

// Binance's enum spellings, as data.
var (
	binanceExecTypes = map[string]schema.ExecType{
		"NEW": schema.ExecNew, "TRADE": schema.ExecTrade, "CANCELED": schema.ExecCanceled,
		"REPLACED": schema.ExecReplaced, "REJECTED": schema.ExecRejected, "EXPIRED": schema.ExecExpired,
		"TRADE_PREVENTION": schema.ExecTradePrevention, "AMENDMENT": schema.ExecAmendment,
		"PENDING_NEW": schema.ExecPendingNew, "PENDING_CANCEL": schema.ExecPendingCancel,
	}
	binanceStatuses = map[string]schema.OrderStatus{
		"PENDING_NEW": schema.StatusPendingNew, "NEW": schema.StatusNew,
		"PARTIALLY_FILLED": schema.StatusPartiallyFilled, "FILLED": schema.StatusFilled,
		"PENDING_CANCEL": schema.StatusPendingCancel, "CANCELED": schema.StatusCanceled,
		"REJECTED": schema.StatusRejected, "EXPIRED": schema.StatusExpired,
		"EXPIRED_IN_MATCH": schema.StatusExpiredInMatch,
	}
	binanceOrderTypes = map[string]schema.OrderType{
		"MARKET": schema.OrderTypeMarket, "LIMIT": schema.OrderTypeLimit, "LIMIT_MAKER": schema.OrderTypeLimitMaker,
		"STOP_LOSS": schema.OrderTypeStopLoss, "STOP_LOSS_LIMIT": schema.OrderTypeStopLossLimit,
		"TAKE_PROFIT": schema.OrderTypeTakeProfit, "TAKE_PROFIT_LIMIT": schema.OrderTypeTakeProfitLimit,
	}
	binanceTIFs = map[string]schema.TimeInForce{
		"GTC": schema.TIFGTC, "IOC": schema.TIFIOC, "FOK": schema.TIFFOK, "GTX": schema.TIFGTX,
	}
	// binanceRejectReasons interns the reasons Binance documents; others
	// are copied (rejects are rare).
	binanceRejectReasons = internTable(
		"INSUFFICIENT_BALANCES", "UNKNOWN_ORDER", "DUPLICATE_ORDER", "MARKET_CLOSED",
		"PRICE_QTY_EXCEED_HARD_LIMITS", "STOP_PRICE_WOULD_TRIGGER_IMMEDIATELY",
		"ORDER_WOULD_IMMEDIATELY_MATCH_AND_TAKE", "ORDER_WOULD_TRIGGER_IMMEDIATELY",
		"UNKNOWN_ACCOUNT", "UNKNOWN_INSTRUMENT", "ORDER_ARCHIVED",
	)
)

func rejectReason(t []byte) string {
	if t == nil || string(t) == "NONE" {
		return ""
	}
	if s, ok := binanceRejectReasons[string(t)]; ok {
		return s
	}
	return string(t)
}

// either returns a, or b when a is zero.
func either(a, b int64) int64 {
	if a != 0 {
		return a
	}
	return b
}

func internTable(words ...string) map[string]string {
	m := make(map[string]string, len(words))
	for _, w := range words {
		m[w] = w
	}
	return m
}
