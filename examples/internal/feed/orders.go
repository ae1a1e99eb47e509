package feed

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// Orders is a WS-API connection: orders go out through it, and the
// venue's answers and execution reports come back through a parser of their
// own into the feed's dispatcher, on every subscriber's critical lane.
type Orders struct {
	Client *wsclient.Client
	Parser *normalize.Parser

	enc    *normalize.BinanceOrders
	mu     sync.Mutex
	nextID uint64
	buf    []byte
	runErr chan error
}

// Keys are API credentials; the simulated venue accepts any.
type Keys struct {
	APIKey string
	Signer normalize.Signer
}

// StartOrders connects to the venue's WS-API (the live one when venue is
// nil) and subscribes to the user-data stream, signed with keys.
func (f *Feed) StartOrders(ctx context.Context, venue *venuesim.Venue, keys Keys) (*Orders, error) {
	url := LiveAPIURL
	if venue != nil {
		url = venue.APIURL()
	}
	o := &Orders{
		enc:    normalize.NewBinanceOrders(normalize.NewCredentials(keys.APIKey, keys.Signer), &normalize.OrderOptions{Symbols: f.Symbols}),
		nextID: 1000,
		runErr: make(chan error, 1),
	}
	o.Parser = normalize.NewBinance(f.Pools.Events, f.Dispatcher, &normalize.Options{Symbols: f.Symbols})
	sub, err := userDataSubscribe(keys)
	if err != nil {
		return nil, err
	}
	o.Client, err = wsclient.New(url, o.Parser.HandleFrame, &wsclient.Options{
		Venue:         schema.VenueBinance,
		Frames:        f.Pools.Frames,
		Subscriptions: [][]byte{sub},
		OnEvent:       f.publishState,
	})
	if err != nil {
		return nil, err
	}
	go func() { o.runErr <- o.Client.Run(context.WithoutCancel(ctx)) }()
	return o, nil
}

// userDataSubscribe is the signed userDataStream.subscribe.signature
// request: apiKey and timestamp, signed in alphabetical order.
func userDataSubscribe(keys Keys) ([]byte, error) {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	payload := "apiKey=" + keys.APIKey + "&timestamp=" + ts
	sig, err := keys.Signer.AppendSignature(nil, []byte(payload))
	if err != nil {
		return nil, err
	}
	type params struct {
		APIKey    string         `json:"apiKey"`
		Timestamp jsontext.Value `json:"timestamp"`
		Signature string         `json:"signature"`
	}
	return json.Marshal(&struct {
		ID     string `json:"id"`
		Method string `json:"method"`
		Params params `json:"params"`
	}{"uds", "userDataStream.subscribe.signature", params{keys.APIKey, jsontext.Value(ts), string(sig)}})
}

// ErrNotReady is returned by Send before the WS-API connection is up.
var ErrNotReady = errors.New("feed: order connection not connected yet")

// Send encodes the order request and writes it. The request stays the
// caller's: it may be Put right after. It returns the request id the
// venue's answer (an EventControl or EventOrderAck) will carry.
func (o *Orders) Send(ctx context.Context, req *schema.OrderRequest) (uint64, error) {
	if o.Client.State() != schema.ConnConnected {
		return 0, ErrNotReady
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.nextID++
	var err error
	o.buf, err = o.enc.AppendRequest(o.buf[:0], o.nextID, req)
	if err != nil {
		return 0, err
	}
	return o.nextID, o.Client.Write(ctx, o.buf)
}

// WaitConnected polls until the order connection is up or ctx ends.
func (o *Orders) WaitConnected(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for o.Client.State() != schema.ConnConnected {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Close closes the order connection.
func (o *Orders) Close(ctx context.Context) error {
	err := o.Client.Close(ctx)
	if rerr := <-o.runErr; rerr != nil && err == nil && !errors.Is(rerr, context.Canceled) {
		err = rerr
	}
	return err
}
