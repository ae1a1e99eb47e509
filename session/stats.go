package session

import (
	"time"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/wsclient"
)

// ConnStats are one connection's counters and its parser's.
type ConnStats struct {
	Conn   Conn
	Topics int // streams subscribed (market connections)
	Client wsclient.Stats
	Parser normalize.Stats
	// Resubscribes counts the books of the connection resubscribed after
	// they broke on the live connection (an unsubscribe and a subscribe
	// of the book's channel and symbol written); ResubscribeErrors the
	// attempts that failed (OKX, Bybit, Coinbase).
	Resubscribes, ResubscribeErrors uint64
	// Refusals counts the venue's refusals of the connection's requests
	// (market connections: subscriptions, each also published as a
	// schema.ControlVenueError); RefusalRetries the rotations that asked
	// again after one, on its backoff (see the package doc).
	Refusals, RefusalRetries uint64
}

// OrderStats count the order connection's requests.
type OrderStats struct {
	Sent         uint64        // order requests written
	Answered     uint64        // answered by the venue (acks and refusals)
	TimedOut     uint64        // given up by their context before an answer, or unanswered Config.OrderAnswerTimeout (ErrNoAnswer)
	Disconnected uint64        // failed with ErrDisconnected or ErrClosed while waiting
	Pending      int           // waiting for an answer now
	UserDataSubs uint64        // user-data subscriptions signed and sent (one per connection); other venues: logins
	UserDataTS   time.Time     // the timestamp the latest one was signed with (the venue's time)
	Refused      uint64        // logins and private subscriptions refused (Binance: user-data subscriptions), unanswered ones included
	ClockOffset  time.Duration // venue clock minus local clock

	// Reconciliation (Binance, OKX, Bybit, Kraken, Coinbase; see the package doc): Tracked
	// is the open orders followed now, TrackOverflow those not followed
	// for Config.MaxTrackedOrders; Reconciliations counts passes (one per
	// subscription of the execution reports after the first),
	// Reconciled the execution reports published from the venue's
	// answers (Execution.Reconciled), Duplicates the streamed reports
	// dropped because they were delivered already (reconciled first, or,
	// with or without reconciliation, sent on both connections of a
	// private connection's rotation: see the package doc), ReconcileErrors the
	// queries that failed (each try), ReconcileGaps the orders given up
	// (a gap marker each), and ReconcileWeight what the queries spent of
	// the budget (Binance: request weight; OKX, Bybit, Coinbase: requests;
	// Kraken: private REST calls, see the package doc).
	// OpenCountKnown: the statuses followed are the venue's as of now (the
	// open orders read at the first subscription, and no loss of the
	// stream since the last pass ended), so MAX_NUM_ORDERS and its kin are
	// applied before sending (see Session.Place); false, the venue's
	// refusal tells.
	OpenCountKnown                 bool
	Tracked                        int
	TrackOverflow                  uint64
	Reconciliations, Reconciled    uint64
	Duplicates                     uint64
	ReconcileErrors, ReconcileGaps uint64
	ReconcileWeight                uint64
}

// BookStats are one book's state and counters.
type BookStats struct {
	Symbol string
	Live   bool
	Book   book.Stats
}

// Stats is a snapshot of the session's counters.
type Stats struct {
	Market []ConnStats
	Orders ConnStats // zero without credentials
	Trade  ConnStats // Bybit's trade connection (Endpoints.Trade); zero otherwise
	Order  OrderStats
	Books  []BookStats // in Config.Symbols order, for the symbols with a book
	Pools  []pool.Stats
	// OnStatePanics counts the panics of Config.OnState recovered (and
	// its runtime.Goexit calls; see Config.OnState).
	OnStatePanics uint64
}

// Stats returns the session's counters. Safe to call at any time, also
// after Close.
func (s *Session) Stats() Stats {
	st := Stats{Pools: s.pools.Stats(), OnStatePanics: s.onStatePanics.Load()}
	for _, b := range s.books {
		st.Books = append(st.Books, BookStats{Symbol: b.Symbol(), Live: b.Live(), Book: b.Stats()})
	}
	for i, sh := range s.shards {
		cs := ConnStats{Conn: Conn{Role: RoleMarket, Shard: i}, Topics: len(sh.topics),
			Client: sh.client.Stats(), Parser: sh.parser.Stats()}
		cs.Refusals, cs.RefusalRetries = sh.retry.refusals.Load(), sh.retry.retries.Load()
		if r := sh.resub; r != nil {
			cs.Resubscribes, cs.ResubscribeErrors = r.sent.Load(), r.failed.Load()
		}
		st.Market = append(st.Market, cs)
	}
	if o := s.orders; o != nil {
		st.Orders = ConnStats{Conn: Conn{Role: RoleOrders}, Client: o.client.Stats(), Parser: o.parser.Stats()}
		o.mu.Lock()
		st.Order = OrderStats{Sent: o.sent, Answered: o.answered, TimedOut: o.timedOut, Disconnected: o.lostInFly,
			Pending: len(o.pending) + len(o.graced), UserDataSubs: o.udsSent, Refused: o.udsRefused, ClockOffset: s.ClockOffset()}
		if o.udsTS != 0 {
			st.Order.UserDataTS = time.UnixMilli(o.udsTS)
		}
		o.mu.Unlock()
		o.rec.stats(&st.Order)
	}
	if p := s.private; p != nil {
		st.Orders = ConnStats{Conn: Conn{Role: RoleOrders}, Client: p.client.Stats(), Parser: p.parser.Stats()}
		p.mu.Lock()
		st.Order = OrderStats{UserDataSubs: p.logins, UserDataTS: p.loginTS, Refused: p.refusals, ClockOffset: s.ClockOffset()}
		p.mu.Unlock()
		p.orderStats(&st)
	}
	return st
}
