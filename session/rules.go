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
	ctx, cancel := context.WithTimeout(ctx, DefaultRESTTimeout)
	defer cancel()
	ins, err := normalize.FetchBinanceInstruments(ctx, s.cfg.HTTPClient, s.cfg.Endpoints.REST)
	if err != nil {
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
func (s *Session) checkRules(req *schema.OrderRequest) error {
	r, ok := s.rules[req.Symbol]
	if !ok {
		return fmt.Errorf("%w: %q is not in the venue's instrument list", ErrConfig, req.Symbol)
	}
	return r.Check(req)
}
