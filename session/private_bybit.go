package session

import (
	"context"
	"fmt"
	"time"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// BybitKey is a Bybit v5 API key with its HMAC secret (Bybit v5, "WebSocket
// Connect → Authentication"; RSA keys are not supported here). With it,
// Config.Endpoints.API is the private WebSocket
// (wss://stream.bybit.com/v5/private; testnet
// wss://stream-testnet.bybit.com/v5/private), and Config.Endpoints.Trade,
// when set, the trade WebSocket that orders go on
// (wss://stream.bybit.com/v5/trade; testnet
// wss://stream-testnet.bybit.com/v5/trade).
type BybitKey struct {
	APIKey string
	Secret []byte
}

func (*BybitKey) venue() schema.Venue { return schema.VenueBybit }

func (k *BybitKey) String() string             { return redacted(schema.VenueBybit, k.APIKey) }
func (k *BybitKey) GoString() string           { return k.String() }
func (k *BybitKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// bybitAuthValidity is how far past the venue's time a Bybit auth
// request's "expires" lies.
const bybitAuthValidity = 10 * time.Second

// bybitPrivate: auth (expires = the venue's time + 10 s: a request
// replayed later is refused), then the private topics, one to a request.
var bybitPrivate = &privateSpec{
	login: func(p *private, now time.Time) ([]byte, error) {
		k := p.key.(*BybitKey)
		return normalize.BybitAuth(normalize.NewCredentials(k.APIKey, normalize.NewHMACSigner(k.Secret)), p.nextID(), now.Add(bybitAuthValidity))
	},
	// A topic to a request: a refusal (Bybit answers a request with one
	// success or failure) then names its topic, and the topics the venue
	// took are not asked again with it (Bybit refuses a topic a
	// connection has).
	subscribe: func(_ context.Context, p *private, _ time.Time) ([][]byte, error) {
		msgs := make([][]byte, 0, len(bybitPrivateTopics))
		for _, topic := range bybitPrivateTopics {
			msg, err := normalize.BybitSubscribe(p.nextID(), topic)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, msg)
		}
		return msgs, nil
	},
	subNames: bybitPrivateTopics,
	ping:     []byte(`{"op":"ping"}`), // Bybit v5 "Connect → How to Send the Heartbeat Packet": every 20 s
	trade:    bybitTrade,
	// Fills, cancels and expiries while the connection was down are
	// reconciled from Bybit's REST queries (with Endpoints.REST).
	queries: bybitReconciler,
}

// bybitTrade is Bybit's trade WebSocket (Endpoints.Trade; Bybit v5
// "WebSocket Trade Guideline"): its own auth, made anew with the venue's
// time on every connection, no subscriptions; then order.create and
// order.cancel requests. Its pings are the private connection's.
var bybitTrade = &privateSpec{
	login: func(p *private, now time.Time) ([]byte, error) {
		k := p.key.(*BybitKey)
		return normalize.BybitTradeAuth(normalize.NewCredentials(k.APIKey, normalize.NewHMACSigner(k.Secret)), p.nextID(), now.Add(bybitAuthValidity))
	},
	subscribe: func(context.Context, *private, time.Time) ([][]byte, error) { return nil, nil },
	ping:      []byte(`{"op":"ping"}`),
	orders:    bybitOrders,
	step:      "trade",
}

// bybitPrivateTopics are Bybit's private topics the session subscribes:
// every category's orders and fills, the wallet (balances) and the
// positions.
var bybitPrivateTopics = []string{"order", "execution", "wallet", "position"}
