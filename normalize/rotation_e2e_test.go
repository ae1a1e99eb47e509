package normalize_test

import (
	"context"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// These tests rotate a client make-before-break, several times, against a
// venue on loopback whose every connection carries the same market — one
// trade and one book change per millisecond — framed as the venue frames
// it, with what the venue stamps per connection: Coinbase Advanced
// Trade's sequence_num and timestamp (no two frames of two connections are
// the same bytes: every switch is unaligned), Kraken v1's channelID (the
// same data under another number: aligned on normalize's AlignKey),
// Kraken v2's identical frames and heartbeats. Each new connection gets
// what the venue sends on a subscription: recent trades (Coinbase,
// Kraken v2) and a book snapshot. The subscriber must see every trade
// exactly once, and the book must end equal to the venue's, never having
// applied a message of an old connection after a new one's.

const e2eWait = 20 * time.Second

// simTrade is one trade of the market; its quantity is id·10⁻⁸, which
// names it where the venue sends no id (Kraken v1).
type simTrade struct{ id, price int }

// simEvent is one step of the market: a trade and a book change, with the
// book's Kraken checksum after it.
type simEvent struct {
	trade     simTrade
	bid       bool
	price     int
	qty       int // 0 deletes the level
	checksum  uint32
	timestamp time.Time
}

// simMarket is the venue's one instrument: every subscribed connection
// gets every event from its snapshot on.
type simMarket struct {
	mu     sync.Mutex
	subs   map[chan simEvent]struct{}
	trades []simTrade
	bids   map[int]int // price → quantity
	asks   map[int]int
	last   int
	run    bool
	halted sync.Once
	stop   chan struct{}
	done   chan struct{}
}

func newSimMarket() *simMarket {
	m := &simMarket{subs: map[chan simEvent]struct{}{}, bids: map[int]int{}, asks: map[int]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	for i := range 5 {
		m.bids[100+i], m.asks[110+i] = 1+i, 1+i
	}
	return m
}

// subscribe registers ch and returns what a new subscriber is sent first,
// under the market's lock: the events after it are exactly those on ch.
// The market starts at its first subscriber.
func (m *simMarket) subscribe(ch chan simEvent, first func(trades []simTrade, bids, asks map[int]int) []string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs[ch] = struct{}{}
	if !m.run {
		m.run = true
		go m.generate()
	}
	return first(m.trades[max(0, len(m.trades)-50):], m.bids, m.asks)
}

func (m *simMarket) unsubscribe(ch chan simEvent) {
	m.mu.Lock()
	delete(m.subs, ch)
	m.mu.Unlock()
}

// generate makes an event every millisecond until halt: the venue's
// traffic, not a wait of the test.
func (m *simMarket) generate() {
	defer close(m.done)
	tk := time.NewTicker(time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-tk.C:
		case <-m.stop:
			return
		}
		m.mu.Lock()
		m.last++
		n := m.last
		ev := simEvent{trade: simTrade{id: n, price: 100 + n%20}, bid: n%2 == 0, qty: (n / 2) % 5, timestamp: time.Now().UTC()}
		side := m.asks
		ev.price = 110 + (n*7)%10
		if ev.bid {
			side, ev.price = m.bids, 100+(n*3)%10
		}
		if ev.qty == 0 {
			delete(side, ev.price)
		} else {
			side[ev.price] = ev.qty
		}
		m.trades = append(m.trades, ev.trade)
		ev.checksum = krakenChecksum(m.bids, m.asks)
		for ch := range m.subs {
			select {
			case ch <- ev:
			default:
				panic("simMarket: a connection is too slow for the test")
			}
		}
		m.mu.Unlock()
	}
}

// halt stops the market and returns its last trade id.
func (m *simMarket) halt() int {
	m.mu.Lock()
	run := m.run
	m.mu.Unlock()
	if run {
		m.halted.Do(func() { close(m.stop) })
		<-m.done
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// book returns the market's book, bids best first then asks best first.
func (m *simMarket) book() (bids, asks []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return levelsOf(m.bids, true), levelsOf(m.asks, false)
}

func levelsOf(side map[int]int, bid bool) []string {
	prices := make([]int, 0, len(side))
	for p := range side {
		prices = append(prices, p)
	}
	slices.Sort(prices)
	if bid {
		slices.Reverse(prices)
	}
	out := make([]string, len(prices))
	for i, p := range prices {
		out[i] = fmt.Sprintf("%d@%d", side[p], p)
	}
	return out
}

// krakenChecksum is Kraken's: the top 10 asks then bids, each price and
// quantity without point and leading zeros, CRC32.
func krakenChecksum(bids, asks map[int]int) uint32 {
	var b strings.Builder
	for i, side := range []map[int]int{asks, bids} {
		prices := make([]int, 0, len(side))
		for p := range side {
			prices = append(prices, p)
		}
		slices.Sort(prices)
		if i == 1 {
			slices.Reverse(prices)
		}
		for _, p := range prices[:min(10, len(prices))] {
			fmt.Fprintf(&b, "%d00000%d00000000", p, side[p])
		}
	}
	return crc32.ChecksumIEEE([]byte(b.String()))
}

// simFormat frames the market as one venue does, for connection n.
type simFormat interface {
	// first returns the frames of a new subscription.
	first(c *simConnState, trades []simTrade, bids, asks map[int]int) []string
	// event returns the frames of one market event.
	event(c *simConnState, ev simEvent) []string
}

// simConnState is what a venue keeps per connection.
type simConnState struct {
	n   int // the connection, from 1
	seq int // Coinbase sequence_num
}

// simVenue is a WebSocket server on loopback serving the market.
type simVenue struct {
	srv    *httptest.Server
	m      *simMarket
	format simFormat
	subs   int             // subscription messages a connection sends
	lag    func(n int) int // events connection n holds back (it lags the venue); nil: none
	conns  atomic.Int32
	wg     sync.WaitGroup
	stop   chan struct{}
}

func newSimVenue(t *testing.T, format simFormat, subs int) *simVenue {
	v := &simVenue{m: newSimMarket(), format: format, subs: subs, stop: make(chan struct{})}
	v.srv = httptest.NewServer(http.HandlerFunc(v.accept))
	t.Cleanup(func() {
		v.m.halt()
		close(v.stop)
		v.wg.Wait()
		v.srv.Close()
	})
	return v
}

func (v *simVenue) url() string { return "ws" + strings.TrimPrefix(v.srv.URL, "http") }

func (v *simVenue) accept(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	v.wg.Add(1)
	defer v.wg.Done()
	defer func() { _ = ws.CloseNow() }()
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-v.stop:
		case <-base.Done():
		}
		cancel()
	}()
	ctx := base
	for range v.subs {
		if _, _, err := ws.Read(ctx); err != nil {
			return
		}
	}
	st := &simConnState{n: int(v.conns.Add(1))}
	ch := make(chan simEvent, 1<<16)
	first := v.m.subscribe(ch, func(trades []simTrade, bids, asks map[int]int) []string {
		return v.format.first(st, trades, bids, asks)
	})
	defer v.m.unsubscribe(ch)
	ctx = ws.CloseRead(ctx) // ends when the client goes
	send := func(frames []string) bool {
		for _, f := range frames {
			if ws.Write(ctx, websocket.MessageText, []byte(f)) != nil {
				return false
			}
		}
		return true
	}
	if !send(first) {
		return
	}
	lag := 0
	if v.lag != nil {
		lag = v.lag(st.n)
	}
	var held []simEvent
	for {
		select {
		case ev := <-ch:
			held = append(held, ev)
			for len(held) > lag {
				if !send(v.format.event(st, held[0])) {
					return
				}
				held = held[1:]
			}
		case <-ctx.Done():
			return
		}
	}
}

// Coinbase Advanced Trade: market_trades and level2 (l2_data), every
// frame with the connection's sequence_num (from 0) and its own
// timestamp; a subscription brings the last trades (newest first) and the
// book.
type coinbaseFormat struct{}

func (coinbaseFormat) frame(c *simConnState, channel, events string) string {
	s := fmt.Sprintf(`{"channel":%q,"client_id":"","timestamp":%q,"sequence_num":%d,"events":[%s]}`,
		channel, time.Now().UTC().Format(time.RFC3339Nano), c.seq, events)
	c.seq++
	return s
}

func cbTrade(tr simTrade) string {
	return fmt.Sprintf(`{"trade_id":"%d","product_id":"ETH-USD","price":"%d.00","size":"%s","side":"BUY","time":"2026-04-07T14:30:02.%06dZ"}`,
		tr.id, tr.price, qtyOf(tr.id), tr.id%1000000)
}

func cbLevel(bid bool, price, qty int) string {
	side := "offer"
	if bid {
		side = "bid"
	}
	return fmt.Sprintf(`{"side":%q,"event_time":"2026-04-07T14:30:00Z","price_level":"%d.00","new_quantity":"%d.0"}`, side, price, qty)
}

func (f coinbaseFormat) first(c *simConnState, trades []simTrade, bids, asks map[int]int) []string {
	var ts, ls []string
	for i := len(trades) - 1; i >= 0; i-- {
		ts = append(ts, cbTrade(trades[i]))
	}
	for p, q := range bids {
		ls = append(ls, cbLevel(true, p, q))
	}
	for p, q := range asks {
		ls = append(ls, cbLevel(false, p, q))
	}
	return []string{
		f.frame(c, "subscriptions", `{"subscriptions":{"market_trades":["ETH-USD"],"level2":["ETH-USD"]}}`),
		f.frame(c, "market_trades", `{"type":"snapshot","trades":[`+strings.Join(ts, ",")+`]}`),
		f.frame(c, "l2_data", `{"type":"snapshot","product_id":"ETH-USD","updates":[`+strings.Join(ls, ",")+`]}`),
	}
}

func (f coinbaseFormat) event(c *simConnState, ev simEvent) []string {
	return []string{
		f.frame(c, "market_trades", `{"type":"update","trades":[`+cbTrade(ev.trade)+`]}`),
		f.frame(c, "l2_data", `{"type":"update","product_id":"ETH-USD","updates":[`+cbLevel(ev.bid, ev.price, ev.qty)+`]}`),
	}
}

// Kraken v1: a channelID per subscription of a connection, trades with no
// id, book-10 with a checksum on every update, heartbeats.
type krakenV1Format struct{}

func (krakenV1Format) chans(c *simConnState) (trade, book int) { return 1000*c.n + 1, 1000*c.n + 2 }

// krV1Level is a level with the time of its last change (the event's
// number), as Kraken stamps each level.
func krV1Level(price, qty, at int) string {
	return fmt.Sprintf(`["%d.00000","%d.00000000","1618678133.%06d"]`, price, qty, at)
}

func (f krakenV1Format) first(c *simConnState, _ []simTrade, bids, asks map[int]int) []string {
	trade, bk := f.chans(c)
	var as, bs []string
	for _, p := range sortedPrices(asks, false) {
		as = append(as, krV1Level(p, asks[p], 0))
	}
	for _, p := range sortedPrices(bids, true) {
		bs = append(bs, krV1Level(p, bids[p], 0))
	}
	return []string{
		fmt.Sprintf(`{"connectionID":%d,"event":"systemStatus","status":"online","version":"1.9.0"}`, 77+c.n),
		fmt.Sprintf(`{"channelID":%d,"channelName":"trade","event":"subscriptionStatus","pair":"ETH/USD","status":"subscribed","subscription":{"name":"trade"}}`, trade),
		fmt.Sprintf(`{"channelID":%d,"channelName":"book-10","event":"subscriptionStatus","pair":"ETH/USD","status":"subscribed","subscription":{"depth":10,"name":"book"}}`, bk),
		fmt.Sprintf(`[%d,{"as":[%s],"bs":[%s]},"book-10","ETH/USD"]`, bk, strings.Join(as, ","), strings.Join(bs, ",")),
	}
}

func (f krakenV1Format) event(c *simConnState, ev simEvent) []string {
	trade, bk := f.chans(c)
	key := "a"
	if ev.bid {
		key = "b"
	}
	out := []string{
		fmt.Sprintf(`[%d,[["%d.00000","%s","1618678142.%06d","b","l",""]],"trade","ETH/USD"]`, trade, ev.trade.price, qtyOf(ev.trade.id), ev.trade.id%1000000),
		fmt.Sprintf(`[%d,{%q:[%s],"c":"%d"},"book-10","ETH/USD"]`, bk, key, krV1Level(ev.price, ev.qty, ev.trade.id), ev.checksum),
	}
	if ev.trade.id%4 == 0 {
		out = append(out, `{"event":"heartbeat"}`)
	}
	return out
}

// Kraken v2 trades: the same bytes on every connection, the last trades
// on a subscription, heartbeats.
type krakenV2Format struct{}

func krV2Trade(tr simTrade) string {
	return fmt.Sprintf(`{"symbol":"ETH/USD","side":"buy","price":%d.5,"qty":%s,"ord_type":"limit","trade_id":%d,"timestamp":"2024-05-27T12:33:10.%06dZ"}`,
		tr.price, qtyOf(tr.id), tr.id, tr.id%1000000)
}

func (krakenV2Format) first(_ *simConnState, trades []simTrade, _, _ map[int]int) []string {
	ts := make([]string, len(trades))
	for i, tr := range trades {
		ts[i] = krV2Trade(tr)
	}
	return []string{
		`{"method":"subscribe","result":{"channel":"trade","snapshot":true,"symbol":"ETH/USD"},"success":true}`,
		`{"channel":"trade","type":"snapshot","data":[` + strings.Join(ts, ",") + `]}`,
	}
}

func (krakenV2Format) event(_ *simConnState, ev simEvent) []string {
	out := []string{`{"channel":"trade","type":"update","data":[` + krV2Trade(ev.trade) + `]}`}
	if ev.trade.id%3 == 0 {
		out = append(out, `{"channel":"heartbeat"}`)
	}
	return out
}

func sortedPrices(side map[int]int, bid bool) []int {
	prices := make([]int, 0, len(side))
	for p := range side {
		prices = append(prices, p)
	}
	slices.Sort(prices)
	if bid {
		slices.Reverse(prices)
	}
	return prices
}

// qtyOf is the quantity that names trade id: id·10⁻⁸.
func qtyOf(id int) string { return fmt.Sprintf("0.%08d", id) }

// rotClock is the wall clock but for the long timers (MaxAge), which fire
// when the test says: rotations come when the test wants them.
type rotClock struct {
	wsclient.Clock
	mu    sync.Mutex
	armed map[*manualTimer]struct{}
}

const manualAfter = 30 * time.Minute

func (c *rotClock) NewTimer(d time.Duration) wsclient.Timer {
	if d < manualAfter {
		return c.Clock.NewTimer(d)
	}
	t := &manualTimer{clk: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	c.armed[t] = struct{}{}
	c.mu.Unlock()
	return t
}

// fire fires the armed long timers.
func (c *rotClock) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for t := range c.armed {
		t.ch <- time.Now()
		delete(c.armed, t)
	}
}

func (c *rotClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.armed)
}

