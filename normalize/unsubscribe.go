package normalize

import "bytes"

// OKXUnsubscribe is the v5 unsubscribe request of what OKXSubscribe
// subscribes. A book resubscribed after an unsubscribe starts again with a
// snapshot (OKX API v5, "Order book channel": the first push after a
// subscription is the full book).
func OKXUnsubscribe(channel string, instIDs ...string) ([]byte, error) {
	return unsubscribe(OKXSubscribe(channel, instIDs...))
}

// BybitUnsubscribe is the v5 unsubscribe request of what BybitSubscribe
// subscribes. Bybit refuses a subscription of a topic a connection already
// has ("error:already subscribed"): to get a new orderbook snapshot,
// unsubscribe first.
func BybitUnsubscribe(reqID uint64, topics ...string) ([]byte, error) {
	return unsubscribe(BybitSubscribe(reqID, topics...))
}

// CoinbaseUnsubscribe is the Advanced Trade unsubscribe request of what
// CoinbaseSubscribe subscribes: after it, a new level2 subscription
// starts with a snapshot. Without products it unsubscribes the channel
// entirely (Advanced Trade "WebSocket Overview": "You can also unsubscribe
// from a channel entirely by providing no product IDs").
func CoinbaseUnsubscribe(channel string, productIDs ...string) ([]byte, error) {
	return coinbaseRequest("unsubscribe", channel, productIDs, false)
}

// KrakenUnsubscribe is the v2 unsubscribe request of what KrakenSubscribe
// subscribes.
func KrakenUnsubscribe(reqID uint64, channel string, pairs ...string) ([]byte, error) {
	return unsubscribe(KrakenSubscribe(reqID, channel, pairs...))
}

// unsubscribe turns a subscribe request built here into its unsubscribe
// request: every builder writes the operation ("op", "type" or "method":
// "subscribe") as the request's first member, so the first "subscribe"
// string of the message is the operation (names never contain a quote:
// checkNames).
func unsubscribe(msg []byte, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return bytes.Replace(msg, []byte(`"subscribe"`), []byte(`"unsubscribe"`), 1), nil
}
