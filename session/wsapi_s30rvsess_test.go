package session_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// wsAPIPush is wsAPI (a Binance WS-API fake answering through reply) whose
// connections the test may also write to later: push sends body on
// connection conn (numbered from 1), an answer the venue sends when it
// likes. It is s39sessAPI answering the reconciliation queries itself.
func wsAPIPush(t *testing.T, reply func(conn int, id uint64, msg []byte) string) (url string, push func(conn int, body string) error) {
	t.Helper()
	return s39sessAPI(t, func(conn int, id uint64, msg []byte) string {
		if q := queryAnswer(msg); q != "" {
			return fmt.Sprintf(`{"id":%d,%s}`, id, q)
		}
		return reply(conn, id, msg)
	})
}

// heldOrder is the id of the order request a wsAPIPush reply held back.
type heldOrder struct {
	id   uint64
	conn int
}

func requireHeld(t *testing.T, ch <-chan heldOrder) heldOrder {
	t.Helper()
	h, ok := <-ch
	require.True(t, ok)
	return h
}
