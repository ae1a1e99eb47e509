package meltica_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// wsclient.Options: "New copies the struct, so changing it afterwards has
// no effect". A host that builds its subscription messages in a reused
// buffer, appends to its topic list or edits its header map after New
// must not change what the client sends: the venue receives the messages,
// topics and headers as they were at New.
func TestS27ctClientOptionsChangedAfterNew(t *testing.T) {
	var mu sync.Mutex
	var msgs []string
	var header string
	url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		header = r.Header.Get("X-S27ct")
		mu.Unlock()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			_, b, err := c.Read(r.Context())
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, string(b))
			mu.Unlock()
		}
	})
	sub := []byte(`{"id":1}`)
	topics := make([]string, 2, 8)
	topics[0], topics[1] = "a", "b"
	hdr := http.Header{"X-S27ct": {"before"}}
	clk := newS27ctClock()
	opts := &wsclient.Options{
		Venue:         schema.VenueBinance,
		Clock:         clk,
		ControlRate:   -1,
		PingInterval:  -1,
		IdleTimeout:   -1,
		CloseTimeout:  -1,
		HTTPHeader:    hdr,
		Subscriptions: [][]byte{sub},
		Topics:        topics,
		EncodeSubscribe: func(dst []byte, n int, topics []string) []byte {
			return append(dst, `{"topics":"`+strings.Join(topics, ",")+`"}`...)
		},
	}
	c, err := wsclient.New(url, s27ctNop, opts)
	require.NoError(t, err)
	copy(sub, `{"id":9}`)       // the host reuses its buffer
	topics[1] = "changed"       // edits its list in place
	hdr.Set("X-S27ct", "after") // and its header map
	opts.Subscriptions = append(opts.Subscriptions, []byte(`{"id":2}`))
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(msgs) >= 2 }, s27ctWait, time.Millisecond)
	mu.Lock()
	assert.Equal(t, []string{`{"id":1}`, `{"topics":"a,b"}`}, msgs, "the subscriptions as they were at New")
	assert.Equal(t, "before", header, "the header as it was at New")
	mu.Unlock()
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, <-done)
}