type manualTimer struct {
	clk *rotClock
	ch  chan time.Time
}

func (t *manualTimer) C() <-chan time.Time { return t.ch }

func (t *manualTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	_, was := t.clk.armed[t]
	delete(t.clk.armed, t)
	select {
	case <-t.ch:
	default:
	}
	return was
}

func (t *manualTimer) Reset(time.Duration) bool {
	was := t.Stop()
	t.clk.mu.Lock()
	t.clk.armed[t] = struct{}{}
	t.clk.mu.Unlock()
	return was
}

// tradeLog records the trades a subscriber sees, by the id their
// quantity names.
type tradeLog struct {
	events *pool.Pool[*schema.CanonicalEvent]
	mu     sync.Mutex
	ids    []int
	gaps   [][2]int // trade ids announced lost by gap markers
}

func (l *tradeLog) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	if ev.Type == schema.EventTrade {
		id, err := strconv.Atoi(strings.TrimPrefix(ev.Trade.Qty.String(), "0."))
		l.mu.Lock()
		if err != nil {
			id = -1
		}
		l.ids = append(l.ids, id)
		l.mu.Unlock()
	}
	if ev.Type == schema.EventGap && ev.Control.GapType == schema.EventTrade {
		l.mu.Lock()
		l.gaps = append(l.gaps, [2]int{int(ev.Control.GapFirstSeq), int(ev.Control.GapLastSeq)})
		l.mu.Unlock()
	}
	l.events.Put(ev)
	return nil
}

