package session

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/wsclient"
)

// queryIDBase starts the queries' request ids, apart from the order
// requests' (exact in a float64 still).
const queryIDBase = 1 << 40

// binanceQueries asks Binance about orders on the order connection (the
// WS-API): order.status (weight 4), myTrades (budgeted at 20) and
// openOrders.status (80), signed, each answered on the connection it went
// out on.
type binanceQueries struct {
	o *orders

	qmu      sync.Mutex
	queries  map[uint64]chan []byte
	inFlight atomic.Int32
	nextQ    atomic.Uint64
	// gaveUp: a query was given up unanswered; its answer may come at
	// any time after, so every frame's id is read from then on (the
	// order connection's frames: user data and answers, not market data).
	gaveUp atomic.Bool
}

func newBinanceQueries(o *orders) *binanceQueries {
	return &binanceQueries{o: o, queries: map[uint64]chan []byte{}}
}

var binanceRefusals = &refusalRules{
	rateStatus: []int{429, 418}, // too much weight; banned for not backing off
	rateCodes:  []int64{-1003},
	retryCodes: []int64{-1003, -1000, -1001, -1006, -1007, -1008, -1021},
	missing:    []int64{-2013},
	clockCodes: []int64{-1021},
	// Binance spot "Error codes": -2010 "Duplicate order sent."
	duplicate:    []int64{-2010},
	duplicateMsg: "Duplicate order sent",
}

func (*binanceQueries) rules() *refusalRules { return binanceRefusals }

func (*binanceQueries) budget() (perMinute, order, fills, open int) {
	return DefaultReconcileWeight, normalize.BinanceWeightOrderStatus, normalize.BinanceWeightMyTrades, normalize.BinanceWeightOpenOrders
}

func (b *binanceQueries) order(ctx context.Context, conn uint64, key orderKey, byClient bool) ([]normalize.QueryOrder, error) {
	enc := b.o.enc
	raw, err := b.query(ctx, conn, func(id uint64) ([]byte, error) {
		if byClient {
			return enc.AppendOrderStatusByClientID(nil, id, key.symbol, key.id)
		}
		return enc.AppendOrderStatus(nil, id, key.symbol, key.id)
	})
	if err != nil {
		return nil, err
	}
	return b.orders(raw, nil)
}

func (b *binanceQueries) orders(raw []byte, dst []normalize.QueryOrder) ([]normalize.QueryOrder, error) {
	os, err := normalize.ParseBinanceOrders(raw, b.o.s.syms, nil)
	for i := range os {
		dst = append(dst, normalize.QueryOrder(os[i]))
	}
	return dst, err
}

func (b *binanceQueries) open(ctx context.Context, conn uint64, _ string, dst []normalize.QueryOrder) ([]normalize.QueryOrder, string, error) {
	raw, err := b.query(ctx, conn, func(id uint64) ([]byte, error) { return b.o.enc.AppendOpenOrders(nil, id) })
	if err != nil {
		return dst, "", err
	}
	dst, err = b.orders(raw, dst)
	return dst, "", err
}

// fills reads myTrades from the trade id cursor on (a page of 1000; the
// next from the last id + 1).
func (b *binanceQueries) fills(ctx context.Context, conn uint64, key orderKey, cursor string, dst []normalize.QueryFill) ([]normalize.QueryFill, string, error) {
	from, _ := strconv.ParseUint(cursor, 10, 64)
	raw, err := b.query(ctx, conn, func(id uint64) ([]byte, error) {
		return b.o.enc.AppendMyTrades(nil, id, key.symbol, key.id, from)
	})
	if err != nil {
		return dst, "", err
	}
	trades, err := normalize.ParseBinanceTrades(raw, b.o.s.syms, nil)
	if err != nil {
		return dst, "", err
	}
	for i := range trades {
		t := &trades[i]
		dst = append(dst, normalize.QueryFill{Symbol: t.Symbol, TradeID: t.TradeID, OrderID: t.OrderID, Price: t.Price, Qty: t.Qty,
			QuoteQty: t.QuoteQty, Fee: t.Commission, FeeAsset: t.CommissionAsset, Time: t.Time, IsMaker: t.IsMaker})
	}
	if len(trades) < normalize.BinanceMyTradesLimit {
		return dst, "", nil
	}
	last, ok := parseTradeID(trades[len(trades)-1].TradeID.Bytes())
	if !ok {
		return dst, "", fmt.Errorf("%w: trade id %q is not an integer", ErrBadAnswer, trades[len(trades)-1].TradeID.String())
	}
	return dst, strconv.FormatUint(last+1, 10), nil
}

