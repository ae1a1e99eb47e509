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
//   - Binance: the whole frame of market or user data (a combined stream
//     {"stream":…,"data":…}, a payload with a data event's "e", a spot
//     bookTicker or partial depth without "e", an all-market array); nil
//     for {"e":"serverShutdown"} (sent on the closing connection only:
//     Binance WebSocket Streams, "serverShutdown"), listenKeyExpired and
//     eventStreamTerminated, an "e" the parser does not know (but one
//     with an event time "E" in a combined market stream
//     {"stream":"<symbol>@<type>",…}: a data event, a key), subscription
//     answers {"result":…,"id":…}, errors {"code","msg"} and
//     {"error":…} (Binance WebSocket Streams, "Live Subscribing/
//     Unsubscribing to streams", "Error Messages");
//   - OKX: the whole frame {"arg":…,"data":…}; nil for "pong" and any
//     frame with "event" (subscribe, unsubscribe, error, login, notice
//     64008 — OKX v5 "WebSocket → Connect", "Notification") or "op"
//     (WebSocket order answers);
//   - Bybit: the whole frame with "topic"; nil for a frame with "op"
//     (pong, subscribe and auth answers, which carry the connection's
//     conn_id: Bybit v5 "WebSocket Connect", "How to Subscribe to
//     Topics") and for a subscription's snapshot (orderbook, derivatives
//     tickers: see subscriptionSnapshots);
//   - Coinbase: the whole frame, but nil for the subscriptions,
//     heartbeats and error frames (Advanced Trade "channel", Exchange
//     "type"). Advanced Trade stamps every frame with the connection's
//     sequence_num and timestamp: its rotations switch unaligned (wsclient
//     says so), the parser drops the repeated trades by trade_id, and the
//     new connection's level2 snapshot replaces the book. (Its events
//     alone are not a safe key: market_trades are batched over 250 ms,
//     a window that need not fall alike on two connections, and aligned
//     on another channel's frame, a trade batched later on one connection
//     than on the other would be lost.)
//
// A frame that is not JSON is no key (nil). Market data frames of Binance,
// OKX and Bybit are byte-identical on every connection, so they are their
// own key.
//
// The returned slice aliases frame. AlignKey keeps no state: it is safe
// for concurrent use, and allocates (only wsclient's rotations call it).
func (p *Parser) AlignKey(frame []byte) (key []byte) {
	if p.spec.alignKey == nil {
		return frame
	}
	defer func() {
		if recover() != nil { // goccy is new: a panic is no key
			key = nil
		}
	}()
	return p.spec.alignKey(frame)
}

// The members that tell a data frame from a control frame, one struct a
// venue: a member only another venue names is not decoded, so its type
// cannot make a data frame no key (one struct for all refused a Bybit
// frame with a top-level "e" not a string, a member the parser ignores).
type (
	binanceAlignEnv struct {
		Stream       text           `json:"stream"`
		Data         jsontext.Value `json:"data"`
		E            text           `json:"e"`
		U            present        `json:"u"`
		LastUpdateID present        `json:"lastUpdateId"`
		WSEvent      jsontext.Value `json:"event"`
	}
	okxAlignEnv struct {
		Data    jsontext.Value `json:"data"`
		WSEvent jsontext.Value `json:"event"`
		Arg     present        `json:"arg"`
		Op      present        `json:"op"`
		Action  text           `json:"action"`
	}
	bybitAlignEnv struct {
		Op    present        `json:"op"`
		Topic text           `json:"topic"`
		Type  text           `json:"type"`
		Data  jsontext.Value `json:"data"`
	}
	// bybitTickerAlign: the member only a derivatives ticker carries
	// (Bybit v5 "Ticker": linear and inverse; spot and option tickers
	// have no funding rate).
	bybitTickerAlign struct {
		FundingRate present `json:"fundingRate"`
	}
	coinbaseAlignEnv struct {
		Channel text `json:"channel"`
		Type    text `json:"type"`
	}
)

