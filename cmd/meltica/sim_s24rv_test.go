package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sim's flags say what the venue does: a -rate of 0 ran at venuesim's
// default of 200 messages a second while it printed "0 msg/s", and a
// symbol Binance cannot spell (BTC/USDT, with a space) made streams no
// SUBSCRIBE may name, a venue that served nothing. They are refused; a
// symbol in the canonical form tail prints (BTC-USDT) is Binance's
// BTCUSDT. ctx is already canceled: sim returns at once once started.
func TestS24rvSimFlagsSayWhatRuns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sim := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"sim"}, args...), &out, &out)
		return out.String(), err
	}
	_, err := sim("-rate", "0")
	assert.ErrorContains(t, err, "-rate", "rate 0")
	for _, s := range []string{"BTC USDT", "btc@usdt", "BTCUSDT,ETH.USDT"} {
		_, err = sim("-symbols", s)
		assert.ErrorContains(t, err, "-symbols", "symbols %q", s)
	}
	out, err := sim("-symbols", "BTC-USDT,eth/usdt", "-rate", "50")
	require.NoError(t, err)
	assert.Contains(t, out, "(BTCUSDT, ETHUSDT, 50 msg/s)")
}
