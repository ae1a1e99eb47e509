package venuesim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// s31OKXPush is the part of an OKX books push the tests look at.
type s31OKXPush struct {
	Event  string `json:"event"`
	Code   string `json:"code"`
	Msg    string `json:"msg"`
	Action string `json:"action"`
	Arg    struct {
		Channel string `json:"channel"`
	} `json:"arg"`
	Data []struct {
		Asks      [][]string `json:"asks"`
		Bids      [][]string `json:"bids"`
		Checksum  *int64     `json:"checksum"`
		PrevSeqID int64      `json:"prevSeqId"`
		SeqID     int64      `json:"seqId"`
	} `json:"data"`
}

// s31OKXBooks subscribes a new OKX connection to BTC-USDT's books and
// returns the answer and the first n pushes after it.
func s31OKXBooks(t *testing.T, v *venuesim.Venue, n int) (ack s31OKXPush, pushes []s31OKXPush) {
	t.Helper()
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.OKXURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}`)))
	read := func() s31OKXPush {
		t.Helper()
		_, msg, err := c.Read(ctx)
		require.NoError(t, err)
		var p s31OKXPush
		require.NoError(t, json.Unmarshal(msg, &p), "%s", msg)
		return p
	}
	ack = read()
	for range n {
		pushes = append(pushes, read())
	}
	return ack, pushes
}

// OKX as it serves its books channels today (API changelog "Delist
// initial snapshot and checksum field in order book channels": "the
// initial snapshot and checksum push field will not be returned, please
// use the GET / Order book endpoint to get the snapshot data"; "OKX Order
// Book Channels Checksum Field Deprecation", 21 May 2026: the checksum
// "will remain present in push messages but will always return 0", in
// production from 23 June 2026) is the venue's default: a books
// subscription is answered and then sent updates only, chained by
// seqId/prevSeqId, each with checksum 0. The venue served the old
// snapshot and CRC32 checksums by default: a client that still waited
// for the snapshot, or checked the checksum, passed against it and
// failed against OKX.
func TestS31simOKXBooksAsTodayByDefault(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000})
	defer v.Close()
	ack, pushes := s31OKXBooks(t, v, 20)
	require.Equal(t, "subscribe", ack.Event)
	prev := int64(-2)
	for i, p := range pushes {
		require.Equal(t, "books", p.Arg.Channel)
		require.Equal(t, "update", p.Action, "push %d: no snapshot on the stream", i)
		require.Len(t, p.Data, 1)
		d := p.Data[0]
		require.NotNil(t, d.Checksum, "the checksum field stays, at 0")
		assert.Zero(t, *d.Checksum, "push %d", i)
		assert.Positive(t, d.PrevSeqID, "push %d chains on an update the client never saw: fetch the REST book", i)
		if prev != -2 {
			assert.Equal(t, prev, d.PrevSeqID, "push %d chains on the one before", i)
		}
		prev = d.SeqID
	}
}

// The books channel as OKX served it before the delisting is an option:
// a snapshot of every level first (prevSeqId -1), then updates, each
// with the CRC32 checksum of the top 25 levels.
func TestS31simOKXBooksWithSnapshotOption(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000, OKXBooks: venuesim.OKXBooksSnapshot})
	defer v.Close()
	_, pushes := s31OKXBooks(t, v, 5)
	require.Equal(t, "snapshot", pushes[0].Action)
	require.EqualValues(t, -1, pushes[0].Data[0].PrevSeqID)
	require.Greater(t, len(pushes[0].Data[0].Bids), 25, "every level")
	for i, p := range pushes {
		require.NotNil(t, p.Data[0].Checksum)
		assert.NotZero(t, *p.Data[0].Checksum, "push %d", i)
	}
	require.Equal(t, "update", pushes[1].Action)
	assert.Equal(t, pushes[0].Data[0].SeqID, pushes[1].Data[0].PrevSeqID)
}

// The transition OKX's "How to manage a local order book correctly"
// describes ("Ignore the first event received (action is snapshot)") is
// the third option: an empty snapshot push, then updates, checksum 0.
func TestS31simOKXBooksEmptySnapshotOption(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000, OKXBooks: venuesim.OKXBooksEmptySnapshot})
	defer v.Close()
	_, pushes := s31OKXBooks(t, v, 3)
	require.Equal(t, "snapshot", pushes[0].Action)
	assert.Empty(t, pushes[0].Data[0].Bids)
	assert.Empty(t, pushes[0].Data[0].Asks)
	for _, p := range pushes {
		assert.Zero(t, *p.Data[0].Checksum)
	}
	require.Equal(t, "update", pushes[1].Action)
	assert.Equal(t, pushes[0].Data[0].SeqID, pushes[1].Data[0].PrevSeqID)
}

// Our OKXFetch book against the venue's default (today's OKX): live on
// the REST snapshot, every update chained, no checksum checked, and
// equal to the venue's book.
func TestS31simOKXFetchBookLiveOnToday(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000})
	defer v.Close()
	bk, want := s30okxRun(t, v, 50) // 50 pushes of 100 ms, each a batch of many changes (OKX "Order book channel")
	st := bk.Stats()
	assert.True(t, bk.Live())
	assert.EqualValues(t, 1, st.Fetches)
	assert.Zero(t, st.Checksums, "checksum 0 is no checksum")
	assert.Zero(t, st.Gaps)
	s30okxSame(t, bk, want)
}

// OKX's "Error Code" (WebSocket, Public, General Class) has an error for
// an op it does not know, 60019 "Invalid op: {op}", apart from 60012
// "Invalid request" for a request it cannot read. The venue answered an
// unknown op 60012, so a client that tells the two apart (a typo in its
// op, not a malformed frame) was never tested against the right code.
func TestS31simOKXInvalidOp(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1})
	defer v.Close()
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.OKXURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	ask := func(req string) s31OKXPush {
		t.Helper()
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(req)))
		_, msg, err := c.Read(ctx)
		require.NoError(t, err)
		var p s31OKXPush
		require.NoError(t, json.Unmarshal(msg, &p), "%s", msg)
		return p
	}
	for _, tc := range []struct{ req, code, msg string }{
		{`{"op":"subscibe","args":[{"channel":"books","instId":"BTC-USDT"}]}`, "60019", "Invalid op: subscibe"},
		{`{"id":"7","op":"SUBSCRIBE","args":[{"channel":"books","instId":"BTC-USDT"}]}`, "60019", "Invalid op: SUBSCRIBE"},
		{`{"op":"subscribe","argss":[]}`, "60012", `Invalid request: {"op":"subscribe","argss":[]}`},
		{`not json`, "60012", "Invalid request: not json"},
		{`{"args":[{"channel":"books","instId":"BTC-USDT"}]}`, "60012", `Invalid request: {"args":[{"channel":"books","instId":"BTC-USDT"}]}`},
	} {
		p := ask(tc.req)
		assert.Equal(t, "error", p.Event, tc.req)
		assert.Equal(t, tc.code, p.Code, tc.req)
		assert.Equal(t, tc.msg, p.Msg, tc.req)
	}
}

// s31Get fetches url and returns the status and the decoded body.
func s31Get(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, m
}

// OKX "Get order book" (GET /api/v5/market/books): "Rate Limit: 40
// requests per 2 seconds", "Rate limit rule: IP"; past it OKX answers
// HTTP 429 with code 50011 ("Error Code", REST, General Class: 50011,
// 429, "Too Many Requests"). The venue served every request, so a
// client that refetches the book on every gap in a loop passed against
// it and is throttled by OKX. On the venue's clock: 40 in 2 s served,
// the 41st refused, served again once the oldest is 2 s old.
func TestS31simOKXBooksRateLimit(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1, Clock: clk})
	defer v.Close()
	url := v.RESTURL() + "/api/v5/market/books?instId=BTC-USDT&sz=5"
	for i := range 40 {
		status, m := s31Get(t, url)
		require.Equal(t, http.StatusOK, status, "request %d", i)
		require.Equal(t, "0", m["code"])
		if i == 19 {
			clk.Advance(time.Second) // the last 20 a second later
		}
	}
	status, m := s31Get(t, url)
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Equal(t, "50011", m["code"])
	assert.Equal(t, "Too Many Requests", m["msg"])
	clk.Advance(time.Second - time.Millisecond)
	status, _ = s31Get(t, url)
	assert.Equal(t, http.StatusTooManyRequests, status, "the first 20 are still within 2 s")
	clk.Advance(time.Millisecond)
	status, m = s31Get(t, url)
	assert.Equal(t, http.StatusOK, status, "the first 20 left the 2 s: room again")
	assert.Equal(t, "0", m["code"])

	// A venue with the limit off serves them all.
	free := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1, Clock: clk, OKXBooksLimit: -1})
	defer free.Close()
	for i := range 100 {
		status, _ := s31Get(t, free.RESTURL()+"/api/v5/market/books?instId=BTC-USDT")
		require.Equal(t, http.StatusOK, status, "request %d", i)
	}
}
