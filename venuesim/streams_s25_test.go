package venuesim_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// streamNames makes n distinct well-formed stream names from start.
func streamNames(start, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "sym" + strconv.Itoa(start+i) + "usdt@trade"
	}
	return out
}

// Binance "WebSocket Limits": "A single connection can listen to a
// maximum of 1024 streams." The simulator took any number, so a client
// that packs every symbol onto one connection passed and failed live. A
// SUBSCRIBE that would take a connection past 1024 is refused whole
// (Binance does not say how: an error answer, code 2, and nothing of it
// subscribed), and a combined-stream URL naming more is refused at the
// upgrade (HTTP 400).
func TestS25StreamsPerConnection(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 10, PingInterval: -1})
	defer v.Close()
	c := dial(t, v.StreamURL())
	sub := func(id int, names []string) map[string]any {
		b, _ := json.Marshal(map[string]any{"method": "SUBSCRIBE", "params": names, "id": id})
		write(t, c, string(b))
		return readUntil(t, c, func(m map[string]any) bool { return m["id"] == float64(id) })
	}
	assert.Contains(t, sub(1, streamNames(0, 1000)), "result")
	m := sub(2, streamNames(1000, 25))
	require.Contains(t, m, "error", "1025 streams on one connection")
	assert.Equal(t, float64(2), m["error"].(map[string]any)["code"])
	write(t, c, `{"method":"LIST_SUBSCRIPTIONS","id":3}`)
	m = readUntil(t, c, func(m map[string]any) bool { return m["id"] == float64(3) })
	assert.Len(t, m["result"], 1000, "nothing of the refused SUBSCRIBE taken")
	assert.Contains(t, sub(4, append(streamNames(0, 10), streamNames(1000, 24)...)), "result",
		"1024 with the ten already there counted once")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, v.URL()+"/stream?streams="+strings.Join(streamNames(0, 1025), "/"), nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	ok, _, err := websocket.Dial(ctx, v.URL()+"/stream?streams="+strings.Join(streamNames(0, 1024), "/"), nil)
	require.NoError(t, err, "1024 streams in the URL")
	_ = ok.CloseNow()
}
