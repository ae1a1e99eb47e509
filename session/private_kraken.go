package session

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// KrakenKey is a Kraken spot API key and its Base64 secret, as Kraken
// issues them, with the "WebSocket interface" permission (and, for
// orders, "Orders and trades → Create & modify orders" and "Cancel &
// close orders"). With it, Config.Endpoints.API is the authenticated
// WebSocket (wss://ws-auth.kraken.com/v2) and Config.Endpoints.REST the
// REST base the WebSocket token is fetched from (https://api.kraken.com).
// Orders go on the authenticated WebSocket too, once its private
// channels are subscribed, each with that connection's token. The
// reconciliation of execution reports after a reconnect queries orders
// and trades over REST: it needs "Orders and trades → Query open orders &
// trades" and "Query closed orders & trades" (without them each query is
// refused, "EGeneral:Permission denied", and the host gets a gap marker
// per order).
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
		token, err := p.krakenToken(ctx, k, now)
		if err != nil {
			return nil, &LoginError{Venue: schema.VenueKraken, Step: "token", Err: err}
		}
		if pr := p.prep; pr != nil && pr.id == p.conn {
			// A rotation's new connection: its token becomes the orders'
			// at the switch (step), never while the old connection,
			// subscribed with its own, still takes the orders — nor
			// after a failed rotation, its connection gone (Kraken: a
			// token is kept valid by the connection that used it; this
			// one expires 15 minutes after its creation).
			pr.token = token
		} else {
			p.mu.Lock()
			p.token = token // the orders' token too
			p.mu.Unlock()
		}
		exec, err := normalize.KrakenSubscribeExecutions(token, p.nextID(), true, false)
		if err != nil {
			return nil, err
		}
		bal, err := normalize.KrakenSubscribeBalances(token, p.nextID(), true)
		if err != nil {
			return nil, err
		}
		return [][]byte{exec, bal}, nil
	},
	subNames: []string{"executions", "balances"},
	ping:     []byte(`{"method":"ping"}`), // Kraken v2 "Ping"; Kraken also sends heartbeats once subscribed
	// Orders: add_order and cancel_order on this connection once its
	// channels are subscribed (Kraken "Spot WebSocket v2 → add_order").
	orders: krakenOrders,
	// The execution reports missed while the connection was down, from
	// Kraken's Spot REST order queries (see krakenQueries).
	queries: krakenReconciler,
}

// krakenTokenReuse is how long a WebSocket token is sent again on the
// connection it was fetched for (a refused subscription tried again):
// Kraken "Get Websockets Token": "The token should be used within 15
// minutes of creation"; a minute less leaves the subscription's round
// trip room.
const krakenTokenReuse = 14 * time.Minute

// krakenFetched is the latest WebSocket token fetched: its connection and
// when (Client.Clock).
type krakenFetched struct {
	token string
	conn  uint64
	at    time.Time
}

// krakenToken is the WebSocket token for p.conn's subscriptions: the one
// fetched for this connection within krakenTokenReuse, unless a refusal
// said it is bad (see krakenTokenRefused), else a new one from
// GetWebSocketsToken. A subscription the venue keeps refusing is tried
// again after the backoff with the same token: without the reuse every
// try fetched one (238 in 20 minutes against Kraken's REST counter). A new
// connection fetches its own (the connection that used a token keeps it
// valid; Kraken does not say two may share one).
func (p *private) krakenToken(ctx context.Context, k *KrakenKey, now time.Time) (string, error) {
	at := p.clk.Now()
	if f := &p.kraken; f.token != "" && f.conn == p.conn && at.Sub(f.at) < krakenTokenReuse && !at.Before(f.at) {
		return f.token, nil
	}
	nonce := krakenNonce(k.APIKey, now) // above every private request of the key, the reconciliation's too
	tctx, end := restDeadline(ctx, p.s.cfg.Client.Clock, p.s.cfg.RESTTimeout)
	token, err := normalize.FetchKrakenWebSocketsToken(tctx, p.s.cfg.HTTPClient, p.s.cfg.Endpoints.REST, k.APIKey, k.Secret, nonce)
	if err = end(err); err != nil {
		return "", err
	}
	p.kraken = krakenFetched{token: token, conn: p.conn, at: at}
	return token, nil
}

// krakenTokenRefused is told a refusal of a subscription: one that may be
// of the token (an "EAPI:" credentials error, Kraken's "ESession:Invalid
// session" for an expired token, or one naming the token) has the next
// try fetch a new one; a refusal of the channel ("EGeneral:Internal
// error") keeps it.
func (p *private) krakenTokenRefused(reason string) {
	if p.kraken.token == "" {
		return
	}
	r := strings.ToLower(reason)
	if reason == "" || strings.HasPrefix(r, "eapi:") || strings.HasPrefix(r, "esession:") || strings.Contains(r, "token") {
		p.kraken.token = ""
	}
}

// krakenOrders: add_order and cancel_order, each with the WebSocket token
// the private channels were subscribed with (Kraken: a token a connection
// uses stays valid while it is connected). What add_order cannot express
// fails before any wait, without a token.
func krakenOrders(s *Session) *venueOrders {
	v := newVenueOrders(s)
	enc := normalize.NewKrakenOrders(&normalize.KrakenOrderOptions{Symbols: s.syms})
	var r normalize.KrakenAnswers
	v.appendRequest = func(dst []byte, id uint64, req *schema.OrderRequest) ([]byte, error) {
		if id == 0 {
			return dst, enc.Check(req)
		}
		p := s.private
		p.mu.Lock()
		token := p.token
		p.mu.Unlock()
		return enc.AppendRequest(dst, id, req, token)
	}
	v.read = r.Read
	return v
}
