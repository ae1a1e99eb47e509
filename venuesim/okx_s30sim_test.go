package venuesim_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
)

// s30OKX reads an OKX connection's frames into the real OKX parser and an
// OKX book, counting what each event type brought.
type s30OKX struct {
	t      *testing.T
	ctx    context.Context
	c      *websocket.Conn
	events *schema.Pools
	p      *normalize.Parser
	bk     *book.Book
	types  map[schema.EventType]int
	ctl    []*schema.CanonicalEvent // clones: the pooled events go back
}

func s30DialOKX(t *testing.T, v *venuesim.Venue) *s30OKX {
	t.Helper()
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.OKXURL(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	o := &s30OKX{t: t, ctx: ctx, c: c, events: schema.NewPools(nil), types: map[schema.EventType]int{}}
	o.bk, err = book.NewBook(book.OKX, "BTC-USDT", nil)
	require.NoError(t, err)
	o.p = normalize.NewOKX(o.events.Events, normalize.SinkFunc(func(ctx context.Context, ev *schema.CanonicalEvent) error {
		defer o.events.Events.Put(ev)
		o.types[ev.Type]++
		if ev.Type == schema.EventControl {
			o.ctl = append(o.ctl, ev.Clone())
		}
		return o.bk.Apply(ctx, ev)
	}), nil)
	return o
}

func (o *s30OKX) send(msg string) {
	o.t.Helper()
	require.NoError(o.t, o.c.Write(o.ctx, websocket.MessageText, []byte(msg)))
}

// read reads one frame and hands it to the parser.
func (o *s30OKX) read() []byte {
	o.t.Helper()
	_, msg, err := o.c.Read(o.ctx)
	require.NoError(o.t, err)
	require.NoError(o.t, o.p.HandleBytes(o.ctx, msg, time.Now().UnixNano()), "%s", msg)
	return msg
}

// OKX v5 public channels through our own parser and book: the books
// channel's snapshot and updates chain seqId/prevSeqId and every
// checksum (CRC32 of the top 25 levels) verifies over a long run; the
// book stays live and matches bbo-tbt; trades and tickers parse.
func TestS30OKXBooksVerifyEveryChecksum(t *testing.T) {
	// On the venue's clock, moved by the test 100 ms a step (s39Drive):
	// the 50 pushes, one each 100 ms, took 5 s of the real one.
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 4000, OKXBooks: venuesim.OKXBooksSnapshot,
		Clock: clk, PingInterval: -1, MaxConnAge: -1, IncomingLimit: -1})
	defer v.Close()
	o := s30DialOKX(t, v)
	// A failure guard only, longer than s29Ctx's minute: the 5000 updates
	// took 41 s alone under -race at load 44, past the minute in the
	// package's race run.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o.ctx = ctx
	o.send(`{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"},{"channel":"bbo-tbt","instId":"BTC-USDT"},{"channel":"trades","instId":"BTC-USDT"},{"channel":"tickers","instId":"BTC-USDT"}]}`)
	msgs := s34simReader(ctx, t, o.c)
	// The books channel pushes a batch each 100 ms (at Rate 4000 some
	// 400 changes of the book in each): 50 updates cover more changes
	// than the 5000 pushes of one change each did before the batching,
	// which now take 500 s.
	const updates = 50
	s39Drive(ctx, t, clk, 100*time.Millisecond, msgs, func(b []byte) {
		require.NoError(t, o.p.HandleBytes(ctx, b, clk.Now().UnixNano()), "%s", b)
	}, func() bool {
		st := o.bk.Stats()
		return st.Applied >= updates || st.ChecksumErrors != 0 || st.Invalidations != 0
	})
	st := o.bk.Stats()
	assert.True(t, o.bk.Live())
	assert.EqualValues(t, 1, st.Snapshots)
	assert.GreaterOrEqual(t, st.Checksums, uint64(updates+1), "every push's checksum verified")
	assert.Zero(t, st.ChecksumErrors)
	assert.Zero(t, st.Gaps)
	assert.Zero(t, o.p.Stats().Errors)
	assert.Positive(t, o.types[schema.EventTrade])
	assert.Positive(t, o.types[schema.EventTicker])
	assert.Positive(t, o.types[schema.EventBBO])
	assert.Equal(t, 4, o.types[schema.EventControl], "one subscribe answer an arg")
}

