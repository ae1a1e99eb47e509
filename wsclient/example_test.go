package wsclient_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// A client for a Binance combined stream: subscribe on every connection,
// rotate before the 24 h cut, watch the state.
func Example() {
	opts := &wsclient.Options{
		Venue:  schema.VenueBinance,
		Topics: []string{"btcusdt@aggTrade", "ethusdt@aggTrade", "btcusdt@bookTicker"},
		EncodeSubscribe: func(dst []byte, n int, topics []string) []byte {
			dst = append(dst, `{"method":"SUBSCRIBE","params":[`...)
			for i, t := range topics {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, '"')
				dst = append(dst, t...)
				dst = append(dst, '"')
			}
			return fmt.Appendf(dst, `],"id":%d}`, n)
		},
		MaxTopicsPerMessage: 200,
		MaxTopicsPerConn:    1024,
		MaxAge:              23 * time.Hour,
		OnEvent: func(ev wsclient.Event) {
			if ev.State == schema.ConnDisconnected {
				log.Printf("gap possible: connection %d lost (%s): %v", ev.ConnID, ev.Reason, ev.Err)
			}
		},
	}
	handle := func(ctx context.Context, f *schema.WsFrame) error {
		// Parse f.Data here; do not keep f or f.Data after returning.
		return nil
	}
	c, err := wsclient.New("wss://stream.binance.com:9443/stream", handle, opts)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	go func() {
		<-ctx.Done()
		_ = c.Close(context.Background())
	}()
	if err := c.Run(ctx); err != nil {
		log.Print(err)
	}
}

// More topics than a connection may carry: one client per part.
func ExampleSplitTopics() {
	topics := []string{"a@trade", "b@trade", "c@trade", "d@trade", "e@trade"}
	for i, part := range wsclient.SplitTopics(topics, 2) {
		fmt.Println(i, part)
	}
	// Output:
	// 0 [a@trade b@trade]
	// 1 [c@trade d@trade]
	// 2 [e@trade]
}

// New refuses what can never connect; the error is permanent.
func ExampleNew() {
	_, err := wsclient.New("https://example.com", func(context.Context, *schema.WsFrame) error { return nil }, nil)
	fmt.Println(err)
	// Output:
	// wsclient: permanent error: wsclient: URL "https://example.com" is not ws:// or wss://
}

func ExampleClient_Stats() {
	c, _ := wsclient.New("ws://127.0.0.1:1", func(context.Context, *schema.WsFrame) error { return nil }, nil)
	st := c.Stats()
	fmt.Println(st.State, st.Messages, st.TotalReconnects())
	// Output:
	// unknown 0 0
}

// A venue whose heartbeats go on while its subscriptions may stall (OKX
// answers the client's "ping" with "pong" whether its channels push or
// not): DataTimeout, with IsData telling its data from its heartbeats,
// redials a connection that delivered no data for two minutes.
func ExampleOptions_dataTimeout() {
	opts := &wsclient.Options{
		Venue:         schema.VenueOKX,
		Heartbeat:     []byte("ping"),
		Subscriptions: [][]byte{[]byte(`{"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}`)},
		DataTimeout:   2 * time.Minute,
		IsData: func(frame []byte) bool {
			// Not the pong, nor an acknowledgement ({"event":"subscribe",…}).
			return string(frame) != "pong" && !bytes.HasPrefix(frame, []byte(`{"event"`))
		},
	}
	_, err := wsclient.New("wss://ws.okx.com:8443/ws/v5/public", func(context.Context, *schema.WsFrame) error { return nil }, opts)
	fmt.Println(err)
	// Output:
	// <nil>
}
