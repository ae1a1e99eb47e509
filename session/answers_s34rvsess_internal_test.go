package session

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// Binance's answers and notices are no data (isData false): a rotation
// delivers the new connection's from before the join rather than
// dropping them with the data there (wsclient Options.IsData), and
// DataTimeout does not take them for data. Besides {"result"} and
// {"error"}: the errors {"code","msg"} (Binance WebSocket Streams, "Error
// Messages") and {"e":"serverShutdown"} (WebSocket Streams,
// "serverShutdown"), raw or in a combined stream's wrapper. Before: both
// were data.
func TestS34rvsessBinanceAnswersAreNoData(t *testing.T) {
	isData := venues[schema.VenueBinance].isData
	for _, f := range []string{
		`{"code": 0, "msg": "Unknown property","id": 1}`,
		`{"code":2,"msg":"Invalid request: property name must be a string"}`,
		`{"e":"serverShutdown","E":1700000000000}`,
		`{"stream":"btcusdt@trade","data":{"e":"serverShutdown","E":1700000000000}}`,
	} {
		assert.False(t, isData([]byte(f)), "no data: %s", f)
	}
	assert.True(t, isData([]byte(`{"stream":"btcusdt@trade","data":{"e":"trade","E":1700000000000,"s":"BTCUSDT","t":12345,"p":"0.001","q":"100"}}`)))
}