func (l *tradeLog) snapshot() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ids)
}

func (l *tradeLog) has(last int) bool {
	ids := l.snapshot()
	return len(ids) > 0 && slices.Max(ids) >= last
}

// rotationCase is one venue's run.
type rotationCase struct {
	venue   schema.Venue
	format  simFormat
	subs    []string
	parser  func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser
	rule    *book.Rule // nil: no book
	aligned bool       // every switch aligned (no ErrRotationUnaligned)
	// lag: connections 1 and 3 lag the venue by that many events, more
	// than an unaligned switch covers: trades are lost, and announced.
	lag int
}

func TestRotationExactlyOnce(t *testing.T) {
	cases := map[string]rotationCase{
		"coinbase advanced trade": {venue: schema.VenueCoinbase, format: coinbaseFormat{},
			subs:   []string{`{"type":"subscribe","channel":"market_trades","product_ids":["ETH-USD"]}`, `{"type":"subscribe","channel":"level2","product_ids":["ETH-USD"]}`},
			parser: normalize.NewCoinbase, rule: &book.Coinbase},
		"coinbase advanced trade, the old connection lagging": {venue: schema.VenueCoinbase, format: coinbaseFormat{},
			subs:   []string{`{"type":"subscribe","channel":"market_trades","product_ids":["ETH-USD"]}`},
			parser: normalize.NewCoinbase, lag: 600},
		"kraken v1": {venue: schema.VenueKraken, format: krakenV1Format{},
			subs:   []string{`{"event":"subscribe","pair":["ETH/USD"],"subscription":{"name":"trade"}}`, `{"event":"subscribe","pair":["ETH/USD"],"subscription":{"name":"book","depth":10}}`},
			parser: normalize.NewKraken, rule: &book.KrakenV1, aligned: true},
		"kraken v2": {venue: schema.VenueKraken, format: krakenV2Format{},
			subs:   []string{`{"method":"subscribe","params":{"channel":"trade","symbol":["ETH/USD"]}}`},
			parser: normalize.NewKraken, aligned: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { testRotationExactlyOnce(t, tc) })
	}
}

