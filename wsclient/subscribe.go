package wsclient

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// buildSubscriptions returns the messages sent on every new connection:
// Subscriptions, then Topics in batches of MaxTopicsPerMessage.
func buildSubscriptions(o *Options) [][]byte {
	msgs := make([][]byte, 0, len(o.Subscriptions)+1)
	for _, m := range o.Subscriptions {
		msgs = append(msgs, append([]byte(nil), m...))
	}
	per := o.MaxTopicsPerMessage
	if per <= 0 {
		per = len(o.Topics)
	}
	for i, batch := range SplitTopics(o.Topics, per) {
		msgs = append(msgs, o.EncodeSubscribe(nil, i+1, batch))
	}
	return msgs
}

// textMessages refuses a message of the client's own that is not UTF-8:
// subs (Subscriptions, then EncodeSubscribe's messages, as
// buildSubscriptions returns them) and the Heartbeat. They go out as text
// messages, and a venue fails a connection on a text message that is not
// UTF-8 (RFC 6455 §8.1, close code 1007): every connection would end so.
func textMessages(o *Options, subs [][]byte) error {
	for i, m := range subs {
		if utf8.Valid(m) {
			continue
		}
		if i < len(o.Subscriptions) {
			return fmt.Errorf("wsclient: Options.Subscriptions[%d] is not UTF-8: it goes out as a text message, which the venue must refuse", i)
		}
		return fmt.Errorf("wsclient: Options.EncodeSubscribe's message %d is not UTF-8: it goes out as a text message, which the venue must refuse", i-len(o.Subscriptions)+1)
	}
	if !utf8.Valid(o.Heartbeat) {
		return errors.New("wsclient: Options.Heartbeat is not UTF-8: it goes out as a text message, which the venue must refuse")
	}
	return nil
}

// SplitTopics cuts topics into consecutive parts of at most n topics (all in
// one part when n < 1). Use it to spread more topics than one connection
// may carry over several clients. The parts share topics' backing array.
func SplitTopics(topics []string, n int) [][]string {
	if len(topics) == 0 {
		return nil
	}
	if n < 1 {
		n = len(topics)
	}
	parts := make([][]string, 0, (len(topics)+n-1)/n)
	for len(topics) > n {
		parts = append(parts, topics[:n:n])
		topics = topics[n:]
	}
	return append(parts, topics)
}

// subscribe sends the subscription messages on cn, each counted against
// the venue's limit at ControlRate with every other frame the client sends
// on cn (see pacer). A write the venue does not read is cut, once cn's
// context has ended, by the close handshake's bound: Close and a
// rotation's end never wait on it for longer.
func (c *Client) subscribe(cn *conn) error {
	if len(c.subMsgs) == 0 {
		return nil
	}
	defer cn.cutWhenEnded()()
	for _, m := range c.subMsgs {
		if err := cn.ctx.Err(); err != nil {
			return err
		}
		if err := cn.writeOwn(m); err != nil {
			return err
		}
	}
	return nil
}
