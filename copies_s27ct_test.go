package meltica_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

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
	inbox, url := newS27ctInbox(t, nil)
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
	require.Eventually(t, func() bool { return inbox.count() >= 2 }, s27ctWait, time.Millisecond)
	inbox.mu.Lock()
	assert.Equal(t, []string{`{"id":1}`, `{"topics":"a,b"}`}, inbox.msgs, "the subscriptions as they were at New")
	assert.Equal(t, "before", inbox.header.Get("X-S27ct"), "the header as it was at New")
	inbox.mu.Unlock()
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, <-done)
}
