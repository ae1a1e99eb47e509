package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A book's break marker names its diffs (GapType EventBookUpdate), which
// the dispatcher routed to the subscribers of diffs and of markers only:
// a host following the book by snapshots alone (the fetched snapshot the
// book publishes, or the venue's) heard nothing and kept the broken
// book's last snapshot as current. The dispatcher now routes a diff
// marker to the subscribers of snapshots too, and the book no longer
// adds a tops marker of the very view its diff marker names: every
// subscriber — of snapshots, of diffs, of both, following the book's
// tops or not — hears exactly one marker per break, on a Binance and on
// an OKX book.
func TestS38rvbookEverySubscriberHearsOneMarkerPerBreak(t *testing.T) {
	snap := map[schema.Venue]func(at int64) *schema.CanonicalEvent{
		schema.VenueBinance: func(at int64) *schema.CanonicalEvent { // a diff: the book fetches its snapshot
			ev := binanceSpotDiff(uint64(at)*10, uint64(at)*10+5, lvl1(100, 1), lvl1(101, 1))
			ev.IngestTS = at
			return ev
		},
		schema.VenueOKX: func(at int64) *schema.CanonicalEvent {
			ev := okxEvent(t, okxRaw("books", "snapshot", -1, uint64(at)*10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
			ev.IngestTS = at
			return ev
		},
	}
	rules := map[schema.Venue]Rule{schema.VenueBinance: Binance, schema.VenueOKX: OKX}
	for _, venue := range []schema.Venue{schema.VenueBinance, schema.VenueOKX} {
		for _, tops := range []bool{false, true} {
			t.Run(string(venue)+map[bool]string{false: "/no-tops", true: "/tops"}[tops], func(t *testing.T) {
				var fetched uint64
				events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
				d := dispatch.New(events, nil)
				subs := map[string][]schema.EventType{
					"snapshots": {schema.EventBookSnapshot},
					"diffs":     {schema.EventBookUpdate},
					"both":      {schema.EventBookSnapshot, schema.EventBookUpdate},
				}
				chans := map[string]*dispatch.Subscription{}
				for name, types := range subs {
					s, err := d.Subscribe(dispatch.Filter{Types: types}, nil)
					require.NoError(t, err)
					chans[name] = s
				}
				t.Cleanup(func() {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					require.NoError(t, d.Close(ctx))
				})
				fetch := FetcherFunc(func(_ context.Context, symbol string, dst *schema.CanonicalEvent) error {
					dst.Venue, dst.Symbol, dst.Type = schema.VenueBinance, symbol, schema.EventBookSnapshot
					dst.Book = schema.Book{LastSeq: fetched, Bids: lvl1(100, 1), Asks: lvl1(101, 1)}
					return nil
				})
				b, err := NewBook(rules[venue], "BTC-USDT", &Options{Sink: d, Events: events, Fetcher: fetch})
				require.NoError(t, err)
				for at := int64(1); at <= 4; at += 2 { // two breaks
					fetched = uint64(at)*10 + 2
					require.NoError(t, b.Apply(context.Background(), snap[venue](at)))
					require.True(t, b.Live())
					if tops {
						require.NoError(t, b.PublishTop(context.Background(), 0)) // the book's own view
					}
					require.NoError(t, b.Apply(context.Background(), lostConn(venue, at+1)))
					require.False(t, b.Live())
				}
				// The last event of every subscriber: a diff and a snapshot
				// published after the breaks, in line behind their markers.
				for _, typ := range []schema.EventType{schema.EventBookUpdate, schema.EventBookSnapshot} {
					ev, err := events.Get(context.Background())
					require.NoError(t, err)
					ev.Venue, ev.Symbol, ev.Type, ev.IngestTS = venue, "BTC-USDT", typ, 99
					require.NoError(t, d.Publish(context.Background(), ev))
				}
				for name, s := range chans {
					ends := len(subs[name])
					var markers int
					for ends > 0 {
						select {
						case ev := <-s.C():
							switch {
							case ev.IngestTS == 99:
								ends--
							case ev.Type == schema.EventGap:
								require.Equal(t, schema.ControlGap, ev.Control.Kind)
								markers++
							}
						case <-time.After(60 * time.Second):
							t.Fatalf("%s: not all delivered; %+v", name, s.Stats())
						}
					}
					require.Equal(t, 2, markers, "%s: one marker per break", name)
				}
			})
		}
	}
}
