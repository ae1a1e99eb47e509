package venuesim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Our resting orders in OKX's books channel keep it whole: a book built
// by our OKX parser and book from the snapshot and the 100 ms pushes,
// with orders of ours resting at, in and off the top 25 levels (the
// checksum's) and filled or canceled as the book moves, stays live, every
// push's checksum (CRC32 of the top 25 levels a side, "Order book
// channel") verifying and seqId chaining prevSeqId.
func TestS38rvsimOKXBookWithRestingOrdersVerifies(t *testing.T) {
	clk := newS29Clock(s34simT0)
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 200, PingInterval: -1, MaxConnAge: -1,
		IncomingLimit: -1, Clock: clk, OKXBooks: venuesim.OKXBooksSnapshot})
	t.Cleanup(v.Close)
	v.Pause(true)
	o := s30DialOKX(t, v)
	frames := make(chan []byte, 1<<12)
	go func() {
		defer close(frames)
		for {
			_, b, err := o.c.Read(o.ctx)
			if err != nil {
				return
			}
			frames <- b
		}
	}()
	o.send(`{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"},{"channel":"bbo-tbt","instId":"BTC-USDT"}]}`)
	snap := getSnapshot(t, v, "BTCUSDT", 25)
	a := openAPI(t, v)
	id := 2
	place := func(side, price string) float64 {
		write(t, a.c, `{"id":`+itoa(uint64(id))+`,"method":"order.place","params":{"symbol":"BTCUSDT","side":"`+side+`","type":"LIMIT","timeInForce":"GTC","price":"`+price+`","quantity":"0.3","timestamp":1}}`)
		res := a.response(float64(id))["result"].(map[string]any)
		id++
		require.Equal(t, "NEW", res["status"])
		return res["orderId"].(float64)
	}
	for _, i := range []int{0, 5, 10, 20} { // at Rate 200 the book moves a few ticks a push
		place("BUY", snap.Bids[i][0])
		place("SELL", snap.Asks[i][0])
	}
	cancel := place("BUY", snap.Bids[15][0])
	place("SELL", s37Dec(s37Units(t, snap.Asks[0][0])+100*1_000_000)) // off the grid's levels
	v.Pause(false)
	handle := func() {
		for {
			select {
			case b, ok := <-frames:
				require.True(t, ok, "the connection ended")
				require.NoError(t, o.p.HandleBytes(o.ctx, b, time.Now().UnixNano()), "%s", b)
			default:
				return
			}
		}
	}
	const updates = 30
	for st := o.bk.Stats(); st.Applied < updates && st.ChecksumErrors == 0 && st.Invalidations == 0; st = o.bk.Stats() {
		s36Step(t, clk, 1, 10*time.Millisecond)
		handle()
		if st.Applied >= updates/2 && cancel != 0 { // a handle may apply more than one push
			write(t, a.c, `{"id":99,"method":"order.cancel","params":{"symbol":"BTCUSDT","orderId":`+itoa(uint64(cancel))+`,"timestamp":1}}`)
			res := a.response(99) // 400 -2011 when the book moved through it first: filled
			if res["status"] != float64(200) {
				require.Equal(t, float64(-2011), res["error"].(map[string]any)["code"], "%v", res)
			}
			cancel = 0
		}
	}
	st := o.bk.Stats()
	assert.True(t, o.bk.Live())
	assert.EqualValues(t, 1, st.Snapshots)
	assert.GreaterOrEqual(t, st.Checksums, uint64(updates+1), "every push's checksum verified")
	assert.Zero(t, st.ChecksumErrors)
	assert.Zero(t, st.Gaps)
	assert.Zero(t, st.Invalidations)
	assert.Zero(t, o.p.Stats().Errors)
	assert.Zero(t, cancel, "the cancel went in mid-run")
}
