package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// order.cancel's cancelRestrictions (WebSocket API "Cancel order":
// ONLY_NEW, ONLY_PARTIALLY_FILLED; "If the cancelRestrictions value is
// not any of the supported values" -1145 "Invalid cancelRestrictions";
// "If the order did not pass the conditions for cancelRestrictions"
// -2011 "Order was not canceled due to cancel restrictions."). venuesim
// ignored the parameter and canceled whatever the order's state.
func TestS39simCancelRestrictions(t *testing.T) {
	v, _ := s37Still(t)
	a := openAPI(t, v)
	place := func(id string) uint64 {
		write(t, a.c, `{"id":"`+id+`","method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"60000.00000000","quantity":"0.00200000","timestamp":1}}`)
		for {
			m := a.next()
			if m["id"] == id {
				return uint64(m["result"].(map[string]any)["orderId"].(float64))
			}
		}
	}
	cancel := func(id string, order uint64, restriction string) map[string]any {
		write(t, a.c, `{"id":"`+id+`","method":"order.cancel","params":{"symbol":"BTCUSDT","orderId":`+itoa(order)+`,"cancelRestrictions":"`+restriction+`","timestamp":1}}`)
		for {
			m := a.next()
			if m["id"] == id {
				return m
			}
		}
	}
	errOf := func(m map[string]any) []any {
		e, ok := m["error"].(map[string]any)
		require.True(t, ok, "an error: %v", m)
		return []any{m["status"], e["code"], e["msg"]}
	}
	notPassed := []any{float64(400), float64(-2011), "Order was not canceled due to cancel restrictions."}

	fresh := place("p1")
	assert.Equal(t, []any{float64(400), float64(-1145), "Invalid cancelRestrictions"}, errOf(cancel("c0", fresh, "ONLY_FILLED")))
	assert.Equal(t, notPassed, errOf(cancel("c1", fresh, "ONLY_PARTIALLY_FILLED")), "a NEW order")
	assert.Equal(t, "CANCELED", cancel("c2", fresh, "ONLY_NEW")["result"].(map[string]any)["status"])

	part := place("p2")
	require.NoError(t, v.FillOrder(part, "0.001"))
	assert.Equal(t, notPassed, errOf(cancel("c3", part, "ONLY_NEW")), "a PARTIALLY_FILLED order")
	assert.Equal(t, "CANCELED", cancel("c4", part, "ONLY_PARTIALLY_FILLED")["result"].(map[string]any)["status"])
}
