package session

import (
	"context"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// Rules are an instrument's trading rules. Filled in by loadInstruments.
type Rules struct{}

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
	for _, in := range ins {
		if c, err := s.syms.LookupString(in.Symbol); err == nil {
			s.listed[c] = true
		}
	}
	return nil
}

// checkRules validates req against its instrument's rules.
func (s *Session) checkRules(req *schema.OrderRequest) error { return nil }
