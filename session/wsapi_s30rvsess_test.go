package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// wsAPIPush is wsAPI (a Binance WS-API fake answering through reply) whose
// connections the test may also write to later: push sends body on
// connection conn (numbered from 1), an answer the venue sends when it
// likes.
func wsAPIPush(t *testing.T, reply func(conn int, id uint64, msg []byte) string) (url string, push func(conn int, body string) error) {
	t.Helper()
	var mu sync.Mutex
	type wconn struct {
		c   *websocket.Conn
		ctx context.Context
	}
	var conns []wconn
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		mu.Lock()
		conns = append(conns, wconn{c, r.Context()})
		conn := len(conns)
		mu.Unlock()
		for {
			_, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			var body string
			if strings.Contains(string(msg), `"method":"ping"`) {
				body = `{"id":"` + pingID(msg) + `","status":200,"result":{}}`
			} else if id := requestID(t, msg); queryAnswer(msg) != "" {
				body = fmt.Sprintf(`{"id":%d,%s}`, id, queryAnswer(msg))
			} else {
				body = reply(conn, id, msg)
			}
			if body != "" && c.Write(r.Context(), websocket.MessageText, []byte(body)) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	push = func(conn int, body string) error {
		mu.Lock()
		wc := conns[conn-1]
		mu.Unlock()
		return wc.c.Write(wc.ctx, websocket.MessageText, []byte(body))
	}
	return "ws" + strings.TrimPrefix(srv.URL, "http"), push
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
