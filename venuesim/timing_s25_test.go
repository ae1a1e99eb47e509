package venuesim_test

import (
	"strconv"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/venuesim"
)

// Binance WebSocket API, "General API Information": "Timestamp parameters
// (e.g. startTime, endTime, timestamp) can be passed in milliseconds or
// microseconds", and recvWindow takes up to three decimal places, so
// that microseconds may be given ("Timing security"; the recvWindow of
// 6000.346 ms). The simulator read a microsecond timestamp as
// milliseconds — 1000 times the venue's clock, refused -1021 "1000ms
// ahead" — and refused a fractional recvWindow -1131.
func TestS25TimestampInMicroseconds(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50, APIKey: "key", APISecret: "secret"})
	defer v.Close()
	a := openAPI(t, v)
	id := 10
	place := func(ts, recvWindow string) map[string]any {
		id++
		params := map[string]string{"apiKey": "key", "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
			"price": "99999", "quantity": "0.001", "timestamp": ts}
		if recvWindow != "" {
			params["recvWindow"] = recvWindow
		}
		params["signature"] = sign("secret", params)
		body, _ := json.Marshal(map[string]any{"id": id, "method": "order.place", "params": params})
		write(t, a.c, string(body))
		e, _ := a.response(float64(id))["error"].(map[string]any)
		return e
	}
	now := time.Now()
	assert.Nil(t, place(strconv.FormatInt(now.UnixMicro(), 10), ""), "a timestamp in microseconds")
	assert.Nil(t, place(strconv.FormatInt(now.UnixMilli(), 10), "5000.5"), "recvWindow with decimals")
	assert.Nil(t, place(strconv.FormatInt(now.UnixMilli(), 10), "60000.000"))
	e := place(strconv.FormatInt(now.Add(-10*time.Second).UnixMicro(), 10), "")
	assert.Equal(t, float64(-1021), e["code"], "10 s old, in microseconds")
	e = place(strconv.FormatInt(now.Add(10*time.Second).UnixMicro(), 10), "")
	assert.Equal(t, map[string]any{"code": float64(-1021), "msg": "Timestamp for this request was 1000ms ahead of the server's time."}, e)
	e = place(strconv.FormatInt(now.UnixMilli(), 10), "60000.001")
	assert.Equal(t, float64(-1131), e["code"], "past 60000")
}
