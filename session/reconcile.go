package session

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Defaults of reconciliation (see the package doc, "Execution reports
// across reconnects").
const (
	// DefaultMaxTrackedOrders is how many open orders the session follows
	// at most (Config.MaxTrackedOrders).
	DefaultMaxTrackedOrders = 10000
	// DefaultReconcileWeight is the Binance request weight per minute
	// reconciliation may spend (Config.ReconcileWeight): a fifth of
	// Binance's 6000 per minute per IP ("Rate limits"), so that orders,
	// book snapshots and the host's own requests keep the rest.
	DefaultReconcileWeight = 1200
	// DefaultReconcileOKX is the OKX requests per minute reconciliation
	// may spend: a fifth of the 60 per 2 s that each of its queries
	// ("Get order details", "Get transaction details", "Get order List")
	// allows per user ID.
	DefaultReconcileOKX = 360
	// DefaultReconcileBybit is the Bybit requests per minute
	// reconciliation may spend: a fifth of the 50 per second per UID of
	// /v5/order/realtime, /v5/order/history and /v5/execution/list (Bybit
	// v5 "Rate Limit Rules").
	DefaultReconcileBybit = 600
	// reconcileTries is how often a query is tried before the order is
	// given up (a gap marker).
	reconcileTries = 5
	// recentCap is how many orders that ended are remembered, so that a
	// late report or answer of one does not track it again.
	recentCap = 1024
	// tradeIDsCap is the trade ids an order is made with room for.
	tradeIDsCap = 8
	// unsureCap bounds the placements whose outcome is unknown that the
	// session looks up.
	unsureCap = 256
	// maxFills bounds the fills read for one order: past them it is given
	// up.
	maxFills = 10000
	// maxOpenPages bounds the pages of open orders read at the first
	// subscription.
	maxOpenPages = 200
	// jumpGrace is how long an order whose streamed cumulative quantity
	// jumped past the fills delivered waits before it is asked about: a
	// venue whose order and fill reports come on two topics in either
	// order (Bybit's order and execution) covers the jump meanwhile.
	jumpGrace = time.Second
	// jumpEvery is how often one order is asked about for jumps at most.
	jumpEvery = 10 * time.Second
)

// orderKey names an order: its canonical symbol and the venue's order id
// (or, for a placement of unknown outcome, its client order id).
type orderKey struct {
	symbol string
	id     schema.ID
}

// tracked is an order the session follows until it ends.
type tracked struct {
	status schema.OrderStatus
	// floor is the quantity filled before the session first saw the order
	// (placed elsewhere, before Start): its fills are not the session's to
	// deliver. 0 for the session's own orders.
	floor schema.Decimal
	// delivered is the quantity of the fills handed to the host, streamed
	// or reconciled; trades their ids (the venue's, as sent: Binance's and
	// OKX's are integers, Bybit's execIds UUIDs).
	delivered schema.Decimal
	trades    []schema.ID
	// anon: the stream delivered fills without the venue's trade id
	// (Coinbase's user channel reports an order's cumulative quantities,
	// not its fills): they are matched with the queries' by quantity,
	// floor + delivered being the order's fills up to there. quoteAt is
	// the order's cumulative quote quantity at floor + delivered;
	// feeSince the fees of the fills reconciliation delivered since the
	// order's last streamed report.
	anon              bool
	quoteAt, feeSince schema.Decimal
	// streamed: first seen on the stream (placed elsewhere), not from the
	// session's Place, the open orders or a lookup.
	streamed bool
	// cum is the largest executed quantity a streamed report gave: the
	// order's end is known once the fills delivered make it up, whichever
	// report (its end, or a fill streamed after it) comes last.
	cum schema.Decimal
	// algo: a stop or take-profit order (Binance's "algo" orders, counted
	// by MAX_NUM_ALGO_ORDERS), as its latest report with a type said.
	algo bool
	// stale: a pass gave up on the order; its status is not known as of
	// now (not counted by working) until a report or a pass tells it.
	stale bool
	// asked: when the order was last asked about for a jump of its
	// cumulative quantity (see reconciler.jumped); lagged: that query found
	// the venue's fills short of its order's executed quantity, and it is
	// asked once more before a gap marker says so (see askJump).
	asked  time.Time
	lagged bool
}

// setType notes the order's type, when a report gives one.
func (t *tracked) setType(typ schema.OrderType) {
	if typ != schema.OrderTypeUnknown {
		t.algo = typ.Conditional()
	}
}

// openCount is how many followed orders are still working (not in a
// final status), and of them the stop and take-profit ones.
type openCount struct{ all, algo int }

func (c *openCount) add(t *tracked) {
	c.all++
	if t.algo {
		c.algo++
	}
}

// working counts the followed orders still working, of symbol and of
// every symbol. known is false while the statuses are not the venue's as
// of now: before the open orders were read at the first subscription,
// and from a loss of the stream (or of a message on it) until the next
// pass ran to its end — the orders followed then may have ended in the
// window (an upper bound) or been opened elsewhere (a lower one). An
// order the pass gave up on is not counted (its status is not known).
func (r *reconciler) working(symbol string) (sym, every openCount, known bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, t := range r.orders {
		if t.status.Final() || t.stale {
			continue
		}
		every.add(t)
		if k.symbol == symbol {
			sym.add(t)
		}
	}
	return sym, every, r.counted
}

func (t *tracked) has(trade *schema.ID) bool {
	for i := range t.trades {
		if bytes.Equal(t.trades[i].Bytes(), trade.Bytes()) {
			return true
		}
	}
	return false
}

// grown takes a streamed fill without the venue's trade id (Coinbase: the
// growth of the order's cumulative quantity since its last report, at the
// growth's average price) and reports whether reconciliation delivered all
// of it already (a duplicate). A fill it delivered in part is cut to the
// rest: LastFillQty what is new, LastFillPrice the growth of the
// cumulative quote quantity over it, Fee the fees less those of the fills
// delivered since the order's last report.
func (t *tracked) grown(x *schema.Execution) (dup bool) {
	t.anon = true
	known, _ := t.floor.Add(t.delivered)
	if x.CumFillQty.Cmp(known) <= 0 {
		t.feeSince, _ = t.feeSince.Sub(x.Fee) // what is left is of fills after this report
		return true
	}
	if from, _ := x.CumFillQty.Sub(x.LastFillQty); from.Cmp(known) < 0 {
		last, _ := x.CumFillQty.Sub(known)
		if quote, err := x.CumQuoteQty.Sub(t.quoteAt); err == nil && quote.Sign() > 0 && t.quoteAt.Sign() > 0 {
			scale := min(max(x.LastFillPrice.Scale(), x.Price.Scale(), quote.Scale())+2, schema.MaxScale)
			if p, err := quote.Div(last, scale, schema.RoundHalfEven); err == nil {
				x.LastFillPrice = p
			}
		}
		x.LastFillQty = last
		x.Fee, _ = x.Fee.Sub(t.feeSince)
	}
	t.delivered, _ = x.CumFillQty.Sub(t.floor)
	t.quoteAt, t.feeSince = x.CumQuoteQty, schema.Decimal{}
	return false
}

// covered reports whether the fills delivered (and those before the
// session saw the order) make up cum, the venue's executed quantity.
func (t *tracked) covered(cum schema.Decimal) bool {
	known, _ := t.floor.Add(t.delivered)
	return cum.Cmp(known) <= 0
}

// queryBackend asks one venue about orders. Each call is one try of one
// query (Bybit's order lookup may take two requests); the reconciler
// paces, retries and pages. conn is the order connection a WebSocket
// backend asks on (Binance); the REST backends ignore it.
type queryBackend interface {
	// budget is the default budget per minute (Config.ReconcileWeight
	// overrides it) and the cost of each query in it.
	budget() (perMinute int, order, fills, open int)
	// order asks for one order by its venue id (key.id), or by its client
	// order id when byClient.
	order(ctx context.Context, conn uint64, key orderKey, byClient bool) ([]normalize.QueryOrder, error)
	// fills reads one page of an order's fills from cursor ("": the
	// first), appending to dst; next is "" after the last page.
	fills(ctx context.Context, conn uint64, key orderKey, cursor string, dst []normalize.QueryFill) (all []normalize.QueryFill, next string, err error)
	// open reads one page of the account's open orders.
	open(ctx context.Context, conn uint64, cursor string, dst []normalize.QueryOrder) (all []normalize.QueryOrder, next string, err error)
	// rules are how the venue's refusals are taken.
	rules() *refusalRules
}

// refusalRules classify a venue's refusals of a query.
type refusalRules struct {
	rateStatus []int   // HTTP statuses of a rate limit
	rateCodes  []int64 // venue codes of a rate limit
	retryCodes []int64 // codes that may pass when tried again (busy, timestamp)
	missing    []int64 // the order does not exist
	clockCodes []int64 // the request's timestamp is off the venue's clock: the offset is measured again
	// duplicate: a place refused for its client order id, an order's the
	// venue has (with duplicateMsg in the message, any case, when set:
	// Binance's -2010 is every matching-engine refusal). See duplicateOf.
	duplicate    []int64
	duplicateMsg string
	// doubtful: any refusal of a place whose client order id was of a
	// place of unknown outcome lately is looked up as a duplicate may be
	// (Kraken, which documents that cl_ord_id is unique among open orders
	// but not the error its refusal of a duplicate carries).
	doubtful bool
}

// duplicated reports whether verr, the refusal of a place, may say that
// the venue has an order under its client order id; doubtful: that id
// was of a place of unknown outcome lately.
func (rr *refusalRules) duplicated(verr *VenueError, doubtful bool) bool {
	if rr.doubtful && doubtful {
		return true
	}
	return slices.Contains(rr.duplicate, verr.Code) &&
		(rr.duplicateMsg == "" || strings.Contains(strings.ToLower(verr.Msg), strings.ToLower(rr.duplicateMsg)))
}

// refusal is a venue's refusal as the rules need it: its HTTP (or WS-API)
// status and code.
func refusal(err error) (status int, code int64, ok bool) {
	var berr *normalize.BinanceQueryError
	if errors.As(err, &berr) {
		return int(berr.Status), berr.Code, true
	}
	var qerr *normalize.QueryError
	if errors.As(err, &qerr) {
		return qerr.Status, qerr.Code, true
	}
	return 0, 0, false
}

// rateLimited reports whether the venue refused a query for its limits.
func (rr *refusalRules) rateLimited(err error) bool {
	status, code, ok := refusal(err)
	return ok && (slices.Contains(rr.rateStatus, status) || slices.Contains(rr.rateCodes, code))
}

// retryable reports whether a failed query may pass when tried again: the
// venue busy or over its limits (its codes, 429 and 5xx), a timestamp
// outside the window (signed anew each try), no answer in time, or an
// answer that could not be read.
func (rr *refusalRules) retryable(err error) bool {
	if status, code, ok := refusal(err); ok {
		return rr.rateLimited(err) || slices.Contains(rr.retryCodes, code) || status >= 500
	}
	return !errors.Is(err, errConnLost) && !errors.Is(err, context.Canceled) && !errors.Is(err, errNoSuchOrder)
}

// notFound reports whether the venue says the order does not exist.
func (rr *refusalRules) notFound(err error) bool {
	_, code, ok := refusal(err)
	return errors.Is(err, errNoSuchOrder) || (ok && slices.Contains(rr.missing, code))
}

// errNoSuchOrder: a venue answered an order lookup with no order (Bybit's
// queries answer an empty list).
var errNoSuchOrder = errors.New("session: the venue has no such order")

// ended is an order no longer followed: it ended, every fill delivered,
// with status end.
type ended struct {
	end schema.OrderStatus
}

// seenEnd is an order's end delivered from the stream without following
// the order, and the fill that report carried (trade id zero: none).
type seenEnd struct {
	key    orderKey
	status schema.OrderStatus
	trade  schema.ID
	qty    schema.Decimal
}

// reconciler keeps the open orders and, after a window without the
// venue's stream of execution reports, asks the venue what became of them.
type reconciler struct {
	s *Session
	q queryBackend

	mu       sync.Mutex // guards the orders and orders the reports: held while publishing
	orders   map[orderKey]*tracked
	recent   map[orderKey]ended // no longer followed
	ring     [recentCap]orderKey
	ringNext int
	max      int
	unsure   map[orderKey]struct{} // placements not answered, by symbol and client order id
	// endedSeen: the latest orders whose first streamed report was their
	// end, with its fill (not followed: placed elsewhere, as far as the
	// stream could tell): a lookup that finds one of them the session's
	// own (a place of unknown outcome whose report came before its
	// answer) follows it with that fill and end delivered (adopt).
	endedSeen     [unsureCap]seenEnd
	endedSeenNext int
	// doubtful: the latest placements of unknown outcome (by symbol and
	// client order id), kept after the lookups: see refusalRules.doubtful.
	doubtful      map[orderKey]struct{}
	doubtRing     [unsureCap]orderKey
	doubtRingNext int
	accepted      bool // a subscription was accepted before
	opened        bool // the open orders were read (trackOpen ran to its end)
	counted       bool // the statuses followed are the venue's as of now (see working)
	// untold: since the last pass, an order was not followed
	// (MaxTrackedOrders, or more than unsureCap placements of unknown
	// outcome) or a place of unknown outcome had no client order id to
	// look it up by: the next pass cannot reconcile them, and says so
	// (untoldGap).
	untold bool
	cancel context.CancelFunc // of the running pass
	done   chan struct{}      // closed when the running pass ends
	conn   uint64             // the connection of the latest subscription accepted (Binance's queries go on it)
	// jumps: the orders a streamed report said filled past the fills
	// delivered with the stream up (a fill lost in transit), each with
	// when it may be asked about; at most unsureCap. jumpWake tells
	// askJumps, the goroutine that asks (jumping: started), of a new one.
	jumps    map[orderKey]time.Time
	jumpWake chan struct{}
	jumping  bool

	bucket           weightBucket
	order, fill, opn int // the queries' costs in the bucket

	passes, reconciled, errs, gaps, dups, overflow, weight atomic.Uint64
	tracked                                                atomic.Int64 // len(orders), for Stats without r.mu
}

func newReconciler(s *Session, q queryBackend) *reconciler {
	r := &reconciler{s: s, q: q, orders: map[orderKey]*tracked{}, recent: map[orderKey]ended{}, unsure: map[orderKey]struct{}{},
		doubtful: map[orderKey]struct{}{}, max: s.cfg.MaxTrackedOrders}
	if r.max <= 0 {
		r.max = DefaultMaxTrackedOrders
	}
	w, order, fill, opn := q.budget()
	if s.cfg.ReconcileWeight > 0 {
		w = s.cfg.ReconcileWeight
	}
	r.order, r.fill, r.opn = order, fill, opn
	r.bucket = weightBucket{perMinute: float64(w), tokens: float64(w), now: r.now}
	return r
}

func (r *reconciler) now() time.Time { return r.s.cfg.Client.Clock.Now() }

// sleep waits d on the configured clock, or until ctx ends.
func (r *reconciler) sleep(ctx context.Context, d time.Duration) error {
	return r.s.cfg.Client.Clock.Sleep(ctx, d)
}

// ---- the streamed side: the connection's reader ----

// stream takes a streamed execution report: it updates the order's
// tracking and publishes the report, unless it was delivered already
// (reconciled first): then the report is dropped, counted in
// OrderStats.Duplicates.
func (r *reconciler) stream(ctx context.Context, ev *schema.CanonicalEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.observe(ev) {
		r.dups.Add(1)
		r.s.pools.Events.Put(ev)
		return nil
	}
	return r.s.disp.Publish(ctx, ev)
}

// observe updates the tracking with a streamed report and reports whether
// it was delivered before (caller holds r.mu). It allocates nothing for an
// order already tracked whose trade ids have room.
func (r *reconciler) observe(ev *schema.CanonicalEvent) (dup bool) {
	x := ev.Exec
	if x == nil {
		return false // names no order, as one whose VenueOrderID is zero: published, not followed
	}
	key := orderKey{symbol: ev.Symbol, id: x.VenueOrderID}
	t := r.orders[key]
	isTrade, anon := tradeID(x), anonTrade(x)
	if t == nil {
		if e, gone := r.recent[key]; gone {
			// The order ended with every fill delivered: a fill now is one
			// delivered again, as is the end reconciliation published.
			// Another status report (Bybit's order topic after its
			// execution topic) is new.
			return x.ExecType == schema.ExecTrade || (x.Status == e.end && x.ExecType != schema.ExecUnknown && x.ExecType != schema.ExecOrderStatus)
		}
		// A Place of unknown outcome the stream shows before the lookup
		// by its client order id answers is the session's own: its fills
		// are the session's to deliver from the first (were it followed as
		// placed elsewhere and ended on the stream, it would be forgotten
		// with the window's fills taken as before the session).
		_, own := r.unsure[orderKey{symbol: ev.Symbol, id: x.ClientOrderID}]
		own = own && !x.ClientOrderID.IsZero()
		if x.VenueOrderID.IsZero() {
			return false
		}
		if x.Status.Final() && !own {
			e := &r.endedSeen[r.endedSeenNext]
			e.key, e.status, e.trade, e.qty = key, x.Status, schema.ID{}, schema.Decimal{}
			if isTrade {
				e.trade, e.qty = x.TradeID, x.LastFillQty
			}
			r.endedSeenNext = (r.endedSeenNext + 1) % unsureCap
			return false
		}
		// First seen on the stream (placed elsewhere, or before Start):
		// what had filled before this report is not ours to deliver.
		floor := x.CumFillQty
		if isTrade || anon {
			floor, _ = x.CumFillQty.Sub(x.LastFillQty)
		}
		if own && !anon { // (Coinbase, whose fills are anonymous, places no order)
			floor = schema.Decimal{}
		}
		if t = r.track(key, floor); t == nil {
			return false
		}
		t.streamed = !own
	}
	// A report delivered already (reconciled first) is dropped, but what
	// it says of the order's end still counts: the pass may have delivered
	// the last fill while its order query, a moment older, said open.
	dup = anon && t.grown(x)
	switch {
	case dup || !isTrade:
	case t.has(&x.TradeID):
		dup = true
	default:
		t.trades = append(t.trades, x.TradeID)
		// A fill within the floor (its report late behind the one the
		// floor was read from: Bybit's order topic, the open orders) is
		// the floor's already.
		if x.CumFillQty.Sign() == 0 || x.CumFillQty.Cmp(t.floor) > 0 {
			t.delivered, _ = t.delivered.Add(x.LastFillQty)
		}
	}
	// An end is final: a report older than it (Bybit's execution topic's
	// fill, PartiallyFilled at its time, after the order topic's
	// PartiallyFilledCanceled: the two topics come in either order) does
	// not bring the order back to life.
	t.setType(x.Type)
	t.stale = false
	prev := t.status
	if x.Status != schema.StatusUnknown && !t.status.Final() {
		t.status = x.Status
	}
	if dup && x.Status.Final() && !prev.Final() {
		// Its fill delivered, but not its end (a pass's order query, a
		// moment older, said open; Coinbase reports a fill and the cancel
		// after it in one report): the end is news, told without the fill.
		statusOnly(x)
		dup = false
	}
	// An order is forgotten once it ended and its fills are delivered:
	// Bybit streams the end (order topic) and the fills (execution topic)
	// apart, in either order.
	if x.CumFillQty.Cmp(t.cum) > 0 {
		t.cum = x.CumFillQty
	}
	if t.status.Final() && t.covered(t.cum) {
		r.forget(key, ended{end: t.status})
	} else if !t.covered(t.cum) {
		r.jumped(key, t)
	}
	return dup
}

// jumped is told that a streamed report of the followed order key said
// more had filled (its cumulative quantity: Binance z, OKX accFillSz,
// Bybit cumExecQty, Kraken cum_qty, Coinbase cumulative_quantity) than
// the fills delivered make up, with the stream up: a fill report lost in
// transit, or one still coming on another topic (Bybit's execution topic
// after its order topic). After jumpGrace, and at most once per jumpEvery
// per order, askJumps asks the venue about the order alone and delivers
// the fills it lacks (their trade ids keep each one delivered once), or a
// gap marker when the venue cannot say (fills listed short of an open
// order's executed quantity: after asking once more). No pass starts, none is cut
// short: a burst of such reports costs one query per order. Caller holds
// r.mu; it allocates only when an order jumps first.
func (r *reconciler) jumped(key orderKey, t *tracked) {
	if !r.accepted || r.s.dying.Err() != nil {
		return // before the first subscription: the open orders are read then
	}
	if _, ok := r.jumps[key]; ok || len(r.jumps) >= unsureCap {
		return // asked about already; past the bound, a later report or the next pass does
	}
	now := r.now()
	if t.asked.After(now) {
		t.asked = time.Time{} // asked at a time the clock stepped back from: when is not known
	}
	at := now.Add(jumpGrace)
	if next := t.asked.Add(jumpEvery); next.After(at) {
		at = next
	}
	if r.jumps == nil {
		r.jumps, r.jumpWake = map[orderKey]time.Time{}, make(chan struct{}, 1)
	}
	r.jumps[key] = at
	if !r.jumping {
		r.jumping = true
		r.s.bg.Add(1)
		go r.askJumps()
	}
	select {
	case r.jumpWake <- struct{}{}:
	default:
	}
}

// askJumps asks the venue about the orders jumped noted, each when due
// and while no pass runs (a pass asks about every order), until the
// session closes.
func (r *reconciler) askJumps() {
	defer r.s.bg.Done()
	ctx := r.s.dying
	for {
		r.mu.Lock()
		key, wait, due := r.nextJump()
		conn, pass := r.conn, r.done
		r.mu.Unlock()
		switch {
		case !due:
			if !r.jumpSleep(ctx, wait) {
				return
			}
		case running(pass):
			// The pass asks about the order too: once it ended, whether
			// the order is still short is looked at again.
			select {
			case <-pass:
			case <-ctx.Done():
				return
			}
		default:
			r.askJump(ctx, conn, key)
		}
	}
}

// running reports whether the pass whose end closes done runs.
func running(done <-chan struct{}) bool {
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// nextJump is the order to ask about now (due), or how long until the
// next is due (wait; 0: none noted). Orders no longer followed, or whose
// fills now make up what the stream said, are dropped (caller holds
// r.mu).
func (r *reconciler) nextJump() (key orderKey, wait time.Duration, due bool) {
	now := r.now()
	for k, at := range r.jumps {
		if t := r.orders[k]; t == nil || t.covered(t.cum) {
			if t != nil {
				t.lagged = false // (the stream made it up)
			}
			delete(r.jumps, k)
			continue
		}
		if d := at.Sub(now); d > 0 {
			if d > jumpEvery { // noted before the clock stepped back
				d = jumpEvery
				r.jumps[k] = now.Add(d)
			}
			if wait == 0 || d < wait {
				wait = d
			}
			continue
		}
		return k, 0, true
	}
	return orderKey{}, wait, false
}

// askJump asks the venue about one order that jumped (see jumped); a query
// the venue refused or left unanswered gets a gap marker, as in a pass. A
// lost connection's pass asks again. An order whose fills the venue lists
// short of what its order query says executed (the venue's fill list a
// moment behind its order: the stream is up, the fill just made; for an
// order that ended, right after its final report) is asked once more
// jumpEvery later before the marker (and, for one that ended, before its
// end): a marker, then the fill it said may be lost, would be a false
// alarm. A pass started while the query was in flight asks about the
// order after it did: the pass's answer is the order's, and the query's
// adds no marker (one loss, one marker).
func (r *reconciler) askJump(ctx context.Context, conn uint64, key orderKey) {
	r.mu.Lock()
	delete(r.jumps, key)
	t := r.orders[key]
	if t == nil {
		r.mu.Unlock()
		return
	}
	t.asked = r.now()
	// again: a short answer is asked once more, when the jump list has
	// room for it (decided here: an ended order's end is withheld for it).
	again, pass := !t.lagged && len(r.jumps) < unsureCap, r.done
	r.mu.Unlock()
	err := r.reconcile(ctx, conn, key, again)
	r.mu.Lock()
	passed := r.done != pass
	r.mu.Unlock()
	if err == nil || ctx.Err() != nil || errors.Is(err, errConnLost) || passed {
		r.mu.Lock()
		if t := r.orders[key]; t != nil && err == nil && !passed {
			t.lagged = false
		}
		r.mu.Unlock()
		return
	}
	if errors.Is(err, errFillsShort) && again {
		r.mu.Lock()
		if t := r.orders[key]; t != nil {
			t.lagged = true
			if _, noted := r.jumps[key]; !noted { // (a report meanwhile noted it already)
				r.jumps[key] = t.asked.Add(jumpEvery)
			}
		}
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	if t := r.orders[key]; t != nil {
		t.lagged = false // told now: a later jump is asked twice too
	}
	r.mu.Unlock()
	r.gap(ctx, key, err, false)
}

// jumpSleep waits wait on the session's clock (0: until an order jumps),
// or until an order jumps; false when the session closes.
func (r *reconciler) jumpSleep(ctx context.Context, wait time.Duration) bool {
	var tc <-chan time.Time
	if wait > 0 {
		tm := r.s.cfg.Client.Clock.NewTimer(wait)
		defer tm.Stop()
		tc = tm.C()
	}
	select {
	case <-tc:
	case <-r.jumpWake:
	case <-ctx.Done():
		return false
	}
	return true
}

// statusOnly makes a report of a fill delivered already the report of its
// order's end alone: no fill is counted twice.
func statusOnly(x *schema.Execution) {
	x.ExecType = schema.ExecOrderStatus // Filled: a status report (FIX 150=I)
	if x.Status != schema.StatusFilled {
		x.ExecType = endExecType(x.Status)
	}
	x.TradeID, x.FeeAsset = schema.ID{}, schema.ID{}
	x.LastFillQty, x.LastFillPrice, x.Fee, x.RealizedPnL = schema.Decimal{}, schema.Decimal{}, schema.Decimal{}, schema.Decimal{}
	x.IsMaker = false
}

// ack tracks an order the venue acknowledged to Place. An answer that
// says the order ended (a cancel's) ends nothing: the stream's report of
// the end, or a reconciliation if that report is lost, does.
func (r *reconciler) ack(ev *schema.CanonicalEvent) {
	x := ev.Exec
	if x == nil || x.VenueOrderID.IsZero() || ev.Symbol == "" || x.Status.Final() {
		return
	}
	key := orderKey{symbol: ev.Symbol, id: x.VenueOrderID}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch t := r.orders[key]; {
	case t != nil:
		// The session's own, even when its report came first: every fill
		// is the session's to deliver, those before the first report the
		// stream gave too (lost on the way: the next pass reads them).
		if t.streamed {
			t.floor = schema.Decimal{}
		}
		t.streamed = false
		t.setType(x.Type)
	case !r.forgotten(key):
		if t = r.track(key, schema.Decimal{}); t != nil {
			t.setType(x.Type)
		}
	}
}

// tradeID reports whether a report is a fill with the venue's trade id.
func tradeID(x *schema.Execution) bool {
	return x.ExecType == schema.ExecTrade && !x.TradeID.IsZero()
}

// anonTrade reports whether a report is a fill without the venue's trade
// id (Coinbase's user channel: see tracked.grown).
func anonTrade(x *schema.Execution) bool {
	return x.ExecType == schema.ExecTrade && x.TradeID.IsZero() && x.LastFillQty.Sign() > 0
}

// parseTradeID reads a decimal trade id without allocating.
func parseTradeID(b []byte) (uint64, bool) {
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' || n > (1<<64-1)/10-1 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, len(b) > 0
}

// track starts following an order, or counts and logs an overflow
// (caller holds r.mu).
func (r *reconciler) track(key orderKey, floor schema.Decimal) *tracked {
	if len(r.orders) >= r.max {
		n := r.overflow.Add(1)
		if n&(n-1) == 0 && r.s.cfg.Logger != nil { // the 1st, 2nd, 4th, 8th, …
			r.s.cfg.Logger.Warn("session: too many open orders to follow; an order not followed is not reconciled after a reconnect",
				"max", r.max, "overflow", n, "symbol", key.symbol, "order_id", key.id.String())
		}
		r.untold = true
		return nil
	}
	t := &tracked{status: schema.StatusNew, floor: floor, trades: make([]schema.ID, 0, tradeIDsCap)}
	r.orders[key] = t
	r.tracked.Store(int64(len(r.orders)))
	return t
}

// forget ends an order's tracking and remembers that it ended, and how
// (caller holds r.mu).
func (r *reconciler) forget(key orderKey, e ended) {
	delete(r.orders, key)
	r.tracked.Store(int64(len(r.orders)))
	if old := r.ring[r.ringNext]; old.symbol != "" {
		delete(r.recent, old)
	}
	r.ring[r.ringNext] = key
	r.ringNext = (r.ringNext + 1) % recentCap
	r.recent[key] = e
}

func (r *reconciler) forgotten(key orderKey) bool {
	_, ok := r.recent[key]
	return ok
}

// ask runs one query with retries: after waiting for cost in the budget,
// try; between tries the connections' backoff (Client.BackoffBase,
// doubling, at most Client.BackoffCap), each failure counted and logged;
// a rate-limit refusal empties the budget. It returns the last error when
// it gives up.
func (r *reconciler) ask(ctx context.Context, what string, key orderKey, cost int, try func() error) error {
	base, ceil := r.s.cfg.Client.BackoffBase, r.s.cfg.Client.BackoffCap
	if base <= 0 {
		base = wsclient.DefaultBackoffBase
	}
	if ceil < base {
		ceil = max(base, wsclient.DefaultBackoffCap)
	}
	rules := r.q.rules()
	var err error
	for n := 1; ; n++ {
		if err = r.bucket.take(ctx, float64(cost), r.sleep); err != nil {
			return err
		}
		r.weight.Add(uint64(cost))
		if err = try(); err == nil {
			return nil
		}
		if errors.Is(err, errConnLost) || (ctx.Err() != nil && ctxEnded(err)) {
			return err // the pass ended (a newer one took over, Close): no failure of the query
		}
		if rules.notFound(err) {
			return err // an answer, not a failure: the caller decides
		}
		// A failure is counted even when the pass's ctx ended since: the
		// venue's answer came first (a 503 read just as a newer pass
		// cancelled this one went uncounted).
		r.errs.Add(1)
		if rules.rateLimited(err) {
			r.bucket.drain() // every query waits for the budget to refill, not only this one
		}
		if r.s.cfg.Logger != nil {
			r.s.cfg.Logger.Warn("session: reconciliation query failed", "venue", string(r.s.spec.venue), "query", what,
				"symbol", key.symbol, "order_id", key.id.String(), "try", n, "err", err)
		}
		if ctx.Err() != nil || n >= reconcileTries || !rules.retryable(err) {
			return err
		}
		if _, code, ok := refusal(err); ok && slices.Contains(rules.clockCodes, code) && r.s.syncsClock() {
			// The local clock stepped since the login measured the offset:
			// signed anew with the same offset, every try would be refused.
			if serr := r.s.clock.sync(ctx, r.s.cfg.HTTPClient, r.s.spec.venue, r.s.cfg.Endpoints.REST); serr != nil && r.s.cfg.Logger != nil && ctx.Err() == nil {
				r.s.cfg.Logger.Warn("session: clock offset not measured; keeping the last one", "venue", string(r.s.spec.venue), "err", serr)
			}
		}
		if serr := r.sleep(ctx, min(base<<min(n-1, 20), ceil)); serr != nil {
			return serr
		}
	}
}

// ---- passes ----

// subscribed is told that the venue accepted the subscription of the
// execution reports on conn. After the first, a window without the stream
// has passed: a new pass reconciles every open order (the running one, if
// any, is stopped first). It never blocks: the pass runs on a goroutine of
// the session's.
func (r *reconciler) subscribed(conn uint64) {
	s := r.s
	r.mu.Lock()
	first := !r.accepted
	r.accepted, r.counted, r.conn = true, false, conn
	if r.cancel != nil {
		r.cancel()
	}
	ctx, cancel := context.WithCancel(s.dying)
	prev, done := r.done, make(chan struct{})
	r.cancel, r.done = cancel, done
	r.mu.Unlock()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer close(done)
		defer cancel()
		if prev != nil {
			<-prev
		}
		if !first {
			r.pass(ctx, conn)
		}
		// The open orders, read at the first subscription; again at the
		// next while a loss cut the reading short (after the pass, whose
		// lookups follow the session's own placements from nothing).
		r.mu.Lock()
		opened := r.opened
		r.mu.Unlock()
		if !opened && ctx.Err() == nil && r.trackOpen(ctx, conn) {
			r.mu.Lock()
			r.opened = true
			r.mu.Unlock()
		}
		r.mu.Lock()
		if r.done == done && r.opened && ctx.Err() == nil {
			r.counted = true // this pass, the latest, ran to its end
		}
		r.mu.Unlock()
	}()
}

// missed is told that conn, subscribed, lost a message the venue sent (a
// gap in the connection's sequence): a pass reconciles every open order,
// as after a reconnect. Before the first subscription was accepted there
// is nothing to reconcile: the open orders are read then.
func (r *reconciler) missed(conn uint64) {
	r.mu.Lock()
	accepted := r.accepted
	r.mu.Unlock()
	if accepted {
		r.subscribed(conn)
	}
}

// lost stops the running pass: its connection is gone.
func (r *reconciler) lost() {
	r.mu.Lock()
	r.counted = false
	if r.cancel != nil {
		r.cancel()
	}
	r.mu.Unlock()
}

// trackOpen asks, at the first subscription, for the account's open
// orders, so that orders placed before Start are followed too: what they
// had filled is theirs, not the session's to deliver. It reports false
// when the connection's loss (or Close) cut it short: the next
// subscription reads them again.
func (r *reconciler) trackOpen(ctx context.Context, conn uint64) (read bool) {
	var open []normalize.QueryOrder
	cursor := ""
	read = true
	for page := 0; page < maxOpenPages; page++ {
		var next string
		n := len(open)
		err := r.ask(ctx, "open orders", orderKey{}, r.opn, func() (err error) {
			open, next, err = r.q.open(ctx, conn, cursor, open[:n])
			return err
		})
		if err != nil {
			// Counted and logged; the pages read are followed, the
			// stream brings what happens next.
			read = ctx.Err() == nil && !errors.Is(err, errConnLost)
			break
		}
		if next == "" || next == cursor {
			break
		}
		cursor = next
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range open {
		x := &open[i].Execution
		key := orderKey{symbol: open[i].Symbol, id: x.VenueOrderID}
		if r.orders[key] == nil && !r.forgotten(key) && !x.Status.Final() {
			if t := r.track(key, x.CumFillQty); t != nil {
				t.status = x.Status
				t.setType(x.Type)
			}
		}
	}
	return read
}

// outcome is told how Place ended: a placement the venue may have taken
// without the session hearing of it (the connection lost before the
// answer, an answer that could not be read, none in time) is looked up by
// its client order id in the next pass, when it has one.
func (r *reconciler) outcome(req *schema.OrderRequest, err error) {
	if err == nil || req.Action != schema.ActionPlace || errors.Is(err, ErrNotSent) {
		return
	}
	var verr *VenueError
	unknown := errors.Is(err, ErrDisconnected) || errors.Is(err, ErrBadAnswer) || errors.Is(err, ErrMaybeSent) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, ErrNoAnswer)
	if (errors.As(err, &verr) && !errors.Is(err, ErrMaybeSent)) || !unknown {
		return // refused, or another failure that leaves no order
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.ClientOrderID.IsZero() {
		r.untold = true // nothing to look it up by
		return
	}
	r.doubt(orderKey{symbol: req.Symbol, id: req.ClientOrderID})
	if len(r.unsure) >= unsureCap {
		r.overflow.Add(1)
		r.untold = true
		return
	}
	r.unsure[orderKey{symbol: req.Symbol, id: req.ClientOrderID}] = struct{}{}
}

// doubt remembers ck, a placement of unknown outcome, among the latest
// unsureCap (caller holds r.mu).
func (r *reconciler) doubt(ck orderKey) {
	if _, ok := r.doubtful[ck]; ok {
		return
	}
	if r.doubtful == nil {
		r.doubtful = map[orderKey]struct{}{}
	}
	if old := r.doubtRing[r.doubtRingNext]; old.symbol != "" {
		delete(r.doubtful, old)
	}
	r.doubtRing[r.doubtRingNext] = ck
	r.doubtRingNext = (r.doubtRingNext + 1) % unsureCap
	r.doubtful[ck] = struct{}{}
}

// resolve looks up the placements of unknown outcome by client order id
// and follows those the venue has; "no such order" says it never took
// one. Others stay for the next pass.
func (r *reconciler) resolve(ctx context.Context, conn uint64) error {
	for _, ck := range keysOf(&r.mu, r.unsure) {
		var st []normalize.QueryOrder
		err := r.ask(ctx, "order by client id", ck, r.order, func() (err error) {
			st, err = r.q.order(ctx, conn, ck, true)
			return err
		})
		switch {
		case r.q.rules().notFound(err): // never placed
		case ctx.Err() != nil || errors.Is(err, errConnLost):
			return err
		case err != nil:
			// Counted and logged; the host is told (its reports may be
			// lost), and the next pass asks again.
			r.gap(ctx, ck, err, true)
			continue
		case len(st) == 1:
			r.adopt(&st[0])
		case len(st) > 1:
			// Which one is the session's is not known (a venue that
			// keeps a client order id unique among open orders only):
			// followed as none, the host is told once.
			r.gap(ctx, ck, fmt.Errorf("%w: the lookup by client order id answered %d orders", ErrBadAnswer, len(st)), true)
		}
		r.mu.Lock()
		delete(r.unsure, ck)
		r.mu.Unlock()
	}
	return nil
}

// adopt follows o, found by the client order id of one of the session's
// placements, as the session's own.
func (r *reconciler) adopt(o *normalize.QueryOrder) {
	key := orderKey{symbol: o.Symbol, id: o.VenueOrderID}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch t := r.orders[key]; {
	case t == nil && !r.forgotten(key):
		t = r.track(key, schema.Decimal{})
		if t == nil {
			return
		}
		// Its end streamed already (before the place's answer said the
		// outcome was unknown): that report, and its fill, were
		// delivered.
		for i := range r.endedSeen {
			if e := &r.endedSeen[i]; e.key == key {
				t.status = e.status
				if !e.trade.IsZero() && !t.has(&e.trade) {
					t.trades = append(t.trades, e.trade)
					t.delivered, _ = t.delivered.Add(e.qty)
				}
			}
		}
	case t != nil && t.streamed:
		// Seen on the stream before this answer (Kraken's snapshot
		// of open orders, a fill streamed since the subscription)
		// and followed as placed elsewhere, with what had filled
		// then as before the session: it is the session's own, and
		// so are those fills.
		t.floor, t.streamed = schema.Decimal{}, false
	}
}

// differs reports whether two quantities the venue and the request both
// give are not equal (a zero on either side says nothing).
func differs(venue, req schema.Decimal) bool {
	return venue.Sign() != 0 && req.Sign() != 0 && venue.Cmp(req) != 0
}

// sameOrder reports whether o, the venue's order under req's client order
// id, is the order req asks for: req's symbol and side, kind (market or
// priced; conditional — a stop or take-profit, with a stop price — or
// not), with req's quantity, price and stop price where both give one. A
// conditional order and a plain one of the same price and quantity are two
// orders (Binance "New order": STOP_LOSS_LIMIT and TAKE_PROFIT_LIMIT take
// stopPrice and rest untriggered; LIMIT takes none): a stop price on one
// side only, or a type that says conditional on one side only, tells
// them apart.
func sameOrder(o *normalize.QueryOrder, req *schema.OrderRequest) bool {
	if o.Symbol != req.Symbol || (o.Side != schema.SideUnknown && o.Side != req.Side) ||
		differs(o.Qty, req.Qty) || differs(o.Price, req.Price) || differs(o.StopPrice, req.StopPrice) {
		return false
	}
	if o.Type != schema.OrderTypeUnknown && req.Type != schema.OrderTypeUnknown && o.Type.NeedsPrice() != req.Type.NeedsPrice() {
		return false
	}
	conditional := func(typ schema.OrderType, stop schema.Decimal) (cond, known bool) {
		if stop.Sign() != 0 || typ.Conditional() {
			return true, true
		}
		return false, typ != schema.OrderTypeUnknown
	}
	oc, oKnown := conditional(o.Type, o.StopPrice)
	rc, rKnown := conditional(req.Type, req.StopPrice)
	return !oKnown || !rKnown || oc == rc
}

// duplicateOf is told that the venue refused req, a place with a client
// order id, for that id: "a duplicate" of an order it has (Binance -2010
// "Duplicate order sent.": newClientOrderId is unique among open orders;
// OKX sCode 51016 "Duplicated clOrdId"; Bybit 110072 "OrderLinkedID is
// duplicate", 170141 "Duplicate clientOrderId"). That is the answer a
// place sent again after an unknown outcome (ErrDisconnected, no answer in
// time) gets when the first reached the venue: the order exists, and is
// the caller's. It looks the order up by the client order id and, when
// the venue has one of req's symbol and side, follows it as the session's
// own and returns it as the place's Ack (ok true). Otherwise (another
// venue's code, not found, the lookup failed, another order under the id:
// another side, a quantity, price or stop price other than req's where
// both give one, a market order for a priced one or a conditional one
// for a plain one, or the reverse: see sameOrder; an ended order where
// only the doubt made the refusal a duplicate's — Kraken keeps ids unique
// among open orders) ok is false: the
// refusal stands. What the venue's answer says the stream did not deliver
// (fills, an end, while the stream was down) is published before the
// Ack, or a gap marker says it was not.
func (r *reconciler) duplicateOf(ctx context.Context, conn uint64, req *schema.OrderRequest, verr *VenueError) (Ack, bool) {
	if req.Action != schema.ActionPlace || req.ClientOrderID.IsZero() {
		return Ack{}, false
	}
	ck := orderKey{symbol: req.Symbol, id: req.ClientOrderID}
	r.mu.Lock()
	_, doubtful := r.doubtful[ck]
	r.mu.Unlock()
	if !r.q.rules().duplicated(verr, doubtful) {
		return Ack{}, false
	}
	var st []normalize.QueryOrder
	err := r.ask(ctx, "order by client id", ck, r.order, func() (err error) {
		st, err = r.q.order(ctx, conn, ck, true)
		return err
	})
	if err != nil || len(st) != 1 {
		return Ack{}, false
	}
	o := &st[0]
	if !sameOrder(o, req) {
		return Ack{}, false // another order under the id
	}
	if o.Status.Final() && !r.q.rules().duplicated(verr, false) {
		// Taken as a duplicate for the doubt alone (Kraken): the venue
		// keeps the id unique among open orders only, so an ended order
		// under it is not what refused this place — the host used the id
		// again, and the refusal is of the new place.
		return Ack{}, false
	}
	r.adopt(o)
	r.mu.Lock()
	delete(r.unsure, ck)
	r.mu.Unlock()
	// The order may have filled or ended while the stream was down, and
	// the pass that would reconcile it may have run already (its lookup
	// by the client order id did not find it yet) or have listed the
	// orders it follows before this one: what the answer says the stream
	// did not deliver is published now, before the Ack. Given up, the
	// host gets a gap marker and the next pass tries again; a lost
	// connection's pass does it all.
	key := orderKey{symbol: o.Symbol, id: o.VenueOrderID}
	if err := r.settle(ctx, conn, key, o, false); err != nil && !errors.Is(err, errConnLost) {
		r.mu.Lock()
		if t := r.orders[key]; t != nil {
			t.stale = true
		}
		r.mu.Unlock()
		r.gap(r.s.dying, key, err, false)
	}
	return Ack{RequestID: verr.RequestID, Symbol: o.Symbol, Execution: o.Execution}, true
}

// pass reconciles every order open when it starts, one after the other,
// after looking up the placements of unknown outcome. An order it gives
// up on, the venue's "no such order" included (an order the stream showed
// that the queries do not find: its reports may be lost), gets a gap
// marker and stays followed.
func (r *reconciler) pass(ctx context.Context, conn uint64) {
	r.passes.Add(1)
	r.mu.Lock()
	untold := r.untold
	r.untold = false
	r.mu.Unlock()
	if untold {
		r.untoldGap(ctx)
	}
	if r.resolve(ctx, conn) != nil {
		return
	}
	for _, key := range keysOf(&r.mu, r.orders) {
		// Asked about now: a jump noted before is this query's (a report
		// after it notes the order again).
		r.mu.Lock()
		delete(r.jumps, key)
		if t := r.orders[key]; t != nil {
			t.lagged = false
		}
		r.mu.Unlock()
		err := r.reconcile(ctx, conn, key, false)
		if err != nil && (ctx.Err() != nil || errors.Is(err, errConnLost)) {
			return // the next subscription's pass does it all again
		}
		r.mu.Lock()
		if t := r.orders[key]; t != nil {
			t.stale = err != nil
		}
		r.mu.Unlock()
		if err != nil {
			r.gap(ctx, key, err, false)
		}
	}
}

// reconcile asks what became of one order and publishes what the stream
// did not deliver: its missing fills (read only when the order says more
// has filled than was delivered), then the status it ended in. again: the
// caller asks once more when the venue's fills fall short (see publish).
func (r *reconciler) reconcile(ctx context.Context, conn uint64, key orderKey, again bool) error {
	var st []normalize.QueryOrder
	err := r.ask(ctx, "order", key, r.order, func() (err error) {
		st, err = r.q.order(ctx, conn, key, false)
		return err
	})
	if err == nil && len(st) != 1 {
		err = fmt.Errorf("%w: the order query answered %d orders", ErrBadAnswer, len(st))
	}
	if err != nil {
		return err
	}
	return r.settle(ctx, conn, key, &st[0], again)
}

// settle publishes what order, the venue's answer to a query of the
// followed order key, says the stream did not deliver: the fills (read
// only when it says more has filled than was delivered), then its end.
func (r *reconciler) settle(ctx context.Context, conn uint64, key orderKey, order *normalize.QueryOrder, again bool) error {
	r.mu.Lock()
	t := r.orders[key]
	// By the answer, or by the stream: an answer made before a fill the
	// stream has delivered since says less than the stream did, and a
	// fill lost before that one is missing by the stream's count alone.
	missing := t != nil && (!t.covered(order.CumFillQty) || !t.covered(t.cum))
	r.mu.Unlock()
	if t == nil {
		return nil // ended meanwhile, on the stream
	}
	var fills []normalize.QueryFill
	if missing {
		var err error
		if fills, err = r.fills(ctx, conn, key); err != nil {
			return err
		}
	}
	return r.publish(ctx, key, order, fills, again)
}

// fills reads every fill of an order, page after page. A fill read
// already (a venue's page that starts with the one before's last fill, or
// repeats) is kept once, by order and trade id; a page that brings no fill not read
// already ends the list (a venue that names a next cursor after an empty
// page would otherwise be asked for ever: the fills found are what it
// has, and publish's check of the executed quantity tells the host when
// they fall short); a cursor seen before is a bad answer.
func (r *reconciler) fills(ctx context.Context, conn uint64, key orderKey) ([]normalize.QueryFill, error) {
	var all []normalize.QueryFill
	read := map[string]struct{}{} // order id NUL trade id
	cursors := map[string]struct{}{}
	cursor := ""
	for {
		var next string
		n := len(all)
		err := r.ask(ctx, "fills", key, r.fill, func() (err error) {
			all, next, err = r.q.fills(ctx, conn, key, cursor, all[:n])
			return err
		})
		if err != nil {
			return nil, err
		}
		fresh := all[:n]
		for _, f := range all[n:] {
			// By order and trade id: a list of the account's trades
			// (Kraken's TradesHistory) holds other orders' too, and
			// Kraken's trade_id is unique per pair only.
			id := string(f.OrderID.Bytes()) + "\x00" + string(f.TradeID.Bytes())
			if _, again := read[id]; !again {
				read[id] = struct{}{}
				fresh = append(fresh, f)
			}
		}
		all = fresh
		switch _, again := cursors[next]; {
		case len(all) > maxFills:
			return nil, fmt.Errorf("session: more than %d fills", maxFills)
		case next == "" || len(all) == n:
			return all, nil
		case again || next == cursor:
			return nil, fmt.Errorf("%w: the fills' next page is one read before (%q)", ErrBadAnswer, next)
		}
		cursors[next] = struct{}{}
		cursor = next
	}
}

// publish hands the host, under the tracking lock (so that no streamed
// report of the order comes between), the fills not delivered yet, in
// trade order, each with the venue's cumulative quantities at that fill,
// then the order's end when it ended in the window. When the venue's
// fills do not make up the quantity it says was executed (OKX keeps 3
// days of them; a venue's lists may lag), a gap marker says so: for an
// open order through the error (it stays followed, the next pass reads
// its fills again); for one that ended, before its end report, unless
// again: the caller asks once more (a venue's fill list a moment behind
// its final report), so the error alone, the order followed still and
// its end not delivered before its fills.
func (r *reconciler) publish(ctx context.Context, key orderKey, order *normalize.QueryOrder, fills []normalize.QueryFill, again bool) error {
	fills = slices.DeleteFunc(fills, func(f normalize.QueryFill) bool { return !bytes.Equal(f.OrderID.Bytes(), key.id.Bytes()) })
	sortFills(fills)
	cums := cumulative(order, fills)
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.orders[key]
	if t == nil {
		return nil
	}
	for i := range fills {
		f, cum, cumQuote := &fills[i], cums[i].qty, cums[i].quote
		known, _ := t.floor.Add(t.delivered)
		if cum.Cmp(t.floor) <= 0 || t.has(&f.TradeID) || (t.anon && cum.Cmp(known) <= 0) {
			continue // before the session saw the order, or delivered (by the stream without trade ids: up to known)
		}
		ev, err := r.event(ctx, key, order)
		if err != nil {
			return err
		}
		x := ev.UseExec()
		x.ExecType, x.TradeID = schema.ExecTrade, f.TradeID
		x.LastFillPrice, x.LastFillQty, x.CumFillQty, x.CumQuoteQty = f.Price, f.Qty, cum, cumQuote
		x.Fee, x.FeeAsset, x.IsMaker = f.Fee, f.FeeAsset, f.IsMaker
		x.TransactTime, ev.ExchangeTS = f.Time, f.Time
		x.Status = schema.StatusPartiallyFilled
		// The last fill of an order the venue says filled is its end, were
		// the quantity short of the order's: Kraken closes an order whose
		// remainder is too small to trade ("Insignificant volume
		// remaining": closed, vol_exec below vol), and the host is not to
		// take it for a working order.
		done := x.Qty.Sign() > 0 && cum.Cmp(x.Qty) >= 0
		if done || (order.Status == schema.StatusFilled && cum.Cmp(order.CumFillQty) >= 0) {
			x.Status = schema.StatusFilled
		}
		x.RemainingQty = schema.Decimal{}
		if x.Status != schema.StatusFilled && x.Qty.Sign() > 0 && cum.Cmp(x.Qty) < 0 {
			x.RemainingQty, _ = x.Qty.Sub(cum)
		}
		t.trades = append(t.trades, f.TradeID)
		t.delivered, _ = t.delivered.Add(f.Qty)
		t.quoteAt = cumQuote
		t.feeSince, _ = t.feeSince.Add(f.Fee)
		if !t.status.Final() { // an end the stream delivered meanwhile stays
			t.status = x.Status
		}
		r.reconciled.Add(1)
		if err := r.s.disp.Publish(ctx, ev); err != nil {
			return err
		}
	}
	if !t.covered(order.CumFillQty) {
		known, _ := t.floor.Add(t.delivered)
		short := fmt.Errorf("%w: the venue's fills make up %s of the %s it says the order executed", errFillsShort, known, order.CumFillQty)
		if !order.Status.Final() || again {
			return short // followed still: the next pass (or query) reads them again
		}
		r.gap(ctx, key, short, false) // they will not come back: told once, then the end
	}
	end := schema.StatusUnknown
	if order.Status.Final() && order.Status != schema.StatusFilled {
		end = order.Status // delivered now, or by the stream already (t.status)
	}
	if end != schema.StatusUnknown && t.status != order.Status {
		ev, err := r.event(ctx, key, order)
		if err != nil {
			return err
		}
		x := ev.UseExec()
		x.ExecType = endExecType(order.Status)
		x.TransactTime, ev.ExchangeTS = order.TransactTime, order.TransactTime
		t.status = order.Status
		r.reconciled.Add(1)
		if err := r.s.disp.Publish(ctx, ev); err != nil {
			return err
		}
	}
	switch {
	case order.Status.Final():
		r.forget(key, ended{end: end}) // its fills were delivered or were before the session saw it
	case !t.status.Final():
		t.status = order.Status
	case t.covered(t.cum) && t.covered(order.CumFillQty):
		// The stream told its end after the order query was answered:
		// every fill is delivered now.
		r.forget(key, ended{end: t.status})
	}
	return nil
}

// errFillsShort: the venue's fill query did not return every fill its
// order query counts.
var errFillsShort = errors.New("session: fills missing from the venue's answer")

// cumulative is each fill's executed quantity and quote quantity after
// it: the venue's own where it says it (Bybit), otherwise counted back
// from the order's total (the larger of the order's and the fills' sum),
// so that fills older than the venue keeps (OKX: 3 days) still leave the
// later ones' totals right.
func cumulative(order *normalize.QueryOrder, fills []normalize.QueryFill) []struct{ qty, quote schema.Decimal } {
	var sum, sumQuote schema.Decimal
	for i := range fills {
		sum, _ = sum.Add(fills[i].Qty)
		sumQuote, _ = sumQuote.Add(fills[i].QuoteQty)
	}
	total, totalQuote := sum, sumQuote
	if order.CumFillQty.Cmp(total) > 0 {
		total = order.CumFillQty
	}
	if order.CumQuoteQty.Cmp(totalQuote) > 0 {
		totalQuote = order.CumQuoteQty
	}
	cums := make([]struct{ qty, quote schema.Decimal }, len(fills))
	for i := len(fills) - 1; i >= 0; i-- {
		cums[i].qty, cums[i].quote = total, totalQuote
		if v := fills[i].CumFillQty; v.Sign() > 0 {
			cums[i].qty = v
		}
		total, _ = total.Sub(fills[i].Qty)
		totalQuote, _ = totalQuote.Sub(fills[i].QuoteQty)
	}
	return cums
}

// endExecType is the execution type of an order's end other than a fill.
func endExecType(st schema.OrderStatus) schema.ExecType {
	switch st {
	case schema.StatusCanceled:
		return schema.ExecCanceled
	case schema.StatusExpired:
		return schema.ExecExpired
	case schema.StatusExpiredInMatch:
		return schema.ExecTradePrevention
	}
	return schema.ExecRejected
}

// event takes an execution report from the pool, filled with the order as
// the venue's order query answered it and marked Reconciled.
func (r *reconciler) event(ctx context.Context, key orderKey, order *normalize.QueryOrder) (*schema.CanonicalEvent, error) {
	gctx, end := restDeadline(ctx, r.s.cfg.Client.Clock, r.s.cfg.RESTTimeout) // a full pool, bounded as the query before it
	ev, err := r.s.pools.Events.Get(gctx)
	if err = end(err); err != nil {
		return nil, err
	}
	ev.Venue, ev.Symbol, ev.Type = r.s.spec.venue, key.symbol, schema.EventExecReport
	ev.IngestTS = time.Now().UnixNano()
	x := ev.UseExec()
	*x = order.Execution
	x.Reconciled = true
	return ev, nil
}

// gap tells the host that reconciliation gave up on an order: a gap marker
// (schema.EventGap, GapType EventExecReport, GapSource venue, the order's
// ids in Exec, the error in Reason; the venue's code in Code when it
// refused), logged at Error. Its execution reports of the window may be
// lost. The order stays tracked: the next reconnect tries again. byClient:
// key.id is the client order id of a Place of unknown outcome whose
// lookup failed (Exec.ClientOrderID; the venue's order id is not known).
func (r *reconciler) gap(ctx context.Context, key orderKey, cause error, byClient bool) {
	r.gaps.Add(1)
	if r.s.cfg.Logger != nil {
		r.s.cfg.Logger.Error("session: execution reports of an order may be lost: reconciliation gave up",
			"venue", string(r.s.spec.venue), "symbol", key.symbol, "order_id", key.id.String(), "by_client_order_id", byClient, "err", cause)
	}
	_, code, _ := refusal(cause)
	var venueID, clientID schema.ID
	if byClient {
		clientID = key.id
	} else {
		venueID = key.id
	}
	r.publishGap(ctx, key.symbol, "reconcile: order "+key.id.String()+": "+cause.Error(), code, venueID, clientID)
}

// untoldGap tells the host that the window's reports of orders the
// session could not follow may be lost: a gap marker of
// schema.EventExecReport naming no order (see reconciler.untold).
func (r *reconciler) untoldGap(ctx context.Context) {
	r.gaps.Add(1)
	const reason = "reconcile: orders not followed (Config.MaxTrackedOrders, or placements of unknown outcome without a client order id): their reports of the window may be lost"
	if r.s.cfg.Logger != nil {
		r.s.cfg.Logger.Error("session: "+reason, "venue", string(r.s.spec.venue))
	}
	r.publishGap(ctx, "", reason, 0, schema.ID{}, schema.ID{})
}

// publishGap publishes an exec-report gap marker of symbol with reason,
// the venue's code and the order's ids.
func (r *reconciler) publishGap(ctx context.Context, symbol, reason string, code int64, venueID, clientID schema.ID) {
	ev, err := r.s.pools.Events.Get(ctx)
	if err != nil {
		return
	}
	ev.Venue, ev.Symbol, ev.Type = r.s.spec.venue, symbol, schema.EventGap
	ev.IngestTS = time.Now().UnixNano()
	*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: schema.EventExecReport, GapSource: schema.GapVenue,
		Reason: reason, Code: code}
	x := ev.UseExec()
	x.VenueOrderID, x.ClientOrderID = venueID, clientID
	_ = r.s.disp.Publish(ctx, ev)
}

// sortFills puts an order's fills in the venue's trade order: by trade id
// where both are integers (Binance, OKX), otherwise by time, then by the
// executed quantity after the fill where the venue says it (Bybit, whose
// execIds are UUIDs), then by id.
func sortFills(fs []normalize.QueryFill) {
	slices.SortStableFunc(fs, func(a, b normalize.QueryFill) int {
		ia, oka := parseTradeID(a.TradeID.Bytes())
		ib, okb := parseTradeID(b.TradeID.Bytes())
		if oka && okb {
			return cmp.Compare(ia, ib)
		}
		if c := cmp.Compare(a.Time, b.Time); c != 0 {
			return c
		}
		if c := a.CumFillQty.Cmp(b.CumFillQty); c != 0 {
			return c
		}
		return bytes.Compare(a.TradeID.Bytes(), b.TradeID.Bytes())
	})
}

// weightBucket paces queries within a budget per minute (request weight,
// or requests): a token bucket holding at most a minute's budget.
type weightBucket struct {
	mu        sync.Mutex
	perMinute float64
	tokens    float64
	last      time.Time
	now       func() time.Time
}

// drain empties the bucket: after a rate-limit refusal, queries go at the
// budget's rate from nothing.
func (b *weightBucket) drain() {
	b.mu.Lock()
	b.tokens = min(b.tokens, 0)
	b.mu.Unlock()
}

// take waits until weight is in the bucket and takes it.
func (b *weightBucket) take(ctx context.Context, weight float64, sleep func(context.Context, time.Duration) error) error {
	for {
		b.mu.Lock()
		now := b.now()
		notAfter(&b.last, now)
		if !b.last.IsZero() {
			b.tokens = min(b.perMinute, b.tokens+now.Sub(b.last).Minutes()*b.perMinute)
		}
		b.last = now
		need := min(weight, b.perMinute) - b.tokens
		if need <= 0 {
			b.tokens -= weight
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		if err := sleep(ctx, time.Duration(need/b.perMinute*float64(time.Minute))+time.Millisecond); err != nil {
			return err
		}
	}
}

// stats copies the reconciliation counters. It takes no lock: a host's
// callback run while reports are published (dispatch's
// OnCriticalOverflow) may call Stats.
func (r *reconciler) stats(st *OrderStats) {
	st.Tracked = int(r.tracked.Load())
	st.TrackOverflow, st.Reconciliations, st.Reconciled = r.overflow.Load(), r.passes.Load(), r.reconciled.Load()
	st.Duplicates, st.ReconcileErrors, st.ReconcileGaps = r.dups.Load(), r.errs.Load(), r.gaps.Load()
	st.ReconcileWeight = r.weight.Load()
	r.mu.Lock()
	st.OpenCountKnown = r.counted
	r.mu.Unlock()
}

// keysOf copies m's keys under mu.
func keysOf[V any](mu *sync.Mutex, m map[orderKey]V) []orderKey {
	mu.Lock()
	defer mu.Unlock()
	keys := make([]orderKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// ctxEnded reports whether err is a context's end (a request cut short by
// its ctx), not the venue's answer.
func ctxEnded(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
