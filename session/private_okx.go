package session

import (
	"context"
	"fmt"
	"strconv"
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
		msgs, err := okxPrivateChannels()
		if err != nil {
			return nil, err
		}
		for i, m := range msgs {
			msgs[i] = withOKXID(m, p.nextID())
		}
		return msgs, nil
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

// withOKXID gives an OKX request (a JSON object, as normalize makes it)
// the "id" its answer echoes: OKX v5 "WebSocket → Subscribe": id, "Unique
// identifier of the message. Provided by client. It will be returned in
// response message for identifying the corresponding request", all
// numbers up to 32 characters. The session pairs each subscription's
// answer with its request by it (an answer to another request, or a late
// one, is none of its), not by the order of the answers.
func withOKXID(msg []byte, id uint64) []byte {
	if len(msg) < 2 || msg[0] != '{' {
		return msg
	}
	out := make([]byte, 0, len(msg)+28)
	out = append(out, `{"id":"`...)
	out = strconv.AppendUint(out, id, 10)
	out = append(out, '"')
	if msg[1] != '}' {
		out = append(out, ',')
	}
	return append(out, msg[1:]...)
}
