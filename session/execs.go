package session

import (
	"context"

	"github.com/meltica/meltica/dispatch"
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
			r, err := s.pools.Execs.Get(ctx) // fails only once the session is closing
			if err != nil {
				return
			}
			r.Venue, r.Symbol, r.SeqProvider = ev.Venue, ev.Symbol, ev.SeqProvider
			r.ExchangeTS, r.IngestTS, r.TraceID, r.DecisionID = ev.ExchangeTS, ev.IngestTS, ev.TraceID, ev.DecisionID
			r.Execution = ev.Exec
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
