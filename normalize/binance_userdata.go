package normalize

import (
	"strconv"
	"time"
)

// AppendUserDataSubscribe appends to dst the signed WS-API request
// userDataStream.subscribe.signature with request id id, timestamped at ts
// (sent as milliseconds): apiKey, recvWindow when the encoder has one and
// timestamp, sorted by name, signed (Binance WS-API "User Data Stream
// requests": "Subscribe to User Data Stream through signature
// subscription").
//
// The venue checks the timestamp against its own clock (Binance: refused
// with code -1021 unless serverTime − recvWindow ≤ timestamp <
// serverTime + 1 s), so the request must be made anew, with the venue's
// current time, for every connection: a request kept and re-sent after a
// reconnect is refused. The answer carries the id: a schema.EventControl
// with Kind schema.ControlSubscribeAck, or schema.ControlVenueError with
// the venue's code.
func (e *BinanceOrders) AppendUserDataSubscribe(dst []byte, id uint64, ts time.Time) ([]byte, error) {
	ps := make([]param, 0, 4)
	ps = append(ps, param{key: "apiKey", val: e.creds.apiKey},
		param{key: "timestamp", val: strconv.FormatInt(ts.UnixMilli(), 10), num: true})
	if e.recvWindow > 0 {
		ps = append(ps, param{key: "recvWindow", val: strconv.FormatInt(e.recvWindow, 10), num: true})
	}
	return e.appendSigned(dst, id, "userDataStream.subscribe.signature", ps)
}
