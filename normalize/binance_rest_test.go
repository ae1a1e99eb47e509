package normalize_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
)

func TestFetchBinanceInstruments(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"SOLUSDC", "BTCUSDT"}, Rate: 10})
	defer v.Close()
	ins, err := normalize.FetchBinanceInstruments(context.Background(), nil, v.RESTURL())
	require.NoError(t, err)
	require.Len(t, ins, 2)
	assert.Equal(t, "0.00010000", ins[0].Rules.TickSize.String(), "the venue's filters come along")
	assert.Equal(t, "0.01000000", ins[1].Rules.TickSize.String())
	for i := range ins {
		ins[i].Rules = normalize.InstrumentRules{}
	}
	assert.Equal(t, []normalize.Instrument{{Symbol: "SOLUSDC", Base: "SOL", Quote: "USDC"}, {Symbol: "BTCUSDT", Base: "BTC", Quote: "USDT"}}, ins)

	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"code":-1003,"msg":"Too many requests"}`, http.StatusTooManyRequests)
	}))
	defer bad.Close()
	_, err = normalize.FetchBinanceInstruments(context.Background(), bad.Client(), bad.URL)
	assert.ErrorContains(t, err, "429 Too Many Requests")
}

func TestParseBinanceDepthSnapshot(t *testing.T) {
	data := []byte(`{"lastUpdateId":499869752,"bids":[["0.35210000","672.00000000"],["0.35200000","1144.00000000"]],"asks":[["0.35260000","3199.00000000"]]}`)
	ps := schema.NewPools(nil)
	dst, err := ps.Events.Get(context.Background())
	require.NoError(t, err)
	dst.Book.Bids = make([]schema.Level, 0, 64)
	require.NoError(t, normalize.ParseBinanceDepthSnapshot(context.Background(), nil, "NKNUSDT", data, dst))
	assert.Equal(t, schema.EventBookSnapshot, dst.Type)
	assert.Equal(t, "NKN-USDT", dst.Symbol)
	assert.Equal(t, uint64(499869752), dst.Book.LastSeq)
	require.Len(t, dst.Book.Bids, 2)
	assert.Equal(t, "672.00000000", dst.Book.Bids[0].Qty.String(), "digits kept")
	assert.Equal(t, 64, cap(dst.Book.Bids), "the caller's capacity is reused")
	assert.True(t, dst.Pooled(), "the caller's header is kept")
	ps.Events.Put(dst)

	var junk schema.CanonicalEvent
	assert.Error(t, normalize.ParseBinanceDepthSnapshot(context.Background(), nil, "NKNUSDT", []byte(`{"lastUpdateId":"x"`), &junk))
}
