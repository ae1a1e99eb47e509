package session

import (
	"context"
	"fmt"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// loadInstruments loads the venue's instrument list so that symbols
// resolve exactly.
func (s *Session) loadInstruments(ctx context.Context) error {
	ctx, end := restDeadline(ctx, s.cfg.Client.Clock, s.cfg.RESTTimeout)
	ins, err := s.fetchInstruments(ctx)
	if err = end(err); err != nil {
		return err
	}
	if err := s.syms.Load(ins); err != nil {
		return err
	}
	s.listed = make(map[string]bool, len(ins))
	s.rules = make(map[string]normalize.InstrumentRules, len(ins))
	for _, in := range ins {
		if c, err := s.syms.LookupString(in.Symbol); err == nil {
			s.listed[c] = true
			s.rules[c] = in.Rules
		}
	}
	return nil
}

// fetchInstruments gets the venue's instrument list from its REST base
// (Endpoints.REST): Binance spot exchangeInfo, OKX SPOT instruments, Bybit
// spot instruments-info, Kraken AssetPairs, Coinbase Advanced Trade's
// public products.
func (s *Session) fetchInstruments(ctx context.Context) ([]normalize.Instrument, error) {
	c, base := s.cfg.HTTPClient, s.cfg.Endpoints.REST
	switch s.spec.venue {
	case schema.VenueOKX:
		return normalize.FetchOKXInstruments(ctx, c, base, "SPOT")
	case schema.VenueBybit:
		return normalize.FetchBybitInstruments(ctx, c, base, "spot")
	case schema.VenueKraken:
		return normalize.FetchKrakenInstruments(ctx, c, base)
	case schema.VenueCoinbase:
		return normalize.FetchCoinbaseInstruments(ctx, c, base, normalize.CoinbaseAdvancedProducts)
	}
	return normalize.FetchBinanceInstruments(ctx, c, base)
}

// Rules returns the order rules of a canonical symbol (tick size, step
// size, minimum and maximum quantity and notional), as the venue's
// instrument list gave them at Start; false for a symbol it does not
// list. Use them to size an order (MinQtyAt) or to round one (Round)
// before Place, which checks them.
func (s *Session) Rules(symbol string) (normalize.InstrumentRules, bool) {
	r, ok := s.rules[symbol]
	return r, ok
}

// checkRules validates req against its instrument's rules before it
// leaves: a *normalize.RuleError names the rule broken. A symbol the venue
// does not list is refused too.
//
// The instrument's trading status (InstrumentRules.Trading: halted, post
// only, …) is not applied: it is the one read at Start, and a venue lifts
// a halt or a post-only period without a word to a list read before, so
// that a session holding it would refuse the orders of a market open
// again until it restarts. The venue refuses an order its status does
// not take (its *VenueError tells); Rules(symbol).Trading says what the
// list said.
func (s *Session) checkRules(req *schema.OrderRequest) error {
	r, ok := s.rules[req.Symbol]
	if !ok {
		return fmt.Errorf("%w: %q is not in the venue's instrument list", ErrConfig, req.Symbol)
	}
	r.Trading = normalize.TradingUnknown
	if err := r.Check(req); err != nil {
		return err
	}
	return s.checkWorking(req)
}

// checkWorking applies Binance's MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS
// (spot "Filters": "the maximum number of orders an account is allowed to
// have open on a symbol", both kinds counted, and of them the stop and
// take-profit ones; USDⓈ-M the same, "limit"), and the exchange filters
// EXCHANGE_MAX_NUM_ORDERS and EXCHANGE_MAX_NUM_ALGO_ORDERS (the same over
// every symbol) to a place: the orders the session follows and still
// working, with req, must not exceed them. A *normalize.RuleError (Field
// "OpenOrders" or "OpenAlgoOrders", Rule "max" — "exchange max" for the
// exchange's —, Value the count with req, Limit the filter's) refuses it
// before it leaves; the venue would answer -2010 "Filter failure:
// MAX_NUM_ORDERS". The count is what the session follows (its own
// orders, those the stream showed, those open at the first
// subscription), applied only while their statuses are the venue's as of
// now: not before the first subscription's open orders are read, nor
// from a loss of the stream (or of a message on it) until the next
// reconciliation pass ran to its end — an order followed may have ended
// in the window, and counted it would refuse a place the venue takes —;
// an order a pass gave up on is not counted. Past
// Config.MaxTrackedOrders it is a lower bound, and places in flight are
// not in it: the venue's refusal then tells. Without reconciliation (no
// credentials) it does not apply.
func (s *Session) checkWorking(req *schema.OrderRequest) error {
	r := s.rules[req.Symbol]
	rec := s.reconciler()
	if req.Action != schema.ActionPlace || rec == nil ||
		(r.MaxNumOrders <= 0 && r.MaxNumAlgoOrders <= 0 && r.ExchangeMaxNumOrders <= 0 && r.ExchangeMaxNumAlgoOrders <= 0) {
		return nil
	}
	sym, every, known := rec.working(req.Symbol)
	if !known {
		return nil // the venue's refusal tells
	}
	algo := req.Type.Conditional()
	for _, b := range [...]struct {
		open        int
		limit       int
		field, rule string
		applies     bool
	}{
		{sym.all, r.MaxNumOrders, "OpenOrders", "max", true},
		{sym.algo, r.MaxNumAlgoOrders, "OpenAlgoOrders", "max", algo},
		{every.all, r.ExchangeMaxNumOrders, "OpenOrders", "exchange max", true},
		{every.algo, r.ExchangeMaxNumAlgoOrders, "OpenAlgoOrders", "exchange max", algo},
	} {
		if b.applies && b.limit > 0 && b.open+1 > b.limit {
			return &normalize.RuleError{Symbol: req.Symbol, Field: b.field, Rule: b.rule, Value: count(b.open + 1), Limit: count(b.limit)}
		}
	}
	return nil
}

// count is n as a Decimal.
func count(n int) schema.Decimal { return schema.NewDecimal(int64(n), 0) }

// reconciler is the session's reconciler, which follows its orders; nil
// when none.
func (s *Session) reconciler() *reconciler {
	switch {
	case s.orders != nil:
		return s.orders.rec
	case s.private != nil:
		return s.private.rec
	}
	return nil
}
