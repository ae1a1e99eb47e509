package meltica_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
)

// s34ctExecs is a venue parser whose sink keeps a copy of every event
// it publishes, in order: what a host's subscribers would receive.
type s34ctExecs struct {
	t      *testing.T
	pools  *schema.Pools
	parser *normalize.Parser
	mu     sync.Mutex
	events []*schema.CanonicalEvent
	ts     int64
}

func newS34ctExecs(t *testing.T, mk func(*schema.Pools, normalize.Sink) *normalize.Parser) *s34ctExecs {
	x := &s34ctExecs{t: t, pools: schema.NewPools(nil), ts: 1_700_000_000_000_000_000}
	x.parser = mk(x.pools, normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		x.mu.Lock()
		x.events = append(x.events, ev.Clone())
		x.mu.Unlock()
		x.pools.Events.Put(ev)
		return nil
	}))
	return x
}

// feed hands one venue message to the parser and returns its error.
func (x *s34ctExecs) feed(msg string) error {
	x.ts += 1_000_000
	return x.parser.HandleBytes(context.Background(), []byte(msg), x.ts)
}

// take returns the events published since the last take.
func (x *s34ctExecs) take() []*schema.CanonicalEvent {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := x.events
	x.events = nil
	return out
}

// one feeds msg, requires it normalised into exactly one execution
// report, and returns that report's Execution.
func (x *s34ctExecs) one(msg string) schema.Execution {
	x.t.Helper()
	require.NoError(x.t, x.feed(msg), "%s", msg)
	evs := x.take()
	var execs []schema.Execution
	for _, ev := range evs {
		if ev.Type == schema.EventExecReport {
			execs = append(execs, *ev.Exec)
		}
	}
	require.Len(x.t, execs, 1, "exactly one execution report for %s; got %d events", msg, len(evs))
	return execs[0]
}

// s34ctDepthREST is a Binance depth endpoint on loopback
// ("GET /api/v3/depth", "GET /fapi/v1/depth"): it answers each request
// with the next snapshot of its list (the last one again once the list
// is spent) and keeps the paths asked (query sorted by key).
type s34ctDepthREST struct {
	mu    sync.Mutex
	snaps []string
	paths []string
	srv   *httptest.Server
}

func newS34ctDepthREST(t *testing.T, snaps ...string) *s34ctDepthREST {
	r := &s34ctDepthREST{snaps: snaps}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.paths = append(r.paths, req.URL.Path+"?"+req.URL.Query().Encode())
		body := r.snaps[0]
		if len(r.snaps) > 1 {
			r.snaps = r.snaps[1:]
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *s34ctDepthREST) asked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...)
}

// newS34ctBinanceBook is s31ctWireBook's set-up for a fetched Binance
// book: the parser feeds book.Books, whose book takes its snapshots from
// rest at path (book.BinanceSpotDepth, book.BinanceUSDMDepth).
func newS34ctBinanceBook(t *testing.T, rest *s34ctDepthREST, path string) *s31ctWireBook {
	w := &s31ctWireBook{t: t, pools: schema.NewPools(nil), ts: 1_700_000_000_000_000_000}
	w.sink = &s29ctBookSink{events: w.pools.Events}
	w.books = book.NewBooks(w.sink, w.pools.Events, nil)
	t.Cleanup(w.books.Close)
	b, err := book.NewBook(book.Binance, "BTC-USDT", &book.Options{Sink: w.sink, Events: w.pools.Events,
		Fetcher: &book.BinanceREST{BaseURL: rest.srv.URL, Path: path, Limit: 1000, Client: rest.srv.Client()}})
	require.NoError(t, err)
	w.books.Add(b)
	w.b = b
	w.parser = normalize.NewBinance(w.pools.Events, w.books, nil)
	return w
}

// s34ctLog keeps lines from any goroutine, for a failing test to print.
type s34ctLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *s34ctLog) Add(line string) {
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
}

func (l *s34ctLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