// subscriptionSnapshots: a snapshot a venue sends on subscribing (OKX
// books "action":"snapshot", Bybit orderbook "type":"snapshot", Kraken v2
// "type":"snapshot" and v1 books' "as"/"bs", Coinbase Exchange level2
// "snapshot" and matches' "last_match") has no key. The new connection of
// a rotation gets it before the join, and the old connection had already
// delivered its content as updates: keyed, wsclient took it for a frame the
// old connection never got and reported every healthy rotation with
// ErrRotationDropped. Without a key it is passed over: the streams align on
// the first update both connections got, and the snapshot is not
// delivered (a snapshot after the join is delivered as any unkeyed frame).
// Bybit derivatives tickers (linear, inverse) push one "snapshot" on
// subscribing, then deltas: told by the funding rate only they carry, it
// has no key. Spot and option tickers say "snapshot" on every push
// ("Spot & Option tickers message are snapshot only", Bybit v5 "Ticker"),
// and publicTrade too: those keep their key.

// decodeAlign decodes frame's members that env names; false when frame
// is not one JSON object.
func decodeAlign(frame []byte, env any) bool {
	i := firstByte(frame)
	if i == len(frame) || frame[i] != '{' {
		return false
	}
	return json.Unmarshal(frame, env) == nil
}

// binanceAlignKey is Binance's AlignKey.
func binanceAlignKey(frame []byte) []byte {
	if !binanceData(frame, true) {
		return nil
	}
	return frame
}

// binanceData reports whether a Binance frame (wrapped: a combined stream
// or WS-API wrapper is read) or a payload is market or user data.
func binanceData(frame []byte, wrapped bool) bool {
	i := firstByte(frame)
	if i == len(frame) {
		return false
	}
	if frame[i] == '[' { // an all-market stream's array ("!ticker@arr")
		return jsontext.Value(frame).IsValid()
	}
	// The common layout by its leading member, without a decode.
	if rest, ok := member(frame, "e", true); ok {
		if name, _, ok := leadingString(rest); ok {
			return binanceDataEvent(name) && jsontext.Value(frame).IsValid()
		}
	}
	var env binanceAlignEnv
	if !decodeAlign(frame, &env) {
		return false
	}
	switch {
	case wrapped && env.Stream.ok && len(env.Data) > 0:
		// A combined stream: its data decides ({"e":"serverShutdown"}
		// wrapped would be no place in the stream either).
		return binanceData(env.Data, false) || binanceNewEvent(env.Stream.bytes(), env.Data)
	case wrapped && len(env.WSEvent) > 0 && !env.E.ok:
		// The WS-API user-data wrapper {"subscriptionId":N,"event":{…}}.
		return binanceData(env.WSEvent, false)
	case env.E.ok:
		return binanceDataEvent(env.E.bytes())
	}
	// A spot bookTicker ("u", no "e") or a partial depth sent raw; not
	// {"result":…,"id":…}, {"code","msg"}, {"error":…}.
	return bool(env.U) || bool(env.LastUpdateID)
}

// binanceNewEvent reports whether a combined stream's data is an event
// the parser does not know, sent on a market stream the connection
// subscribed to ("<symbol>@<type>": Binance WebSocket Streams, "Combined
// stream events are wrapped as follows: {"stream":"<streamName>",
// "data":<rawPayload>}") with its event time "E": an event of that stream,
// sent alike on every connection subscribed to it and at its own place
// (E), so a place to align on — a connection of only such streams would
// otherwise always rotate unaligned. A raw payload of an unknown "e" has
// no stream name to say it is not a notice to the connection (as
// serverShutdown is): no key; nor has a known notice wrapped.
func binanceNewEvent(stream, data []byte) bool {
	if bytes.IndexByte(stream, '@') <= 0 {
		return false // a user-data stream (its listenKey) or no market stream
	}
	var ev struct {
		E    text    `json:"e"`
		Time present `json:"E"`
	}
	if !decodeAlign(data, &ev) || !ev.E.ok || !bool(ev.Time) {
		return false
	}
	_, known := binanceEventNames[string(ev.E.bytes())]
	return !known
}