// ---- answers to the queries ----

// answer takes a frame that answers a query, in flight or given up; false
// for any other frame (the parser's). It runs on the reader, for every
// frame once a query was sent. A given-up query's late answer came to the
// parser while no other query was in flight, and passed there for the
// answer to an order request (a venue error or ack with the query's id).
func (r *binanceQueries) answer(data []byte) bool {
	if r.inFlight.Load() == 0 && !r.gaveUp.Load() {
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
	} else {
		r.answered(id) // given up: late no more
	}
	return true // a query's, awaited or given up: not for the parser (it would pass for an order's ack)
}

// errConnLost: the connection a pass queried on is gone; the next
// subscription's pass takes over.
var errConnLost = errors.New("session: order connection lost during reconciliation")

// query sends a request made by enc (with the id it is given) on conn,
// and returns the answer's bytes.
func (r *binanceQueries) query(ctx context.Context, conn uint64, enc func(id uint64) ([]byte, error)) ([]byte, error) {
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
	o.mu.Lock()
	if o.queried == nil {
		o.queried = map[uint64]int{}
	}
	o.queried[conn]++ // an id-less refusal on conn may be its answer (orders.sole)
	o.mu.Unlock()
	defer func() {
		r.qmu.Lock()
		delete(r.queries, id)
		r.qmu.Unlock()
		r.inFlight.Add(-1)
		o.mu.Lock()
		if o.queried[conn]--; o.queried[conn] == 0 {
			delete(o.queried, conn)
		}
		o.mu.Unlock()
	}()
	// The pass's ctx bounds only the wait for the client's turn: a write
	// begun is written to the end, bounded by the client's WriteTimeout
	// (wsclient never closes the connection for a caller's ctx).
	err = o.client.WriteConn(ctx, conn, msg)
	switch {
	case errors.Is(err, wsclient.ErrConnChanged), errors.Is(err, wsclient.ErrNotConnected),
		errors.Is(err, wsclient.ErrMaybeSent): // the write failed: the connection is lost
		return nil, errConnLost
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	timer := o.s.cfg.Client.Clock.NewTimer(o.s.cfg.RESTTimeout)
	defer timer.Stop()
	select {
	case b := <-ch:
		return b, nil
	case <-timer.C():
		err = fmt.Errorf("session: no answer to query %d: %w", id, restTimeout(o.s.cfg.RESTTimeout))
	case <-ctx.Done():
		err = ctx.Err()
	}
	r.givenUp(id, conn)
	return nil, err
}

// givenUp: query id, sent on conn, was given up unanswered; its answer may
// still come, and an id-less refusal ({"id":null,…}) may be it: counted
// among the requests awaiting an answer (orders.late, sole) until its
// answer comes or conn goes — else that refusal would be paired with an
// order alone in flight, failing it with the query's code.
func (r *binanceQueries) givenUp(id, conn uint64) {
	r.gaveUp.Store(true)
	o := r.o
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.upConn == conn { // a connection lost meanwhile took its answer with it (failPending)
		o.lateLocked(id, pendingOrder{conn: conn}) // counted on conn (orders.sole); a query names no order
	}
}

// answered: a given-up query's late answer came.
func (r *binanceQueries) answered(id uint64) {
	o := r.o
	o.mu.Lock()
	o.answeredLateLocked(id)
	o.mu.Unlock()
}
