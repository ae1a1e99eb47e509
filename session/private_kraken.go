package session

import (
	"context"
	"fmt"
	"time"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// KrakenKey is a Kraken spot API key and its Base64 secret, as Kraken
// issues them, with the "WebSocket interface" permission. With it,
// Config.Endpoints.API is the authenticated WebSocket
// (wss://ws-auth.kraken.com/v2) and Config.Endpoints.REST the REST base
// the WebSocket token is fetched from (https://api.kraken.com).
type KrakenKey struct {
	APIKey, Secret string
}

func (*KrakenKey) venue() schema.Venue { return schema.VenueKraken }

func (k *KrakenKey) String() string             { return redacted(schema.VenueKraken, k.APIKey) }
func (k *KrakenKey) GoString() string           { return k.String() }
func (k *KrakenKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// krakenPrivate: no login message; a WebSocket token fetched for every
// connection (Kraken "Spot REST → GetWebSocketsToken": valid 15 minutes
// until a connection uses it) goes with each private subscription.
var krakenPrivate = &privateSpec{
	subscribe: func(ctx context.Context, p *private, now time.Time) ([][]byte, error) {
		k := p.key.(*KrakenKey)
		p.mu.Lock()
		nonce := max(uint64(now.UnixMilli()), p.nonce+1) // grows with every private request of the key
		p.nonce = nonce
		p.mu.Unlock()
		ctx, cancel := context.WithTimeout(ctx, DefaultRESTTimeout)
		defer cancel()
		token, err := normalize.FetchKrakenWebSocketsToken(ctx, p.s.cfg.HTTPClient, p.s.cfg.Endpoints.REST, k.APIKey, k.Secret, nonce)
		if err != nil {
			return nil, &LoginError{Venue: schema.VenueKraken, Step: "token", Err: err}
		}
		p.reqID++
		exec, err := normalize.KrakenSubscribeExecutions(token, p.reqID, true, false)
		if err != nil {
			return nil, err
		}
		p.reqID++
		bal, err := normalize.KrakenSubscribeBalances(token, p.reqID, true)
		if err != nil {
			return nil, err
		}
		return [][]byte{exec, bal}, nil
	},
	ping: []byte(`{"method":"ping"}`), // Kraken v2 "Ping"; Kraken also sends heartbeats once subscribed
}
