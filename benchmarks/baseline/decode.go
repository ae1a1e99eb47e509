package baseline

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/meltica/meltica/schema"
)

// ErrUnknown is returned for messages the baseline does not handle.
var ErrUnknown = errors.New("baseline: unknown message")

// Every struct names both cases of Binance's one-letter keys ("e"/"E",
// "u"/"U", ...): encoding/json matches keys case-insensitively when there is
// no exact field, and would otherwise read "E" into the field for "e".

type envelope struct {
	Stream string          `json:"stream"`
	Data   json.RawMessage `json:"data"`
	Event  json.RawMessage `json:"event"`
}

type head struct {
	Type string `json:"e"`
	Time int64  `json:"E"`
}

type trade struct {
	Type       string `json:"e"`
	Time       int64  `json:"E"`
	Symbol     string `json:"s"`
	ID         int64  `json:"t"`
	Price      string `json:"p"`
	Qty        string `json:"q"`
	TradeTime  int64  `json:"T"`
	BuyerMaker bool   `json:"m"`
	Ignore     bool   `json:"M"`
}

type aggTrade struct {
	Type       string `json:"e"`
	Time       int64  `json:"E"`
	Symbol     string `json:"s"`
	AggID      int64  `json:"a"`
	Price      string `json:"p"`
	Qty        string `json:"q"`
	First      int64  `json:"f"`
	Last       int64  `json:"l"`
	TradeTime  int64  `json:"T"`
	BuyerMaker bool   `json:"m"`
	Ignore     bool   `json:"M"`
}

type bookTicker struct {
	UpdateID int64  `json:"u"`
	Symbol   string `json:"s"`
	BidPrice string `json:"b"`
	BidQty   string `json:"B"`
	AskPrice string `json:"a"`
	AskQty   string `json:"A"`
}

type depthUpdate struct {
	Type    string     `json:"e"`
	Time    int64      `json:"E"`
	Symbol  string     `json:"s"`
	FirstID int64      `json:"U"`
	LastID  int64      `json:"u"`
	Bids    [][]any    `json:"b"`
	Asks    [][]any    `json:"a"`
	Unused  [][]string `json:"-"`
}

type executionReport struct {
	Type          string `json:"e"`
	Time          int64  `json:"E"`
	Symbol        string `json:"s"`
	ClientID      string `json:"c"`
	Side          string `json:"S"`
	OrderType     string `json:"o"`
	TIF           string `json:"f"`
	Qty           string `json:"q"`
	Price         string `json:"p"`
	StopPrice     string `json:"P"`
	IcebergQty    string `json:"F"`
	OrderListID   int64  `json:"g"`
	OrigClientID  string `json:"C"`
	ExecType      string `json:"x"`
	Status        string `json:"X"`
	Reject        string `json:"r"`
	OrderID       int64  `json:"i"`
	LastQty       string `json:"l"`
	CumQty        string `json:"z"`
	LastPrice     string `json:"L"`
	Fee           string `json:"n"`
	FeeAsset      string `json:"N"`
	TransactTime  int64  `json:"T"`
	TradeID       int64  `json:"t"`
	Ignore        int64  `json:"I"`
	Working       bool   `json:"w"`
	Maker         bool   `json:"m"`
	Ignore2       bool   `json:"M"`
	Created       int64  `json:"O"`
	CumQuote      string `json:"Z"`
	LastQuote     string `json:"Y"`
	QuoteOrderQty string `json:"Q"`
	WorkingTime   int64  `json:"W"`
	STP           string `json:"V"`
}

// Unmarshal is a JSON decoder with encoding/json's signature.
type Unmarshal func(data []byte, v any) error

// Decode turns one Binance frame (raw, combined or WS-API wrapped) into
// fresh canonical events with encoding/json, the way a straightforward
// implementation would.
func Decode(frame []byte, ingestNs int64) ([]*schema.CanonicalEvent, error) {
	return DecodeWith(json.Unmarshal, frame, ingestNs)
}

