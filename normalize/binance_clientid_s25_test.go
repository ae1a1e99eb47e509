package normalize

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS25BinanceSpotClientIDAlphabet: Binance spot refuses a client order
// id outside ^[a-zA-Z0-9-_]{1,36}$ with -1100 "Illegal characters found in
// parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'."
// (binance/binance-spot-api-docs PR #34: "dot(.) is not allowed";
// nautilus_trader#383). The USDⓈ-M alphabet (with . : /) is not spot's:
// such an id is refused here, before anything is sent, on a place, a
// cancel and a query alike.
func TestS25BinanceSpotClientIDAlphabet(t *testing.T) {
	enc := NewBinanceOrders(NewCredentials("k", NewHMACSigner([]byte("s"))), &OrderOptions{Now: fixedNow})
	place := func(id string) error {
		o := &schema.OrderRequest{Symbol: "BTC-USDT", Side: schema.SideBuy, Type: schema.OrderTypeLimit, Qty: dec("1"), Price: dec("2"),
			ClientOrderID: schema.MustID(id)}
		_, err := enc.AppendRequest(nil, 1, o)
		return err
	}
	cancel := func(id string) error {
		o := &schema.OrderRequest{Symbol: "BTC-USDT", Action: schema.ActionCancel, OrigClientOrderID: schema.MustID(id)}
		_, err := enc.AppendRequest(nil, 1, o)
		return err
	}
	for _, id := range []string{"a.b", "x:y", "p/q", "a b", "é", strings.Repeat("a", 37)} {
		for name, f := range map[string]func(string) error{"place": place, "cancel": cancel} {
			err := f(id)
			require.Error(t, err, "%s %q", name, id)
			require.True(t, errors.Is(err, ErrBadValue), "%s %q: %v", name, id, err)
		}
	}
	for _, id := range []string{"web_0a1b", "A-Z_09", strings.Repeat("z", 36)} {
		require.NoError(t, place(id), id)
		require.NoError(t, cancel(id), id)
	}
}
