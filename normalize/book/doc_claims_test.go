package book_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// The package documentation's "Wiring" and "Lost connections" sections,
// run as written against the simulated Binance: "Set [Books.OnEvent] as
// the wsclient.Options.OnEvent of every client that feeds the books: a
// disconnected, reconnecting or closed connection then invalidates every
// book of its venue as soon as wsclient reports it, and the state change
// reaches the subscribers as an schema.EventConnState through the Books'
// next sink. Nothing else is needed."
func TestDocWiringAsWritten(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 200, PingInterval: -1})
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	pools := schema.NewPools(nil)
	dispatcher := dispatch.New(pools.Events, nil)
	sub, err := dispatcher.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventConnState, schema.EventGap}},
		&dispatch.SubscribeOptions{CriticalBound: 1 << 12})
	require.NoError(t, err)

	// The doc's snippet, with the simulated venue's URLs.
	books := book.NewBooks(dispatcher, pools.Events, &book.BooksOptions{})
	b, err := book.NewBook(book.Binance, "BTC-USDT", &book.Options{
		Sink: dispatcher, Events: pools.Events,
		Fetcher: &book.BinanceREST{BaseURL: v.RESTURL()},
	})
	require.NoError(t, err)
	books.Add(b)
	parser := normalize.NewBinance(pools.Events, books, nil)
	client, err := wsclient.New(v.StreamURL("btcusdt@depth@100ms"), parser.HandleFrame, &wsclient.Options{
		Venue: schema.VenueBinance, Frames: pools.Frames,
		OnEvent: books.OnEvent(schema.VenueBinance, nil),
	})
	require.NoError(t, err)
	ran := make(chan error, 1)
	go func() { ran <- client.Run(ctx) }()

	require.Eventually(t, b.Live, time.Minute, time.Millisecond, "the book goes live from its REST snapshot")
	_, ok := b.BBO()
	assert.True(t, ok)

	before := b.Stats().Invalidations
	require.Equal(t, 1, v.Inject(venuesim.FaultClose))
	// The loss reaches the subscriber as a state and the book's marker.
	var sawLoss, sawMarker bool
	for !sawLoss || !sawMarker {
		select {
		case ev := <-sub.C():
			switch {
			case ev.Type == schema.EventConnState && ev.Control.State == schema.ConnDisconnected:
				sawLoss = true
			case ev.Type == schema.EventGap && ev.Symbol == "BTC-USDT" && ev.Control.Reason == book.ReasonReconnect:
				sawMarker = true
			}
		case <-ctx.Done():
			t.Fatalf("loss seen %v, marker seen %v", sawLoss, sawMarker)
		}
	}
	assert.Greater(t, b.Stats().Invalidations, before, "the lost connection invalidated the book")
	require.Eventually(t, b.Live, time.Minute, time.Millisecond, "and it resynchronised by itself on the new connection")

	require.NoError(t, client.Close(ctx))
	require.NoError(t, <-ran)
	require.NoError(t, dispatcher.Close(ctx))
	for range sub.C() { // a channel subscription is read to the end after Close
	}
	require.NoError(t, pools.Shutdown(ctx), "the leak check")
}
