package session

import (
	"context"
	"errors"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// subscribeExecs hands every execution report to Config.OnExecReport as a
// pooled *schema.ExecReport. The reports come from a subscription of the
// session's own to the critical lane, so none is dropped and the handler
// runs on that subscription's goroutine, never on a connection's reader.
func (s *Session) subscribeExecs(ctx context.Context) error {
	h := s.cfg.OnExecReport
	_, err := s.disp.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, &dispatch.SubscribeOptions{
		Name: "session.execs",
		Handler: func(ev *schema.CanonicalEvent) {
			if ev.Type != schema.EventExecReport {
				return // a gap marker of the execution reports reaches this filter too (see Config.OnExecReport)
			}
			r, err := s.execReport(ctx)
			if err != nil {
				return // the session is closing
			}
			r.Venue, r.Symbol, r.SeqProvider = ev.Venue, ev.Symbol, ev.SeqProvider
			r.ExchangeTS, r.IngestTS, r.TraceID, r.DecisionID = ev.ExchangeTS, ev.IngestTS, ev.TraceID, ev.DecisionID
			r.Execution = ev.ExecOrZero()
			h(r)
		},
	})
	return err
}

// subscribeAccount hands every account update to Config.OnAccount from a
// subscription of the session's own to the critical lane.
func (s *Session) subscribeAccount() error {
	_, err := s.disp.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBalance, schema.EventPosition}}, &dispatch.SubscribeOptions{
		Name:    "session.account",
		Handler: s.cfg.OnAccount,
	})
	return err
}

// execReport takes a report from the pool. When the handler holds every
// one (it must Put them), the reports wait for one to come back — none is
// dropped — and the log says so, once per wait, rather than the execution
// reports stalling silently.
func (s *Session) execReport(ctx context.Context) (*schema.ExecReport, error) {
	r, err := s.pools.Execs.TryGet()
	if !errors.Is(err, pool.ErrExhausted) {
		return r, err
	}
	if s.cfg.Logger != nil {
		s.cfg.Logger.Warn("session: every pooled ExecReport is held by OnExecReport; execution reports wait until one is Put back",
			"capacity", s.pools.Execs.Capacity())
	}
	return s.pools.Execs.Get(ctx) // fails only once the session is closing
}