// DecodeWith is Decode with another JSON decoder behind the same code, so
// that swapping only the JSON library can be measured.
func DecodeWith(unmarshal Unmarshal, frame []byte, ingestNs int64) ([]*schema.CanonicalEvent, error) {
	var env envelope
	if err := unmarshal(frame, &env); err != nil {
		return nil, err
	}
	payload := frame
	switch {
	case len(env.Data) > 0:
		payload = env.Data
	case len(env.Event) > 0:
		payload = env.Event
	}
	var h head
	if err := unmarshal(payload, &h); err != nil {
		return nil, err
	}
	kind := h.Type
	if kind == "" && strings.HasSuffix(env.Stream, "@bookTicker") {
		kind = "bookTicker"
	}
	if kind == "" {
		var probe map[string]any
		if err := unmarshal(payload, &probe); err == nil {
			if _, ok := probe["u"]; ok {
				if _, ok := probe["b"]; ok {
					kind = "bookTicker"
				}
			}
		}
	}
	ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, IngestTS: ingestNs}
	var err error
	switch kind {
	case "trade":
		var m trade
		if err = unmarshal(payload, &m); err != nil {
			return nil, err
		}
		ev.Type, ev.Symbol, ev.SeqProvider, ev.ExchangeTS = schema.EventTrade, symbol(m.Symbol), uint64(m.ID), m.TradeTime*1e6
		ev.Trade.ID.SetUint(uint64(m.ID))
		ev.Trade.Side = aggressor(m.BuyerMaker)
		if ev.Trade.Price, err = schema.ParseDecimal(m.Price); err != nil {
			return nil, err
		}
		ev.Trade.Qty, err = schema.ParseDecimal(m.Qty)
	case "aggTrade":
		var m aggTrade
		if err = unmarshal(payload, &m); err != nil {
			return nil, err
		}
		ev.Type, ev.Symbol, ev.SeqProvider, ev.ExchangeTS = schema.EventTrade, symbol(m.Symbol), uint64(m.AggID), m.TradeTime*1e6
		ev.Trade.ID.SetUint(uint64(m.AggID))
		ev.Trade.Side = aggressor(m.BuyerMaker)
		if ev.Trade.Price, err = schema.ParseDecimal(m.Price); err != nil {
			return nil, err
		}
		ev.Trade.Qty, err = schema.ParseDecimal(m.Qty)
	case "bookTicker":
		var m bookTicker
		if err = unmarshal(payload, &m); err != nil {
			return nil, err
		}
		ev.Type, ev.Symbol, ev.SeqProvider = schema.EventBBO, symbol(m.Symbol), uint64(m.UpdateID)
		for _, f := range []struct {
			dst *schema.Decimal
			src string
		}{{&ev.BBO.BidPrice, m.BidPrice}, {&ev.BBO.BidQty, m.BidQty}, {&ev.BBO.AskPrice, m.AskPrice}, {&ev.BBO.AskQty, m.AskQty}} {
			if *f.dst, err = schema.ParseDecimal(f.src); err != nil {
				return nil, err
			}
		}
	case "depthUpdate":
		var m depthUpdate
		if err = unmarshal(payload, &m); err != nil {
			return nil, err
		}
		ev.Type, ev.Symbol, ev.SeqProvider, ev.ExchangeTS = schema.EventBookUpdate, symbol(m.Symbol), uint64(m.LastID), m.Time*1e6
		ev.Book.FirstSeq, ev.Book.LastSeq = uint64(m.FirstID), uint64(m.LastID)
		if ev.Book.Bids, err = levels(m.Bids); err != nil {
			return nil, err
		}
		ev.Book.Asks, err = levels(m.Asks)
	case "executionReport":
		var m executionReport
		if err = unmarshal(payload, &m); err != nil {
			return nil, err
		}
		ev.Type, ev.Symbol, ev.ExchangeTS = schema.EventExecReport, symbol(m.Symbol), m.Time*1e6
		err = execution(ev.UseExec(), &m)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknown, kind)
	}
	if err != nil {
		return nil, err
	}
	return []*schema.CanonicalEvent{ev}, nil
}

func aggressor(buyerMaker bool) schema.Side {
	if buyerMaker {
		return schema.SideSell
	}
	return schema.SideBuy
}

// quotes are the quote assets the baseline splits symbols by, longest first.
var quotes = []string{"FDUSD", "USDT", "USDC", "TUSD", "BUSD", "BTC", "ETH", "BNB", "EUR", "TRY"}