// binanceDataEvent reports whether an "e" names market or user data the
// parser reads, not a notice that the stream ends or an unknown event.
func binanceDataEvent(name []byte) bool {
	k, ok := binanceEventNames[string(name)]
	return ok && k != bnStreamEnd && k != bnServerShutdown
}

// okxAlignKey is OKX's AlignKey.
func okxAlignKey(frame []byte) []byte {
	var env okxAlignEnv
	if !decodeAlign(frame, &env) || !bool(env.Arg) || len(env.Data) == 0 || len(env.WSEvent) > 0 || bool(env.Op) {
		return nil // "pong", {"event":…}, {"op":…,"id":…}
	}
	if string(env.Action.bytes()) == "snapshot" {
		return nil // a subscription's snapshot: see subscriptionSnapshots
	}
	return frame
}

// bybitAlignKey is Bybit's AlignKey.
func bybitAlignKey(frame []byte) []byte {
	var env bybitAlignEnv
	if !decodeAlign(frame, &env) || !env.Topic.ok || bool(env.Op) {
		return nil // {"op":"pong",…}, {"op":"subscribe","success":…,…}
	}
	if string(env.Type.bytes()) != "snapshot" {
		return frame
	}
	topic := env.Topic.bytes()
	if bytes.HasPrefix(topic, []byte("orderbook.")) {
		return nil // a book's snapshot: see subscriptionSnapshots
	}
	if bytes.HasPrefix(topic, []byte("tickers.")) {
		// A derivatives ticker's snapshot comes once, on subscribing, then
		// deltas: see subscriptionSnapshots. Spot and option tickers say
		// "snapshot" on every push: data, keyed.
		var d bybitTickerAlign
		if json.Unmarshal(env.Data, &d) == nil && bool(d.FundingRate) {
			return nil
		}
	}
	return frame // publicTrade and others say "snapshot" on every push
}

// coinbaseAlignKey is Coinbase's AlignKey.
func coinbaseAlignKey(frame []byte) []byte {
	var env coinbaseAlignEnv
	if !decodeAlign(frame, &env) {
		return nil
	}
	name := env.Channel
	if !name.ok {
		name = env.Type
	}
	switch string(name.bytes()) {
	case "", "subscriptions", "heartbeats", "heartbeat", "error":
		return nil
	case "snapshot", "last_match": // Exchange level2's book, matches' last trade: see subscriptionSnapshots
		return nil
	}
	return frame
}

// krakenAlignKey is Kraken's AlignKey.
func krakenAlignKey(frame []byte) []byte {
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
		at := d.InputOffset()
		payload, err := d.ReadValue()
		if err != nil {
			return nil
		}
		var book struct {
			Asks present `json:"as"`
			Bids present `json:"bs"`
		}
		if decodeAlign(payload, &book) && (bool(book.Asks) || bool(book.Bids)) {
			return nil // a v1 book's snapshot ("as"/"bs"; updates say "a"/"b"): see subscriptionSnapshots
		}
		return frame[at:]
	case '{':
		var env struct {
			Event   text `json:"event"`
			Method  text `json:"method"`
			Channel text `json:"channel"`
			Type    text `json:"type"`
		}
		if json.Unmarshal(frame, &env) != nil || env.Event.ok || env.Method.ok {
			return nil
		}
		if string(env.Type.bytes()) == "snapshot" {
			return nil // v2 book, trade, ticker, ohlc: see subscriptionSnapshots
		}
		switch string(env.Channel.bytes()) {
		case "", "heartbeat", "status":
			return nil
		}
		return frame
	}
	return nil
}
