package session

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// Bybit's answers to its subscribe requests put "op" last, after the
// connection's conn_id, the request's req_id and ret_msg (a refusal's
// reason names the topic): past isData's head of 96 bytes, so the
// answer was taken for data — with DataTimeout on it kept a connection
// of refused topics "alive", and a rotation dropped the new connection's
// refusal from before the join with the data there, the refusal never
// seen. They lead with "success". Before: the first two were data.
func TestS34rvwsBybitAnswersAreNoData(t *testing.T) {
	isData := venues[schema.VenueBybit].isData
	for _, f := range []string{
		// Bybit v5 "Connect", "Understanding the Subscription Response".
		`{"success":true,"ret_msg":"subscribe","conn_id":"2324d924-aa4d-45b0-a858-7b8be29ab52b","req_id":"10001","op":"subscribe"}`,
		// A refusal as the venue sends it (its reason, then the conn_id
		// of the connection).
		`{"success":false,"ret_msg":"error:handler not found,topic:orderbook.50.NOPEUSDT","conn_id":"da7r0pitbetqa8diesh0-m4ao","req_id":"","op":"subscribe"}`,
		`{"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","op":"ping"}`,
		`{"op":"pong","args":["1753340040127"],"conn_id":"d157a7favkf4mm3ibuvg-14toog"}`,
	} {
		assert.False(t, isData([]byte(f)), "no data: %s", f)
	}
	// The venue's data stays data.
	for _, f := range []string{
		`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1687940967466,"data":{"s":"BTCUSDT","b":[["30247.20","30.028"]],"a":[],"u":177400507,"seq":66544703342},"cts":1687940967464}`,
		`{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}]}`,
	} {
		assert.True(t, isData([]byte(f)), "data: %s", f)
	}
}
