package session

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
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
	// DefaultReconcileWeight is the request weight per minute
	// reconciliation may spend (Config.ReconcileWeight): a fifth of
	// Binance's 6000 per minute per IP ("Rate limits"), so that orders,
	// book snapshots and the host's own requests keep the rest.
	DefaultReconcileWeight = 1200
	// reconcileTries is how often a query is tried before the order is
	// given up (a gap marker).
	reconcileTries = 5
	// recentCap is how many orders that ended are remembered, so that a
	// late report or answer of one does not track it again.
	recentCap = 1024
	// tradeIDsCap is the trade ids an order is made with room for.
	tradeIDsCap = 8
	// queryIDBase starts the queries' request ids, apart from the order
	// requests' (exact in a float64 still).
	queryIDBase = 1 << 40
	// unsureCap bounds the placements whose outcome is unknown that the
	// session looks up.
	unsureCap = 256
	// maxTradePages bounds the myTrades pages of one order (1000 trades
	// each): past them it is given up.
	maxTradePages = 10
)

// orderKey names an order: its canonical symbol and Binance's order id.
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
	// or reconciled; trades their ids.
	delivered schema.Decimal
	trades    []uint64
}

func (t *tracked) has(trade uint64) bool {
	for _, id := range t.trades {
		if id == trade {
			return true
		}
	}
	return false
}

// reconciler keeps the open orders and, after a window without the
// user-data stream, asks the venue what became of them.
type reconciler struct {
	o *orders
	s *Session

	mu       sync.Mutex // guards the orders and orders the reports: held while publishing
	orders   map[orderKey]*tracked
	recent   map[orderKey]struct{}
	ring     [recentCap]orderKey
	ringNext int
	max      int
	unsure   map[orderKey]struct{} // placements not answered, by symbol and client order id
	accepted bool                  // a user-data subscription was accepted before
	cancel   context.CancelFunc    // of the running pass
	done     chan struct{}         // closed when the running pass ends

	qmu      sync.Mutex
	queries  map[uint64]chan []byte
	inFlight atomic.Int32
	nextQ    atomic.Uint64

	bucket weightBucket

	passes, reconciled, errs, gaps, dups, overflow, weight atomic.Uint64
	tracked                                                atomic.Int64 // len(orders), for Stats without r.mu
}

func newReconciler(o *orders) *reconciler {
	s := o.s
	r := &reconciler{o: o, s: s, orders: map[orderKey]*tracked{}, recent: map[orderKey]struct{}{}, unsure: map[orderKey]struct{}{},
		queries: map[uint64]chan []byte{}, max: s.cfg.MaxTrackedOrders}
	if r.max <= 0 {
		r.max = DefaultMaxTrackedOrders
	}
	w := s.cfg.ReconcileWeight
	if w <= 0 {
		w = DefaultReconcileWeight
	}
	r.bucket = weightBucket{perMinute: float64(w), tokens: float64(w), now: r.now}
	return r
}

func (r *reconciler) now() time.Time { return r.s.cfg.Client.Clock.Now() }

// sleep waits d on the configured clock, or until ctx ends.
func (r *reconciler) sleep(ctx context.Context, d time.Duration) error {
	return r.s.cfg.Client.Clock.Sleep(ctx, d)
}

// ---- the streamed side: the order connection's reader ----

