package venuesim_test

import (
	"strconv"
	"time"

	"testing"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// OKX echoes a request's "id" in its answers (v5 "Order book channel",
// Request Parameters "id: Unique identifier of message (client
// provided)"; its Response and Failure examples carry "id":"1512", the
// failure one for a request with "argss"): the subscribe and unsubscribe
// answers, 60018 and 60012 alike; a request without id gets none.
func TestS30rvsimOKXEchoesID(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1})
	defer v.Close()
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.OKXURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	for _, tc := range []struct{ req, event, code, id string }{
		{`{"id":"1512","op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}`, "subscribe", "", "1512"},
		{`{"id":"1513","op":"unsubscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}`, "unsubscribe", "", "1513"},
		{`{"id":"a7","op":"subscribe","args":[{"channel":"trades","instId":"XRP-USDT"}]}`, "error", "60018", "a7"},
		{`{"id":"1512","op":"subscribe","argss":[{"channel":"books","instId":"BTC-USD-191227"}]}`, "error", "60012", "1512"},
		{`{"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}`, "subscribe", "", ""},
	} {
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(tc.req)))
		_, msg, err := c.Read(ctx)
		require.NoError(t, err)
		var e struct {
			ID    *string `json:"id"`
			Event string  `json:"event"`
			Code  string  `json:"code"`
		}
		require.NoError(t, json.Unmarshal(msg, &e), "%s", msg)
		assert.Equal(t, tc.event, e.Event, "%s", msg)
		assert.Equal(t, tc.code, e.Code, "%s", msg)
		if tc.id == "" {
			assert.Nil(t, e.ID, "%s", msg)
			continue
		}
		if assert.NotNil(t, e.ID, "%s", msg) {
			assert.Equal(t, tc.id, *e.ID, "%s", msg)
		}
	}
}

// OKX's keep-alive on the books channel: when the depth has not changed
// for about 60 s, "a message with 'asks': [], 'bids': [] will be sent to
// let users know that the connection is still on. seqId is the same as
// the last sent message and prevSeqId equals to seqId" (v5 "Order book
// channel", "Sequence ID"). On a paused market (the client pinging within
// each 30 s, or the idle cut would come first) it arrives 60 s after the
// snapshot, and our parser and book take it as continuous: still live,
// its checksum verified, no gap.
func TestS30rvsimOKXKeepAlive(t *testing.T) {
	clock := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1, PingInterval: -1, Clock: clock,
		OKXBooks: venuesim.OKXBooksSnapshot}) // its snapshot and checksums, as OKX sent them before the delisting
	defer v.Close()
	v.Pause(true)
	o := s30DialOKX(t, v)
	o.send(`{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}`)
	o.read() // the answer
	var snap s30rvsimOKXBook
	require.NoError(t, json.Unmarshal(o.read(), &snap))
	require.Len(t, snap.Data, 1)
	require.True(t, o.bk.Live())
	for range 2 { // 40 s, a ping each 20
		clock.waitSleeping(t, time.Millisecond, 1) // the generator
		clock.Advance(20 * time.Second)
		o.send("ping")
		_, msg, err := o.c.Read(o.ctx)
		require.NoError(t, err)
		require.Equal(t, "pong", string(msg), "nothing pushed on the books channel before 60 s")
	}
	clock.waitSleeping(t, time.Millisecond, 1)
	clock.Advance(20 * time.Second)
	var ka s30rvsimOKXBook
	msg := o.read()
	require.NoError(t, json.Unmarshal(msg, &ka), "%s", msg)
	require.Len(t, ka.Data, 1, "%s", msg)
	d := ka.Data[0]
	assert.Equal(t, "update", ka.Action)
	assert.Empty(t, d.Asks)
	assert.Empty(t, d.Bids)
	assert.Equal(t, snap.Data[0].SeqID, d.SeqID, "the last seqId")
	assert.Equal(t, d.SeqID, d.PrevSeqID, "prevSeqId = seqId")
	assert.Equal(t, snap.Data[0].Checksum, d.Checksum, "the same book")
	assert.Equal(t, strconv.FormatInt(clock.Now().UnixMilli(), 10), d.TS)
	st := o.bk.Stats()
	assert.True(t, o.bk.Live())
	assert.Zero(t, st.Gaps)
	assert.Zero(t, st.ChecksumErrors)
	assert.EqualValues(t, 2, st.Checksums, "the snapshot's and the keep-alive's")
}

type s30rvsimOKXBook struct {
	Action string `json:"action"`
	Data   []struct {
		Asks      [][]string `json:"asks"`
		Bids      [][]string `json:"bids"`
		TS        string     `json:"ts"`
		Checksum  int64      `json:"checksum"`
		PrevSeqID int64      `json:"prevSeqId"`
		SeqID     int64      `json:"seqId"`
	} `json:"data"`
}