func testRotationExactlyOnce(t *testing.T, tc rotationCase) {
	v := newSimVenue(t, tc.format, len(tc.subs))
	if tc.lag > 0 {
		v.lag = func(n int) int {
			if n == 1 || n == 3 {
				return tc.lag
			}
			return 0
		}
	}
	pools := schema.NewPools(nil)
	log := &tradeLog{events: pools.Events}
	books := book.NewBooks(log, pools.Events, nil)
	var bk *book.Book
	if tc.rule != nil {
		var err error
		bk, err = book.NewBook(*tc.rule, "ETH-USD", nil)
		require.NoError(t, err)
		books.Add(bk)
	}
	p := tc.parser(pools.Events, books, nil)

	// The handler sees the connections in order: never a frame of a
	// connection after one of a later connection.
	var newest, late atomic.Uint64
	handle := func(ctx context.Context, f *schema.WsFrame) error {
		if f.ConnID < newest.Load() {
			late.Add(1)
		}
		newest.Store(max(newest.Load(), f.ConnID))
		return p.HandleFrame(ctx, f)
	}
	clk := &rotClock{Clock: wsclient.SystemClock(), armed: map[*manualTimer]struct{}{}}
	opts := &wsclient.Options{
		Venue: tc.venue, Frames: pools.Frames, Clock: clk, AlignKey: p.AlignKey,
		PingInterval: -1, IdleTimeout: -1, ControlRate: -1,
		MaxAge: time.Hour, RotationOverlap: 300 * time.Millisecond,
		OnEvent: books.OnEvent(tc.venue, nil),
	}
	if tc.aligned {
		// The overlap is wall-clock time for the old connection to reach
		// the new one's first frame; an aligned switch ends it at once, so
		// a bound a loaded machine does not reach costs nothing, where
		// 300 ms made "every switch aligned" a timing assumption. (Below
		// e2eWait, so that a switch that never aligns still fails on
		// Unaligned, not on a rotation that did not come.)
		opts.RotationOverlap = 5 * time.Second
	}
	for _, s := range tc.subs {
		opts.Subscriptions = append(opts.Subscriptions, []byte(s))
	}
	c, err := wsclient.New(v.url(), handle, opts)
	require.NoError(t, err)
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(context.Background()) }()

	const rotations = 4
	for r := 1; r <= rotations; r++ {
		from := len(log.snapshot())
		require.Eventually(t, func() bool { return len(log.snapshot()) > from+40 }, e2eWait, time.Millisecond, "connection %d delivers", r)
		require.Eventually(t, func() bool { return clk.pending() > 0 }, e2eWait, time.Millisecond, "rotation %d armed", r)
		clk.fire()
		require.Eventually(t, func() bool { return c.Stats().Rotations >= uint64(r) }, e2eWait, time.Millisecond, "rotation %d", r)
	}
	from := len(log.snapshot())
	require.Eventually(t, func() bool { return len(log.snapshot()) > from+40 }, e2eWait, time.Millisecond)
	last := v.m.halt()
	require.Eventually(t, func() bool { return log.has(last) }, e2eWait, time.Millisecond, "trade %d delivered", last)
	if bk != nil {
		bids, asks := v.m.book()
		require.Eventually(t, func() bool {
			var top schema.CanonicalEvent
			live := bk.Top(0, &top)
			return live && slices.Equal(bids, levelStrings(top.Book.Bids)) && slices.Equal(asks, levelStrings(top.Book.Asks))
		}, e2eWait, time.Millisecond, "the book ends as the venue's")
	}
	var bs book.Stats
	if bk != nil {
		bs = bk.Stats() // before Close, which invalidates the book
	}
	require.NoError(t, c.Close(context.Background()))
	if err := <-runErr; err != nil {
		require.ErrorIs(t, err, wsclient.ErrClosed)
	}

	// Every trade exactly once — but for those a gap marker announced
	// lost: an unaligned switch (Coinbase) while the old connection
	// lagged the venue by more than the overlap and the recent trades
	// (a machine too loaded to keep up), never silently.
	ids := log.snapshot()
	log.mu.Lock()
	gaps := slices.Clone(log.gaps)
	log.mu.Unlock()
	announced := func(id int) bool {
		for _, g := range gaps {
			if g[0] <= id && id <= g[1] {
				return true
			}
		}
		return false
	}
	var want []int
	for id := 1; id <= last; id++ {
		if !announced(id) {
			want = append(want, id)
		}
	}
	if len(gaps) > 0 {
		t.Logf("trades announced lost: %v", gaps)
	}
	if tc.lag > 0 {
		require.NotEmpty(t, gaps, "the trades an unaligned switch lost are announced")
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	require.Equal(t, want, sorted, "every trade exactly once, none missing but those announced")
	st := c.Stats()
	require.GreaterOrEqual(t, st.Rotations, uint64(rotations))
	require.Zero(t, st.TotalReconnects())
	require.Zero(t, late.Load(), "a frame of an old connection after one of a new connection")
	ps := p.Stats()
	require.Zero(t, ps.Errors)
	require.Equal(t, uint64(len(gaps)), ps.Gaps, "no gap marker but for trades")
	if tc.aligned {
		require.Zero(t, st.Unaligned, "every switch aligned")
	} else {
		require.Positive(t, st.Unaligned, "Coinbase's frames differ per connection: the switches are unaligned")
		if len(gaps) == 0 { // an old connection far behind repeats nothing
			require.Positive(t, ps.Repeats, "the repeated trades were dropped")
		}
	}
	if bk != nil {
		require.Zero(t, bs.ChecksumErrors, "%+v", bs)
		require.Zero(t, bs.Invalidations, "%+v", bs)
		if !tc.aligned {
			require.EqualValues(t, st.Rotations+1, bs.Snapshots, "each connection's snapshot replaced the book")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	require.NoError(t, pools.Shutdown(ctx))
}

func levelStrings(levels []schema.Level) []string {
	out := make([]string, len(levels))
	for i, l := range levels {
		out[i] = fmt.Sprintf("%s@%s", strings.Split(l.Qty.String(), ".")[0], strings.Split(l.Price.String(), ".")[0])
	}
	return out
}