// stream takes an execution report of the user-data stream: it updates
// the order's tracking and publishes the report, unless its fill was
// delivered already (reconciled first): then the report is dropped,
// counted in OrderStats.Duplicates.
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
// its fill was delivered before (caller holds r.mu). It allocates nothing
// for an order already tracked whose trade ids have room.
func (r *reconciler) observe(ev *schema.CanonicalEvent) (dup bool) {
	x := &ev.Exec
	key := orderKey{symbol: ev.Symbol, id: x.VenueOrderID}
	t := r.orders[key]
	trade, isTrade := tradeID(x)
	if t == nil {
		if r.forgotten(key) {
			// The order ended and its end was delivered: a report of it now
			// is one delivered again.
			return true
		}
		if x.Status.Final() || x.VenueOrderID.IsZero() {
			return false
		}
		// First seen on the stream (placed elsewhere, or before Start):
		// what had filled before this report is not ours to deliver.
		floor := x.CumFillQty
		if isTrade {
			floor, _ = x.CumFillQty.Sub(x.LastFillQty)
		}
		if t = r.track(key, floor); t == nil {
			return false
		}
	}
	if isTrade {
		if t.has(trade) {
			return true
		}
		t.trades = append(t.trades, trade)
		t.delivered, _ = t.delivered.Add(x.LastFillQty)
	}
	t.status = x.Status
	if x.Status.Final() {
		r.forget(key)
	}
	return false
}

// ack tracks an order the venue acknowledged to Place. An answer that
// says the order ended (a cancel's) ends nothing: the stream's report of
// the end, or a reconciliation if that report is lost, does.
func (r *reconciler) ack(ev *schema.CanonicalEvent) {
	x := &ev.Exec
	if x.VenueOrderID.IsZero() || ev.Symbol == "" || x.Status.Final() {
		return
	}
	key := orderKey{symbol: ev.Symbol, id: x.VenueOrderID}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.orders[key] == nil && !r.forgotten(key) {
		r.track(key, schema.Decimal{})
	}
}

// tradeID is a trade report's numeric trade id (Binance's are integers).
func tradeID(x *schema.Execution) (uint64, bool) {
	if x.ExecType != schema.ExecTrade || x.TradeID.IsZero() {
		return 0, false
	}
	return parseTradeID(x.TradeID.Bytes())
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
	return n, true
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
		return nil
	}
	t := &tracked{status: schema.StatusNew, floor: floor, trades: make([]uint64, 0, tradeIDsCap)}
	r.orders[key] = t
	r.tracked.Store(int64(len(r.orders)))
	return t
}

// forget ends an order's tracking and remembers that it ended (caller
// holds r.mu).
func (r *reconciler) forget(key orderKey) {
	delete(r.orders, key)
	r.tracked.Store(int64(len(r.orders)))
	if old := r.ring[r.ringNext]; old.symbol != "" {
		delete(r.recent, old)
	}
	r.ring[r.ringNext] = key
	r.ringNext = (r.ringNext + 1) % recentCap
	r.recent[key] = struct{}{}
}

func (r *reconciler) forgotten(key orderKey) bool {
	_, ok := r.recent[key]
	return ok
}

// ---- answers to the queries ----

// answer takes a frame that answers a query in flight; false for any other
// frame (the parser's). It runs on the reader, for every frame only while
// queries are in flight.
func (r *reconciler) answer(data []byte) bool {
	if r.inFlight.Load() == 0 {
		return false
	}
	id := answerID(data)
	if id < queryIDBase {
		return false
	}
	r.qmu.Lock()
	ch, ok := r.queries[id]
	delete(r.queries, id)
	r.qmu.Unlock()
	if ok {
		ch <- append([]byte(nil), data...) // capacity 1; the frame is the reader's
	}
	return true // a query's, awaited or given up: not for the parser (it would pass for an order's ack)
}

// errConnLost: the connection a pass queried on is gone; the next
// subscription's pass takes over.
var errConnLost = errors.New("session: order connection lost during reconciliation")

