package wsclient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// BenchmarkWrite measures a host's Write of a 200-byte order on loopback
// to a venue that reads and discards: the client's (impl=wsclient: the
// write turn, a context detached from the host's and bounded by
// WriteTimeout on the Clock, the outcome's error) against bare
// coder/websocket's Conn.Write with the host's ctx (impl=bare), which
// closes the connection when that ctx ends mid-write. Compare within one
// run:
//
//	go test -run '^$' -bench BenchmarkWrite -count 6 ./wsclient/ > write.txt
//	benchstat -col /impl write.txt
func BenchmarkWrite(b *testing.B) {
	msg := []byte(`{"id":"` + strings.Repeat("a", 180) + `","op":"order"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = ws.CloseNow() }()
		for {
			if _, _, err := ws.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	ctx := context.Background()
	for _, impl := range []string{"bare", "wsclient"} {
		b.Run(fmt.Sprintf("impl=%s", impl), func(b *testing.B) {
			var write func() error
			var stop func()
			if impl == "bare" {
				ws, _, err := websocket.Dial(ctx, url, nil)
				require.NoError(b, err)
				write = func() error { return ws.Write(ctx, websocket.MessageText, msg) }
				stop = func() { _ = ws.CloseNow() }
			} else {
				connected := make(chan struct{}, 1)
				c, err := New(url, nop, &Options{PingInterval: -1, IdleTimeout: -1, OnEvent: func(ev Event) {
					if ev.ConnID == 1 {
						select {
						case connected <- struct{}{}:
						default:
						}
					}
				}})
				require.NoError(b, err)
				runErr := make(chan error, 1)
				go func() { runErr <- c.Run(ctx) }()
				<-connected
				write = func() error { return c.Write(ctx, msg) }
				stop = func() {
					require.NoError(b, c.Close(ctx))
					require.NoError(b, <-runErr)
				}
			}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := write(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			stop()
		})
	}
}