func symbol(s string) string {
	for _, q := range quotes {
		if strings.HasSuffix(s, q) && len(s) > len(q) {
			return s[:len(s)-len(q)] + "-" + q
		}
	}
	return s
}

func levels(in [][]any) ([]schema.Level, error) {
	out := make([]schema.Level, 0, len(in))
	for _, l := range in {
		if len(l) < 2 {
			return nil, errors.New("baseline: short level")
		}
		p, _ := l[0].(string)
		q, _ := l[1].(string)
		pd, err := schema.ParseDecimal(p)
		if err != nil {
			return nil, err
		}
		qd, err := schema.ParseDecimal(q)
		if err != nil {
			return nil, err
		}
		out = append(out, schema.Level{Price: pd, Qty: qd})
	}
	return out, nil
}

var (
	sides    = map[string]schema.Side{"BUY": schema.SideBuy, "SELL": schema.SideSell}
	types    = map[string]schema.OrderType{"MARKET": schema.OrderTypeMarket, "LIMIT": schema.OrderTypeLimit, "LIMIT_MAKER": schema.OrderTypeLimitMaker, "STOP_LOSS": schema.OrderTypeStopLoss, "STOP_LOSS_LIMIT": schema.OrderTypeStopLossLimit, "TAKE_PROFIT": schema.OrderTypeTakeProfit, "TAKE_PROFIT_LIMIT": schema.OrderTypeTakeProfitLimit}
	tifs     = map[string]schema.TimeInForce{"GTC": schema.TIFGTC, "IOC": schema.TIFIOC, "FOK": schema.TIFFOK}
	execs    = map[string]schema.ExecType{"NEW": schema.ExecNew, "TRADE": schema.ExecTrade, "CANCELED": schema.ExecCanceled, "REPLACED": schema.ExecReplaced, "REJECTED": schema.ExecRejected, "EXPIRED": schema.ExecExpired, "TRADE_PREVENTION": schema.ExecTradePrevention}
	statuses = map[string]schema.OrderStatus{"NEW": schema.StatusNew, "PARTIALLY_FILLED": schema.StatusPartiallyFilled, "FILLED": schema.StatusFilled, "CANCELED": schema.StatusCanceled, "PENDING_CANCEL": schema.StatusPendingCancel, "REJECTED": schema.StatusRejected, "EXPIRED": schema.StatusExpired, "EXPIRED_IN_MATCH": schema.StatusExpiredInMatch}
)

func execution(x *schema.Execution, m *executionReport) error {
	x.Side, x.Type, x.TimeInForce, x.ExecType, x.Status = sides[m.Side], types[m.OrderType], tifs[m.TIF], execs[m.ExecType], statuses[m.Status]
	if err := x.ClientOrderID.Set(m.ClientID); err != nil {
		return err
	}
	if err := x.OrigClientOrderID.Set(m.OrigClientID); err != nil {
		return err
	}
	x.VenueOrderID.SetUint(uint64(m.OrderID))
	if m.TradeID >= 0 && m.ExecType == "TRADE" {
		x.TradeID.SetUint(uint64(m.TradeID))
	}
	if err := x.FeeAsset.Set(m.FeeAsset); err != nil {
		return err
	}
	for _, f := range []struct {
		dst *schema.Decimal
		src string
	}{{&x.Price, m.Price}, {&x.Qty, m.Qty}, {&x.StopPrice, m.StopPrice}, {&x.LastFillPrice, m.LastPrice}, {&x.LastFillQty, m.LastQty}, {&x.CumFillQty, m.CumQty}, {&x.CumQuoteQty, m.CumQuote}, {&x.Fee, m.Fee}} {
		d, err := schema.ParseDecimal(f.src)
		if err != nil {
			return err
		}
		*f.dst = d
	}
	if rem, err := x.Qty.Sub(x.CumFillQty); err == nil {
		x.RemainingQty = rem
	}
	if m.Reject != "NONE" {
		x.RejectReason = m.Reject
	}
	x.IsMaker = m.Maker
	x.TransactTime = m.TransactTime * 1e6
	x.OrderCreated = m.Created * 1e6
	return nil
}