// query sends a request made by enc (with the id it is given) on conn,
// after waiting for weight in the budget, and returns the answer's bytes.
func (r *reconciler) query(ctx context.Context, conn uint64, weight int, enc func(id uint64) ([]byte, error)) ([]byte, error) {
	if err := r.bucket.take(ctx, float64(weight), r.sleep); err != nil {
		return nil, err
	}
	o := r.o
	id := queryIDBase + r.nextQ.Add(1)
	msg, err := enc(id)
	if err != nil {
		return nil, err
	}
	ch := make(chan []byte, 1)
	r.qmu.Lock()
	r.queries[id] = ch
	r.qmu.Unlock()
	r.inFlight.Add(1)
	defer func() {
		r.qmu.Lock()
		delete(r.queries, id)
		r.qmu.Unlock()
		r.inFlight.Add(-1)
	}()
	r.weight.Add(uint64(weight))
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	err = o.client.WriteConn(wctx, conn, msg)
	cancel()
	switch {
	case errors.Is(err, wsclient.ErrConnChanged), errors.Is(err, wsclient.ErrNotConnected):
		return nil, errConnLost
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	timer := r.s.cfg.Client.Clock.NewTimer(DefaultRESTTimeout)
	defer timer.Stop()
	select {
	case b := <-ch:
		return b, nil
	case <-timer.C():
		return nil, fmt.Errorf("session: no answer to query %d: %w", id, context.DeadlineExceeded)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// retryable reports whether a failed query may pass when tried again: the
// venue busy or over its limits (429, -1003 and the 5xx / -1000 family),
// a timestamp outside recvWindow (signed anew each try), no answer in
// time, or an answer that could not be read.
func retryable(err error) bool {
	var qerr *normalize.BinanceQueryError
	if errors.As(err, &qerr) {
		switch qerr.Code {
		case -1003, -1000, -1001, -1006, -1007, -1008, -1021:
			return true
		}
		return qerr.Status == 429 || qerr.Status >= 500
	}
	return !errors.Is(err, errConnLost) && !errors.Is(err, context.Canceled)
}

// rateLimited reports whether the venue refused a query for its limits
// (429 or -1003 too much weight, 418 banned for not backing off).
func rateLimited(err error) bool {
	var qerr *normalize.BinanceQueryError
	return errors.As(err, &qerr) && (qerr.Status == 429 || qerr.Status == 418 || qerr.Code == -1003)
}

// ask runs one query with retries: the connection's backoff
// (Client.BackoffBase, doubling, at most Client.BackoffCap) between tries,
// each failure counted and logged. It returns the last error when it gives
// up.
func (r *reconciler) ask(ctx context.Context, conn uint64, what string, key orderKey, weight int,
	enc func(id uint64) ([]byte, error), parse func([]byte) error) error {
	base, ceil := r.s.cfg.Client.BackoffBase, r.s.cfg.Client.BackoffCap
	if base <= 0 {
		base = wsclient.DefaultBackoffBase
	}
	if ceil < base {
		ceil = max(base, wsclient.DefaultBackoffCap)
	}
	var err error
	for try := 1; ; try++ {
		var b []byte
		if b, err = r.query(ctx, conn, weight, enc); err == nil {
			if err = parse(b); err == nil {
				return nil
			}
		}
		if ctx.Err() != nil || errors.Is(err, errConnLost) {
			return err
		}
		r.errs.Add(1)
		if rateLimited(err) {
			r.bucket.drain() // every query waits for the budget to refill, not only this one
		}
		if r.s.cfg.Logger != nil {
			r.s.cfg.Logger.Warn("session: reconciliation query failed", "query", what, "symbol", key.symbol,
				"order_id", key.id.String(), "try", try, "err", err)
		}
		if try >= reconcileTries || !retryable(err) {
			return err
		}
		if serr := r.sleep(ctx, min(base<<min(try-1, 20), ceil)); serr != nil {
			return serr
		}
	}
}

// ---- passes ----

// subscribed is told that the venue accepted a user-data subscription on
// conn. After the first, a window without the stream has passed: a new
// pass reconciles every open order on conn (the running one, if any, is
// stopped first). It never blocks: the pass runs on a goroutine of the
// session's.
func (r *reconciler) subscribed(conn uint64) {
	s := r.s
	r.mu.Lock()
	first := !r.accepted
	r.accepted = true
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
		if first {
			r.trackOpen(ctx, conn)
			return
		}
		r.pass(ctx, conn)
	}()
}

// lost stops the running pass: its connection is gone.
func (r *reconciler) lost() {
	r.mu.Lock()
	if r.cancel != nil {
		r.cancel()
	}
	r.mu.Unlock()
}

// trackOpen asks, at the first subscription, for the account's open
// orders (openOrders.status, weight 80), so that orders placed before
// Start are followed too: what they had filled is theirs, not the
// session's to deliver.
func (r *reconciler) trackOpen(ctx context.Context, conn uint64) {
	var open []normalize.BinanceOrder
	err := r.ask(ctx, conn, "openOrders.status", orderKey{}, normalize.BinanceWeightOpenOrders,
		func(id uint64) ([]byte, error) { return r.o.enc.AppendOpenOrders(nil, id) },
		func(b []byte) (err error) {
			open, err = normalize.ParseBinanceOrders(b, r.s.syms, open[:0])
			return err
		})
	if err != nil {
		return // counted and logged; the stream still brings what happens next
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range open {
		x := &open[i].Execution
		key := orderKey{symbol: open[i].Symbol, id: x.VenueOrderID}
		if r.orders[key] == nil && !r.forgotten(key) && !x.Status.Final() {
			if t := r.track(key, x.CumFillQty); t != nil {
				t.status = x.Status
			}
		}
	}
}

// outcome is told how Place ended: a placement the venue may have taken
// without the session hearing of it (the connection lost before the
// answer, an answer that could not be read, none in time) is looked up by
// its client order id in the next pass, when it has one.
func (r *reconciler) outcome(req *schema.OrderRequest, err error) {
	if err == nil || req.Action != schema.ActionPlace || req.ClientOrderID.IsZero() || errors.Is(err, ErrNotSent) {
		return
	}
	var verr *VenueError
	unknown := errors.Is(err, ErrDisconnected) || errors.Is(err, ErrBadAnswer) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
	if errors.As(err, &verr) || !unknown {
		return // refused, or another failure that leaves no order
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.unsure) >= unsureCap {
		r.overflow.Add(1)
		return
	}
	r.unsure[orderKey{symbol: req.Symbol, id: req.ClientOrderID}] = struct{}{}
}

// resolve looks up the placements of unknown outcome (order.status by
// client order id) and follows those the venue has; -2013 says it never
// took one. Others stay for the next pass.
func (r *reconciler) resolve(ctx context.Context, conn uint64) error {
	for _, ck := range keysOf(&r.mu, r.unsure) {
		var st []normalize.BinanceOrder
		err := r.ask(ctx, conn, "order.status", ck, normalize.BinanceWeightOrderStatus,
			func(id uint64) ([]byte, error) {
				return r.o.enc.AppendOrderStatusByClientID(nil, id, ck.symbol, ck.id)
			},
			func(b []byte) (err error) {
				st, err = normalize.ParseBinanceOrders(b, r.s.syms, st[:0])
				return err
			})
		var qerr *normalize.BinanceQueryError
		switch {
		case errors.As(err, &qerr) && qerr.Code == -2013: // never placed
		case ctx.Err() != nil || errors.Is(err, errConnLost):
			return err
		case err != nil:
			continue // counted and logged; the next pass asks again
		case len(st) == 1:
			key := orderKey{symbol: st[0].Symbol, id: st[0].VenueOrderID}
			r.mu.Lock()
			if r.orders[key] == nil && !r.forgotten(key) {
				r.track(key, schema.Decimal{})
			}
			r.mu.Unlock()
		}
		r.mu.Lock()
		delete(r.unsure, ck)
		r.mu.Unlock()
	}
	return nil
}

// pass reconciles every order open when it starts, one after the other,
// after looking up the placements of unknown outcome.
func (r *reconciler) pass(ctx context.Context, conn uint64) {
	r.passes.Add(1)
	if r.resolve(ctx, conn) != nil {
		return
	}
	for _, key := range keysOf(&r.mu, r.orders) {
		if err := r.reconcile(ctx, conn, key); err != nil {
			if ctx.Err() != nil || errors.Is(err, errConnLost) {
				return // the next subscription's pass does it all again
			}
			r.gap(ctx, key, err)
		}
	}
}

// reconcile asks what became of one order and publishes what the stream
// did not deliver: its missing fills (myTrades, only when order.status
// says more has filled than was delivered), then the status it ended in.
func (r *reconciler) reconcile(ctx context.Context, conn uint64, key orderKey) error {
	var st []normalize.BinanceOrder
	err := r.ask(ctx, conn, "order.status", key, normalize.BinanceWeightOrderStatus,
		func(id uint64) ([]byte, error) { return r.o.enc.AppendOrderStatus(nil, id, key.symbol, key.id) },
		func(b []byte) (err error) { st, err = normalize.ParseBinanceOrders(b, r.s.syms, st[:0]); return err })
	if err == nil && len(st) != 1 {
		err = fmt.Errorf("%w: order.status answered %d orders", ErrBadAnswer, len(st))
	}
	if err != nil {
		return err
	}
	order := &st[0]
	r.mu.Lock()
	t := r.orders[key]
	var missing bool
	if t != nil {
		known, _ := t.floor.Add(t.delivered)
		missing = order.CumFillQty.Cmp(known) > 0
	}
	r.mu.Unlock()
	if t == nil {
		return nil // ended meanwhile, on the stream
	}
	var trades []normalize.BinanceTrade
	if missing {
		if trades, err = r.trades(ctx, conn, key); err != nil {
			return err
		}
	}
	return r.publish(ctx, key, order, trades)
}

// trades reads every fill of an order, page after page.
func (r *reconciler) trades(ctx context.Context, conn uint64, key orderKey) ([]normalize.BinanceTrade, error) {
	var all []normalize.BinanceTrade
	from := uint64(0)
	for page := 0; page < maxTradePages; page++ {
		n := len(all)
		err := r.ask(ctx, conn, "myTrades", key, normalize.BinanceWeightMyTrades,
			func(id uint64) ([]byte, error) { return r.o.enc.AppendMyTrades(nil, id, key.symbol, key.id, from) },
			func(b []byte) (err error) { all, err = normalize.ParseBinanceTrades(b, r.s.syms, all[:n]); return err })
		if err != nil {
			return nil, err
		}
		if len(all)-n < normalize.BinanceMyTradesLimit {
			return all, nil
		}
		last, ok := tradeID(&schema.Execution{ExecType: schema.ExecTrade, TradeID: all[len(all)-1].TradeID})
		if !ok {
			return nil, fmt.Errorf("%w: trade id %q is not an integer", ErrBadAnswer, all[len(all)-1].TradeID.String())
		}
		from = last + 1
	}
	return nil, fmt.Errorf("session: more than %d trades", maxTradePages*normalize.BinanceMyTradesLimit)
}

// publish hands the host, under the tracking lock (so that no streamed
// report of the order comes between), the fills not delivered yet, in
// trade-id order, each with the venue's cumulative quantities at that
// fill, then the order's end when it ended in the window.
func (r *reconciler) publish(ctx context.Context, key orderKey, order *normalize.BinanceOrder, trades []normalize.BinanceTrade) error {
	sortTrades(trades)
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.orders[key]
	if t == nil {
		return nil
	}
	var cum, cumQuote schema.Decimal
	for i := range trades {
		tr := &trades[i]
		if tr.OrderID != key.id {
			continue
		}
		cum, _ = cum.Add(tr.Qty)
		cumQuote, _ = cumQuote.Add(tr.QuoteQty)
		id, ok := tradeID(&schema.Execution{ExecType: schema.ExecTrade, TradeID: tr.TradeID})
		if !ok || cum.Cmp(t.floor) <= 0 || t.has(id) {
			continue // before the session saw the order, or delivered
		}
		ev, err := r.event(ctx, key, order)
		if err != nil {
			return err
		}
		x := &ev.Exec
		x.ExecType, x.TradeID = schema.ExecTrade, tr.TradeID
		x.LastFillPrice, x.LastFillQty, x.CumFillQty, x.CumQuoteQty = tr.Price, tr.Qty, cum, cumQuote
		x.Fee, x.FeeAsset, x.IsMaker = tr.Commission, tr.CommissionAsset, tr.IsMaker
		x.TransactTime, ev.ExchangeTS = tr.Time, tr.Time
		x.Status = schema.StatusPartiallyFilled
		if cum.Cmp(x.Qty) >= 0 {
			x.Status = schema.StatusFilled
		}
		x.RemainingQty = schema.Decimal{}
		if cum.Cmp(x.Qty) < 0 {
			x.RemainingQty, _ = x.Qty.Sub(cum)
		}
		t.trades = append(t.trades, id)
		t.delivered, _ = t.delivered.Add(tr.Qty)
		t.status = x.Status
		r.reconciled.Add(1)
		if err := r.s.disp.Publish(ctx, ev); err != nil {
			return err
		}
	}
	if order.Status.Final() && order.Status != schema.StatusFilled && t.status != order.Status {
		ev, err := r.event(ctx, key, order)
		if err != nil {
			return err
		}
		x := &ev.Exec
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
		r.forget(key) // its fills were delivered or were before the session saw it
	case !t.status.Final():
		t.status = order.Status
	}
	return nil
}

// endExecType is the execution type Binance streams with an order's end
// other than a fill.
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
// order.status answered it and marked Reconciled.
func (r *reconciler) event(ctx context.Context, key orderKey, order *normalize.BinanceOrder) (*schema.CanonicalEvent, error) {
	gctx, cancel := context.WithTimeout(ctx, DefaultRESTTimeout)
	defer cancel()
	ev, err := r.s.pools.Events.Get(gctx)
	if err != nil {
		return nil, err
	}
	ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, key.symbol, schema.EventExecReport
	ev.IngestTS = time.Now().UnixNano()
	ev.Exec = order.Execution
	ev.Exec.Reconciled = true
	return ev, nil
}

// gap tells the host that reconciliation gave up on an order: a gap marker
// (schema.EventGap, GapType EventExecReport, GapSource venue, the order's
// ids in Exec, the error in Reason; the venue's code in Code when it
// refused), logged at Error. Its execution reports of the window may be
// lost. The order stays tracked: the next reconnect tries again.
func (r *reconciler) gap(ctx context.Context, key orderKey, cause error) {
	r.gaps.Add(1)
	if r.s.cfg.Logger != nil {
		r.s.cfg.Logger.Error("session: execution reports of an order may be lost: reconciliation gave up",
			"symbol", key.symbol, "order_id", key.id.String(), "err", cause)
	}
	ev, err := r.s.pools.Events.Get(ctx)
	if err != nil {
		return
	}
	ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, key.symbol, schema.EventGap
	ev.IngestTS = time.Now().UnixNano()
	ev.Control.Kind, ev.Control.GapType, ev.Control.GapSource = schema.ControlGap, schema.EventExecReport, schema.GapVenue
	ev.Control.Reason = "reconcile: order " + key.id.String() + ": " + cause.Error()
	var qerr *normalize.BinanceQueryError
	if errors.As(cause, &qerr) {
		ev.Control.Code = qerr.Code
	}
	ev.Exec.VenueOrderID = key.id
	_ = r.s.disp.Publish(ctx, ev)
}

func sortTrades(ts []normalize.BinanceTrade) {
	id := func(t *normalize.BinanceTrade) uint64 {
		n, _ := parseTradeID(t.TradeID.Bytes())
		return n
	}
	slices.SortStableFunc(ts, func(a, b normalize.BinanceTrade) int { return cmp.Compare(id(&a), id(&b)) })
}

// weightBucket paces queries within a request-weight budget per minute:
// a token bucket holding at most a minute's budget.
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
