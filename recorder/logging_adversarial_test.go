package recorder_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// Logging over a run of many messages, a fifth of them malformed, through
// the whole pipeline (replay server, wsclient, Binance parser, dispatcher,
// recorder), every component with the same logger: state changes at Info,
// faults at Warn, and a few records in all — never one a message, good or
// bad.
func TestAdvLoggingNothingPerMessage(t *testing.T) {
	const n = 5000
	path := filepath.Join(t.TempDir(), "in.jsonl")
	src, err := recorder.New(path, &recorder.Options{Venue: schema.VenueBinance, Queue: n})
	require.NoError(t, err)
	for i := range n {
		msg := fmt.Sprintf(`{"stream":"btcusdt@trade","data":{"e":"trade","E":%d,"s":"BTCUSDT","t":%d,"p":"67000.10","q":"0.001","T":%d,"m":true,"M":true}}`, 1e12+i, i+1, 1e12+i)
		if i%5 == 4 {
			msg = fmt.Sprintf(`{"stream":"btcusdt@trade","data":{"e":"trade","E":%d,"s":"BTCUSDT","t":%d,"p":"NaN","q":"-1","T":1}}`, 1e12+i, i+1)
		}
		require.True(t, src.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: int64(i + 1), Data: []byte(msg)}))
	}
	require.NoError(t, src.Close())

	logs := &countHandler{}
	log := slog.New(logs)
	srv, err := venuesim.StartReplay([]string{path}, &venuesim.ReplayOptions{Logger: log})
	require.NoError(t, err)
	defer srv.Close()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{Logger: log})
	_, err = d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}, OrderedBound: n})
	require.NoError(t, err)
	parser := normalize.NewBinance(pools.Events, d, &normalize.Options{Logger: log})
	tape, err := recorder.New(filepath.Join(t.TempDir(), "out.jsonl"), &recorder.Options{Venue: schema.VenueBinance, Queue: n, Logger: log})
	require.NoError(t, err)
	client, err := wsclient.New(srv.URL(), tape.Tap(parser.HandleFrame), &wsclient.Options{Venue: schema.VenueBinance, Frames: pools.Frames, Logger: log})
	require.NoError(t, err)
	runErr := make(chan error, 1)
	go func() { runErr <- client.Run(context.Background()) }()
	require.Eventually(t, func() bool { return parser.Stats().Messages >= n }, 60*time.Second, time.Millisecond, "logs %v", logs.messages())
	require.NoError(t, client.Close(context.Background()))
	require.NoError(t, <-runErr)
	require.NoError(t, tape.Close())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))

	assert.Equal(t, uint64(n/5), parser.Stats().Errors)
	msgs := logs.messages()
	assert.Less(t, len(msgs), 60, "a few records for %d messages, %d of them bad: %d records, first %v", n, n/5, len(msgs), msgs[:min(len(msgs), 12)])
	assert.Positive(t, logs.count(slog.LevelWarn), "the bad messages are heard at Warn")
	assert.Contains(t, msgs, "INFO wsclient: connected")
	assert.Contains(t, msgs, "INFO recording closed")
	assert.Zero(t, logs.count(slog.LevelError)+logs.count(slog.LevelDebug))
}
