package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// ingest is the node that holds the venue connections: market data, and the
// WS-API connection its orders go out on and execution reports come back on.
// Everything lands in its dispatcher, which the bridge's Publisher subscribes
// to. (The root module's examples share this wiring in an internal package
// this module cannot import.)
type ingest struct {
	pools   *schema.Pools
	d       *dispatch.Dispatcher
	syms    *normalize.Symbols
	market  *wsclient.Client
	orders  *wsclient.Client
	enc     *normalize.BinanceOrders
	runErrs chan error
}

func startIngest(ctx context.Context, rest, stream, api string, symbols, channels []string) (*ingest, error) {
	n := &ingest{pools: schema.NewPools(nil), syms: normalize.NewBinanceSymbols(), runErrs: make(chan error, 2)}
	if err := loadInstruments(ctx, n.syms, rest); err != nil {
		return nil, err
	}
	var topics []string
	for _, sym := range symbols {
		for _, ch := range channels {
			s, err := normalize.BinanceStream(n.syms, sym, ch)
			if err != nil {
				return nil, err
			}
			topics = append(topics, s)
		}
	}
	n.d = dispatch.New(n.pools.Events, nil)
	market, err := wsclient.New(stream, normalize.NewBinance(n.pools.Events, n.d, &normalize.Options{Symbols: n.syms}).HandleFrame, &wsclient.Options{
		Venue: schema.VenueBinance, Frames: n.pools.Frames, Topics: topics,
		EncodeSubscribe: func(dst []byte, i int, topics []string) []byte {
			msg, err := normalize.BinanceSubscribe(uint64(i), topics...)
			if err != nil {
				return dst
			}
			return append(dst, msg...)
		},
	})
	if err != nil {
		return nil, err
	}
	// The simulated venue accepts any key and signature.
	signer := normalize.NewHMACSigner([]byte("demo-secret"))
	n.enc = normalize.NewBinanceOrders(normalize.NewCredentials("demo-key", signer), &normalize.OrderOptions{Symbols: n.syms})
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	sig, err := signer.AppendSignature(nil, []byte("apiKey=demo-key&timestamp="+ts))
	if err != nil {
		return nil, err
	}
	uds := []byte(`{"id":"uds","method":"userDataStream.subscribe.signature","params":{"apiKey":"demo-key","timestamp":` + ts + `,"signature":"` + string(sig) + `"}}`)
	orders, err := wsclient.New(api, normalize.NewBinance(n.pools.Events, n.d, &normalize.Options{Symbols: n.syms}).HandleFrame, &wsclient.Options{
		Venue: schema.VenueBinance, Frames: n.pools.Frames, Subscriptions: [][]byte{uds},
	})
	if err != nil {
		return nil, err
	}
	n.market, n.orders = market, orders
	go func() { n.runErrs <- market.Run(context.WithoutCancel(ctx)) }()
	go func() { n.runErrs <- orders.Run(context.WithoutCancel(ctx)) }()
	return n, nil
}

// buy sends a market buy of qty on the WS-API connection, once it is up.
func (n *ingest) buy(ctx context.Context, id uint64, symbol, clientID, qty string) error {
	for n.orders.State() != schema.ConnConnected {
		select {
		case <-ctx.Done():
			return fmt.Errorf("order connection: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	req, err := n.pools.Orders.Get(ctx)
	if err != nil {
		return err
	}
	defer n.pools.Orders.Put(req)
	req.Venue, req.Symbol, req.Side, req.Type = schema.VenueBinance, symbol, schema.SideBuy, schema.OrderTypeMarket
	req.ClientOrderID, req.Qty = schema.MustID(clientID), schema.MustParseDecimal(qty)
	msg, err := n.enc.AppendRequest(nil, id, req)
	if err != nil {
		return err
	}
	return n.orders.Write(ctx, msg)
}

// closeConns closes both venue connections; the dispatcher is closed by the
// caller, then the pools.
func (n *ingest) closeConns(ctx context.Context) error {
	errs := []error{n.market.Close(ctx), n.orders.Close(ctx)}
	for range 2 {
		if err := <-n.runErrs; err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func loadInstruments(ctx context.Context, syms *normalize.Symbols, rest string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ins, err := normalize.FetchBinanceInstruments(ctx, nil, rest)
	if err != nil {
		return err
	}
	return syms.Load(ins)
}
