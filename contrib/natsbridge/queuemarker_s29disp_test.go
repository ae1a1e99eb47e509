package natsbridge

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// TestS29QueueMarkerSupersedesKeptKline: the Consumer's queue keeps the
// newest quote of each stream it dropped (a live kline per interval) and
// hands it out once the queue is empty; a message of the stream queued
// after it supersedes it. A gap marker about the stream does (it travels
// on the stream's subject) — but for a live kline the marker's interval
// was not read, so the kept 1 m candle was handed out after the marker
// about it, from before the loss the marker announces.
func TestS29QueueMarkerSupersedesKeptKline(t *testing.T) {
	subj := Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventKlineLive)
	kline := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventKlineLive}
	kline.UseKline().Interval = "1m"
	marker := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventGap,
		Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventKlineLive, GapSource: schema.GapRelay}}
	marker.UseKline().Interval = "1m"
	q := newMsgQueue(1, 1<<20)
	filler := &nats.Msg{Subject: "x", Data: wire.Append(nil, tradeOf("ETH-USDT", 1), 1)}
	q.push(filler)
	q.push(&nats.Msg{Subject: subj, Data: wire.Append(nil, kline, 0)}) // the queue is full: dropped, kept
	require.Same(t, filler, q.pop())
	m := &nats.Msg{Subject: subj, Data: wire.Append(nil, marker, 1)}
	q.push(m)
	require.Same(t, m, q.pop())
	require.Nil(t, q.pop(), "the kept 1 m candle handed out after the marker about it")
}
