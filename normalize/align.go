package normalize

import (
	"bytes"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"
)

// AlignKey returns the part of a frame that the parser's venue sends alike
// on every connection, or nil for a frame that marks no place in the
// stream: it is the wsclient.Options.AlignKey of the client whose frames
// the parser normalises, so that a make-before-break rotation aligns the
// old and the new connection's streams on the venue's data, not on a
// per-connection stamp or a heartbeat:
//
//   - Kraken: a v1 data message less its channelID (a number per
//     subscription of a connection: Kraken WebSockets API v1, "Public
//     Feeds"); nil for v1 events (heartbeat, systemStatus with its
//     connectionID, subscriptionStatus), v2 method responses and the v2
//     heartbeat and status channels (Kraken WebSocket API v2: a heartbeat
//     is the same bytes on every connection, once a second without
//     traffic — aligned on, it would join the streams at the wrong place);
//   - every other venue: the whole frame. Binance, OKX and Bybit market
//     data frames are byte-identical on every connection. Coinbase
//     Advanced Trade stamps every frame with the connection's
//     sequence_num and timestamp: its rotations switch unaligned (wsclient
//     says so), the parser drops the repeated trades by trade_id, and the
//     new connection's level2 snapshot replaces the book. (Its events
//     alone are not a safe key: market_trades are batched over 250 ms,
//     a window that need not fall alike on two connections, and aligned
//     on another channel's frame, a trade batched later on one connection
//     than on the other would be lost.)
//
// The returned slice aliases frame. AlignKey keeps no state: it is safe
// for concurrent use, and allocates (only wsclient's rotations call it).
func (p *Parser) AlignKey(frame []byte) []byte {
	if p.spec.alignKey == nil {
		return frame
	}
	return p.spec.alignKey(frame)
}

// krakenAlignKey is Kraken's AlignKey.
func krakenAlignKey(frame []byte) (key []byte) {
	defer func() {
		if recover() != nil { // goccy is new: a panic is no key
			key = nil
		}
	}()
	i := firstByte(frame)
	if i == len(frame) {
		return nil
	}
	switch frame[i] {
	case '[': // v1 data: [channelID, payload…, channelName, pair]
		d := jsontext.NewDecoder(bytes.NewReader(frame))
		if tok, err := d.ReadToken(); err != nil || tok.Kind() != '[' {
			return nil
		}
		if _, err := d.ReadValue(); err != nil {
			return nil
		}
		return frame[d.InputOffset():]
	case '{':
		var env struct {
			Event   text `json:"event"`
			Method  text `json:"method"`
			Channel text `json:"channel"`
		}
		if json.Unmarshal(frame, &env) != nil || env.Event.ok || env.Method.ok {
			return nil
		}
		switch string(env.Channel.bytes()) {
		case "", "heartbeat", "status":
			return nil
		}
		return frame
	}
	return nil
}
