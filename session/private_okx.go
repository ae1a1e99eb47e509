package session

import (
	"context"
	"fmt"
	"time"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// OKXKey is an OKX v5 API key: its key, passphrase and secret (OKX v5 API,
// "WebSocket → Login"). With it, Config.Endpoints.API is the private
// WebSocket (wss://ws.okx.com:8443/ws/v5/private; the demo trading one is
// wss://wspap.okx.com:8443/ws/v5/private). Orders go on that connection
// too, once it is logged in.
type OKXKey struct {
	APIKey, Passphrase string
	Secret             []byte
}

func (*OKXKey) venue() schema.Venue { return schema.VenueOKX }

func (k *OKXKey) String() string             { return redacted(schema.VenueOKX, k.APIKey) }
func (k *OKXKey) GoString() string           { return k.String() }
func (k *OKXKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// okxPrivate: login (signed with the venue's time: OKX refuses one more
// than 30 s from its clock), then the private channels.
var okxPrivate = &privateSpec{
	login: func(p *private, now time.Time) ([]byte, error) {
		k := p.key.(*OKXKey)
		return normalize.OKXLogin(k.APIKey, k.Passphrase, k.Secret, now)
	},
	subscribe: func(_ context.Context, p *private, _ time.Time) ([][]byte, error) {
		return okxPrivateChannels()
	},
	subNames:  []string{"orders", "account", "positions"},
	announces: true,           // notice 64008 before a service upgrade
	ping:      []byte("ping"), // OKX v5 "WebSocket → Connect": answered "pong"
	// Orders: "order" and "cancel-order" operations on this connection
	// once logged in (OKX v5 "Trade → WebSocket Place order").
	orders: okxOrders,
	// Fills, cancels and expiries while the connection was down are
	// reconciled from OKX's REST queries (with Endpoints.REST).
	queries: okxReconciler,
}

// okxPrivateChannels are the subscriptions of OKX's private connection,
// one argument each (OKX acks every argument): orders (execution
// reports), account (balances) and positions, of every instrument type.
func okxPrivateChannels() ([][]byte, error) {
	msgs := make([][]byte, 0, 3)
	for _, build := range []func() ([]byte, error){
		func() ([]byte, error) { return normalize.OKXSubscribeOrders("ANY") },
		normalize.OKXSubscribeAccount,
		func() ([]byte, error) { return normalize.OKXSubscribePositions("ANY") },
	} {
		m, err := build()
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}