// An injected depth gap reaches OKX as a prevSeqId that is not the last
// seqId: our parser reports the gap and the book stops serving.
func TestS30OKXDepthGap(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000, OKXBooks: venuesim.OKXBooksSnapshot})
	defer v.Close()
	o := s30DialOKX(t, v)
	o.send(`{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}`)
	for o.bk.Stats().Applied < 10 {
		o.read()
	}
	require.Equal(t, 1, v.Inject(venuesim.FaultDepthGap))
	for o.bk.Live() {
		o.read()
	}
	assert.EqualValues(t, 1, o.bk.Stats().Invalidations, "the parser's gap marker invalidated it")
	assert.Zero(t, o.bk.Stats().ChecksumErrors)
}

type s30OKXEvent struct {
	Event  string `json:"event"`
	Code   string `json:"code"`
	Msg    string `json:"msg"`
	ConnID string `json:"connId"`
	Arg    struct {
		Channel string `json:"channel"`
		InstID  string `json:"instId"`
	} `json:"arg"`
}

// The ops' answers and errors (60012 a request not understood, 60018 a
// channel or instId that does not exist), "ping" answered "pong", the
// 64008 notice as FaultServerShutdown, and the cut of a connection
// nothing was pushed to for 30 s of the venue's clock (4004).
func TestS30OKXControl(t *testing.T) {
	clock := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1, Clock: clock})
	defer v.Close()
	o := s30DialOKX(t, v)
	ev := func() s30OKXEvent {
		t.Helper()
		var e s30OKXEvent
		msg := o.read()
		require.NoError(t, json.Unmarshal(msg, &e), "%s", msg)
		return e
	}
	o.send("ping")
	_, msg, err := o.c.Read(o.ctx)
	require.NoError(t, err)
	assert.Equal(t, "pong", string(msg))

	o.send(`{"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}`)
	e := ev()
	assert.Equal(t, "subscribe", e.Event)
	assert.Equal(t, "trades", e.Arg.Channel)
	assert.Equal(t, "BTC-USDT", e.Arg.InstID)
	assert.NotEmpty(t, e.ConnID)
	o.send(`{"op":"subscribe","args":[{"channel":"trades","instId":"XRP-USDT"}]}`)
	e = ev()
	assert.Equal(t, "error", e.Event)
	assert.Equal(t, "60018", e.Code)
	assert.Equal(t, "Wrong URL or channel:trades,instId:XRP-USDT doesn't exist. Please use the correct URL, channel and parameters referring to API document.", e.Msg)
	o.send(`{"op":"subscribe","argss":[]}`)
	e = ev()
	assert.Equal(t, "60012", e.Code)
	assert.Contains(t, e.Msg, "Invalid request: ")
	o.send(`{"op":"unsubscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}`)
	assert.Equal(t, "unsubscribe", ev().Event)

	require.Equal(t, 1, v.Inject(venuesim.FaultServerShutdown))
	e = ev()
	assert.Equal(t, "notice", e.Event)
	assert.Equal(t, "64008", e.Code)
	ctl := o.ctl[len(o.ctl)-1]
	require.NotNil(t, ctl.Control, "a status notice carries its Control")
	assert.Equal(t, schema.ControlStatus, ctl.Control.Kind, "our parser takes it as a status notice")

	// Nothing pushed for 30 s of the venue's clock: the cut.
	clock.waitSleeping(t, 30*time.Second, 1)
	clock.Advance(30 * time.Second)
	_, _, err = o.c.Read(o.ctx)
	assert.Equal(t, websocket.StatusCode(4004), websocket.CloseStatus(err), "%v", err)
}
