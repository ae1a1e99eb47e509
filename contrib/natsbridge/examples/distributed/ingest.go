package main

import (
	"context"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// ingest is the node that holds the venue connections, as one
// session.Session: market data, and the WS-API connection its orders go
// out on and execution reports come back on (the user-data subscription
// signed anew on every reconnect). Everything lands in the session's
// dispatcher, which the bridge's Publisher subscribes to.
type ingest struct {
	s     *session.Session
	d     *dispatch.Dispatcher
	pools *schema.Pools
}

func startIngest(ctx context.Context, rest, stream, api string, symbols, channels []string) (*ingest, error) {
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: stream, REST: rest, API: api},
		Symbols:   symbols, Channels: channels,
		// The simulated venue accepts any key and signature.
		Credentials: normalize.NewCredentials("demo-key", normalize.NewHMACSigner([]byte("demo-secret"))),
	})
	if err != nil {
		return nil, err
	}
	return &ingest{s: s, d: s.Dispatcher(), pools: s.Pools()}, nil
}

// buy places a market buy of qty once the order connection is up and
// returns the venue's answer as an error when it refused. The session
// numbers its requests itself: the demo's id is not needed any more.
func (n *ingest) buy(ctx context.Context, _ uint64, symbol, clientID, qty string) error {
	req, err := n.pools.Orders.Get(ctx)
	if err != nil {
		return err
	}
	defer n.pools.Orders.Put(req)
	req.Symbol, req.Side, req.Type = symbol, schema.SideBuy, schema.OrderTypeMarket
	req.ClientOrderID, req.Qty = schema.MustID(clientID), schema.MustParseDecimal(qty)
	_, err = n.s.Place(ctx, req)
	return err
}

// closeConns closes the session: its connections, then its dispatcher
// (draining into the Publisher's subscription), then its pools with the
// leak check. The caller's later Close of the dispatcher and Shutdown of
// the pools find them done.
func (n *ingest) closeConns(ctx context.Context) error { return n.s.Close(ctx) }
