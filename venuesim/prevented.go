package venuesim

import (
	"strconv"

	"github.com/goccy/go-json/jsontext"
)

// preventedMatch is a prevented match as myPreventedMatches lists it: id
// its preventedMatchId, the taker whose mode (stp) prevented it, the
// maker met at price, the quantities each side expired (0: none; the
// taker's on the match that stopped it), at its ms.
type preventedMatch struct {
	id                 int64
	taker, maker       *order
	stp                string
	price              int64
	takerQty, makerQty int64
	at                 int64
}

// notePrevented keeps the prevented matches of a taker's walk for
// myPreventedMatches and returns them, for its FULL answer: each maker's
// remaining quantity expired unless the mode is EXPIRE_TAKER, the
// taker's (takerQty) on the last match when it stopped. Caller holds the
// market lock.
func (s *symbolState) notePrevented(taker *order, prevented []prevention, stopped bool, takerQty, now int64) []preventedMatch {
	n := len(s.matches)
	for i, p := range prevented {
		m := preventedMatch{id: p.id, taker: taker, maker: p.maker, stp: taker.stp, price: p.maker.price, at: now}
		if stopped && i == len(prevented)-1 {
			m.takerQty = takerQty
		}
		if taker.stp != "EXPIRE_TAKER" {
			m.makerQty = p.maker.qty - p.maker.filled
		}
		s.matches = append(s.matches, m)
	}
	return s.matches[n:]
}

// myPreventedMatches answers Binance spot's myPreventedMatches (WS-API
// "Account prevented matches", REST GET /api/v3/myPreventedMatches:
// "Displays the list of orders that were expired due to STP"): the one
// match preventedMatchId names, or those of the order orderId names (its
// taker's or its maker's), from fromPreventedMatchId, at most limit
// (default 500, at most 1000), by preventedMatchId. The supported
// combinations are symbol+preventedMatchId, symbol+orderId and
// symbol+orderId+fromPreventedMatchId(+limit); another is refused, ok
// false (-1128, "Combination of optional parameters invalid.", spot
// "Error codes"). Each record is symbol, preventedMatchId, takerOrderId,
// makerSymbol, makerOrderId, tradeGroupId, selfTradePreventionMode (the
// taker's), price, takerPreventedQuantity when the taker expired,
// makerPreventedQuantity when the maker did, transactTime (ms).
// tradeGroupId is 1: every order is one account's, the docs' example's
// group. Caller holds the market lock.
func (s *symbolState) myPreventedMatches(p map[string]jsontext.Value) (res []jsontext.Value, ok bool) {
	matchID, byMatch := param(p, "preventedMatchId"), param(p, "preventedMatchId") != ""
	orderID, byOrder := orderIDParam(p)
	from := param(p, "fromPreventedMatchId")
	if byMatch == byOrder || from != "" && !byOrder {
		return nil, false
	}
	first, last := int64(0), int64(len(s.matches)) // ids are indexes
	limit := len(s.matches)
	if byMatch {
		id, err := strconv.ParseInt(matchID, 10, 64)
		if err != nil || id >= last {
			return nil, true
		}
		first, last = id, id+1
	}
	if from != "" {
		id, err := strconv.ParseInt(from, 10, 64)
		if err != nil || id >= last {
			return nil, true
		}
		first = id
	}
	if byOrder {
		limit = parseLimit(param(p, "limit"), 500, 1000)
	}
	for _, m := range s.matches[first:last] {
		if len(res) == limit {
			break
		}
		if byOrder && m.taker.id != orderID && m.maker.id != orderID {
			continue
		}
		res = append(res, marshal(&struct {
			Symbol      string         `json:"symbol"`
			ID          int64          `json:"preventedMatchId"`
			TakerOrder  uint64         `json:"takerOrderId"`
			MakerSymbol string         `json:"makerSymbol"`
			MakerOrder  uint64         `json:"makerOrderId"`
			TradeGroup  int            `json:"tradeGroupId"`
			STPMode     string         `json:"selfTradePreventionMode"`
			Price       jsontext.Value `json:"price"`
			TakerQty    jsontext.Value `json:"takerPreventedQuantity,omitzero"`
			MakerQty    jsontext.Value `json:"makerPreventedQuantity,omitzero"`
			At          int64          `json:"transactTime"`
		}{s.name, m.id, m.taker.id, m.maker.symbol.name, m.maker.id, 1, m.stp, decValue(m.price),
			optDec(m.takerQty), optDec(m.makerQty), m.at}))
	}
	return res, true
}

// optDec is v as a decimal, or nothing (omitted) when 0.
func optDec(v int64) jsontext.Value {
	if v == 0 {
		return nil
	}
	return decValue(v)
}
