package venuesim

import (
	"strconv"
)

// TerminateUserData ends the user-data subscription of every open WS-API
// connection that has one, as Binance does when it stops a User Data
// Stream (WebSocket API "User Data Stream requests": "eventStreamTerminated
// is sent when the User Data Stream is stopped"): each connection gets
// {"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":ms}} and
// no execution report after it until it subscribes again. The connection
// itself stays open. It returns how many subscriptions it ended.
func (v *Venue) TerminateUserData() int {
	v.mu.Lock()
	var conns []*conn
	for c := range v.conns {
		if c.api && c.ctx.Err() == nil {
			conns = append(conns, c)
		}
	}
	v.mu.Unlock()
	n := 0
	for _, c := range conns {
		c.mu.Lock()
		if id := c.userSub; id >= 0 {
			// Queued under the lock that put the subscription in effect
			// with its answer: after that answer.
			c.userSub = -1
			n++
			c.reply(terminated(id, v.now().UnixMilli()))
		}
		c.mu.Unlock()
	}
	return n
}

// terminated is the eventStreamTerminated event of subscription id at ms,
// {"subscriptionId":id,"event":{"e":"eventStreamTerminated","E":ms}}.
func terminated(id int, ms int64) []byte {
	return []byte(`{"subscriptionId":` + strconv.Itoa(id) + `,"event":{"e":"eventStreamTerminated","E":` +
		strconv.FormatInt(ms, 10) + `}}`)
}
