package session

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"time"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// CoinbaseKey is a Coinbase Developer Platform API key: its name
// ("organizations/{org}/apiKeys/{key}") and its P-256 private key (see
// normalize.ParseCoinbaseKey). With it, Config.Endpoints.API is the
// Advanced Trade user-order WebSocket
// (wss://advanced-trade-ws-user.coinbase.com).
type CoinbaseKey struct {
	Name string
	Key  *ecdsa.PrivateKey
}

func (*CoinbaseKey) venue() schema.Venue { return schema.VenueCoinbase }

func (k *CoinbaseKey) String() string             { return redacted(schema.VenueCoinbase, k.Name) }
func (k *CoinbaseKey) GoString() string           { return k.String() }
func (k *CoinbaseKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// coinbasePrivate: no login message; a JWT made with the venue's time
// (valid two minutes) goes with the "user" subscription of every
// connection, every product's orders; and the heartbeats channel, with a
// JWT of its own: the User Order Data endpoint takes no subscription
// without one (Coinbase "WebSocket endpoints": "A CDP JWT is required").
var coinbasePrivate = &privateSpec{
	subscribe: func(_ context.Context, p *private, now time.Time) ([][]byte, error) {
		k := p.key.(*CoinbaseKey)
		jwt, err := normalize.CoinbaseJWT(k.Name, k.Key, now)
		if err != nil {
			return nil, err
		}
		user, err := normalize.CoinbaseSubscribeUser(jwt)
		if err != nil {
			return nil, err
		}
		if jwt, err = normalize.CoinbaseJWT(k.Name, k.Key, now); err != nil { // one per subscribe message
			return nil, err
		}
		// Coinbase closes a connection whose channels stay quiet for a
		// minute or so ("Heartbeats channel"): heartbeats keep it open.
		products := make([]string, 0, len(p.s.cfg.Symbols))
		for _, sym := range p.s.cfg.Symbols {
			if vs, err := p.s.syms.VenueSymbol(sym); err == nil {
				products = append(products, vs)
			}
		}
		beats, err := normalize.CoinbaseSubscribePrivate("heartbeats", jwt, products...)
		if err != nil {
			return nil, err
		}
		return [][]byte{user, beats}, nil
	},
	subNames: []string{"user", "heartbeats"},
	// queries: the execution reports the user channel missed while down
	// are reconciled from Advanced Trade's REST queries (with
	// Endpoints.REST).
	queries: coinbaseReconciler,
}
