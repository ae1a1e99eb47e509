package venuesim_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// s30ErrorTemplates are Binance's error messages by code, %s standing for
// a value. Source: binance/binance-spot-api-docs errors.md ("Error codes
// for Binance", the 2025 text with -2035/-2036), except where a line says
// otherwise.
var s30ErrorTemplates = map[int][]string{
	-1003: {
		"Too many requests queued.",
		"Too much request weight used; current limit is %s request weight per %s. Please use WebSocket Streams for live updates to avoid polling the API.",
		"Way too much request weight used; IP banned until %s. Please use WebSocket Streams for live updates to avoid bans.",
	},
	-1013: {
		"Filter failure: PRICE_FILTER", "Filter failure: LOT_SIZE", "Filter failure: NOTIONAL",
		// A zero quantity or price: Binance's answer as the simulator's
		// commit 09c28cd took it (not in errors.md's list).
		"Invalid quantity.", "Invalid price.",
	},
	-1015: {"Too many new orders.", "Too many new orders; current limit is %s orders per %s."},
	-1021: {"Timestamp for this request is outside of the recvWindow.", "Timestamp for this request was 1000ms ahead of the server's time."},
	-1022: {"Signature for this request is not valid."},
	-1100: {"Illegal characters found in a parameter.", "Illegal characters found in parameter '%s'; legal range is '%s'."},
	-1102: {
		"A mandatory parameter was not sent, was empty/null, or malformed.",
		"Mandatory parameter '%s' was not sent, was empty/null, or malformed.",
		"Param '%s' or '%s' must be sent, but both were empty/null!",
	},
	-1106: {"A parameter was sent when not required.", "Parameter '%s' sent when not required."},
	-1111: {"Parameter '%s' has too much precision."},
	-1115: {"Invalid timeInForce."},
	-1116: {"Invalid orderType."},
	-1117: {"Invalid side."},
	-1121: {"Invalid symbol."},
	// Changelog ("NEW ERRORS: -1131 BAD_RECV_WINDOW recvWindow must be
	// less than 60000").
	-1131: {"recvWindow must be less than 60000"},
	-1135: {
		"Invalid JSON Request", "JSON sent for parameter '%s' is not valid",
		// As the venue sends them: a testnet answer to a frame that is no
		// JSON, and the "Invalid '<member>' in JSON request; expected
		// <what>." family (binance-us/binance-us-api-docs#126: "Invalid
		// 'params' in JSON request; expected an object.").
		"Invalid JSON request.", "Invalid '%s' in JSON request; expected %s.",
	},
	-2010: {"Duplicate order sent.", "Account has insufficient balance for requested action.", "Order would immediately match and take."},
	-2011: {"Unknown order sent."},
	-2013: {"Order does not exist."},
	-2014: {"API-key format invalid."},
	-2035: {"User Data Stream subscription already active."},
}

// s30MatchesTemplate reports whether msg is one of code's templates.
func s30MatchesTemplate(code int, msg string) bool {
	for _, tpl := range s30ErrorTemplates[code] {
		re := "^" + strings.ReplaceAll(regexp.QuoteMeta(tpl), "%s", ".+") + "$"
		if regexp.MustCompile(re).MatchString(msg) {
			return true
		}
	}
	return false
}

// Every error the WS-API answers, by the request that earns it: its code
// and text as Binance's, and the text one of errors.md's for the code.
func TestS30ErrorCodesAreBinances(t *testing.T) {
	const key, secret = "k30", "s30"
	clock := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1, PingInterval: -1, Clock: clock, APIKey: key, APISecret: secret})
	defer v.Close()
	ask := dialAPI(t, v)
	now := s29Epoch.UnixMilli()
	id := 0
	// signed is a request of method with params, apiKey, timestamp (the
	// venue's now) and signature added unless params set them.
	signed := func(method string, params map[string]string) []byte {
		id++
		p := map[string]string{"apiKey": key, "timestamp": strconv.FormatInt(now, 10)}
		for k, val := range params {
			p[k] = val
		}
		for k, val := range p {
			if val == "-" {
				delete(p, k)
			}
		}
		if _, ok := p["signature"]; !ok {
			p["signature"] = sign(secret, p)
		}
		b, err := json.Marshal(map[string]any{"id": id, "method": method, "params": p})
		require.NoError(t, err)
		return b
	}
	limit := func(kv ...string) map[string]string {
		p := map[string]string{"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "price": "999999", "quantity": "0.001"}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	require.Equal(t, 200, ask(signed("order.place", limit("newClientOrderId", "dup"))).Status)
	require.Equal(t, 200, ask(signed("userDataStream.subscribe.signature", nil)).Status)

	cases := []struct {
		name string
		req  []byte
		code int
		msg  string
	}{
		{"no JSON", []byte(`{"id":1,`), -1135, "Invalid JSON request."},
		{"id", []byte(`{"id":"a.b","method":"ping"}`), -1135, "Invalid 'id' in JSON request; expected an integer, a string matching '^[a-zA-Z0-9-_]{1,36}$', or null."},
		{"symbol missing", signed("order.place", limit("symbol", "-")), -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."},
		{"symbol", signed("order.place", limit("symbol", "NOPE")), -1121, "Invalid symbol."},
		{"side", signed("order.place", limit("side", "UP")), -1117, "Invalid side."},
		{"type", signed("order.place", limit("type", "STOP")), -1116, "Invalid orderType."},
		{"timeInForce", signed("order.place", limit("timeInForce", "DAY")), -1115, "Invalid timeInForce."},
		{"timeInForce missing", signed("order.place", limit("timeInForce", "-")), -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."},
		{"price sign", signed("order.place", limit("price", "-1")), -1100, `Illegal characters found in parameter 'price'; legal range is '^([0-9]{1,20})(\.[0-9]{1,20})?$'.`},
		{"precision", signed("order.place", limit("quantity", "0.000000001")), -1111, "Parameter 'quantity' has too much precision."},
		{"zero quantity", signed("order.place", limit("quantity", "0")), -1013, "Invalid quantity."},
		{"zero price", signed("order.place", limit("price", "0")), -1013, "Invalid price."},
		{"tick", signed("order.place", limit("price", "999999.001")), -1013, "Filter failure: PRICE_FILTER"},
		{"step", signed("order.place", limit("quantity", "0.000001")), -1013, "Filter failure: LOT_SIZE"},
		{"market price", signed("order.place", limit("type", "MARKET", "timeInForce", "-")), -1106, "Parameter 'price' sent when not required."},
		{"market qty", signed("order.place", limit("type", "MARKET", "timeInForce", "-", "price", "-", "quantity", "-")), -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"},
		{"client id", signed("order.place", limit("newClientOrderId", "a.b")), -1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'."},
		{"duplicate", signed("order.place", limit("newClientOrderId", "dup")), -2010, "Duplicate order sent."},
		{"balance", signed("order.place", limit("quantity", "90")), -2010, "Account has insufficient balance for requested action."},
		{"maker", signed("order.place", limit("type", "LIMIT_MAKER", "timeInForce", "-", "price", "1.00", "quantity", "100")), -2010, "Order would immediately match and take."},
		{"timestamp missing", signed("order.place", limit("timestamp", "-")), -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."},
		{"timestamp old", signed("order.place", limit("timestamp", strconv.FormatInt(now-6000, 10))), -1021, "Timestamp for this request is outside of the recvWindow."},
		{"timestamp ahead", signed("order.place", limit("timestamp", strconv.FormatInt(now+1000, 10))), -1021, "Timestamp for this request was 1000ms ahead of the server's time."},
		{"recvWindow", signed("order.place", limit("recvWindow", "60001")), -1131, "recvWindow must be less than 60000"},
		{"api key", signed("order.place", limit("apiKey", "other")), -2014, "API-key format invalid."},
		{"signature", signed("order.place", limit("signature", "00")), -1022, "Signature for this request is not valid."},
		{"cancel unknown", signed("order.cancel", map[string]string{"symbol": "BTCUSDT", "orderId": "1"}), -2011, "Unknown order sent."},
		{"cancel neither", signed("order.cancel", map[string]string{"symbol": "BTCUSDT"}), -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"},
		{"status unknown", signed("order.status", map[string]string{"symbol": "BTCUSDT", "orderId": "1"}), -2013, "Order does not exist."},
		{"second subscription", signed("userDataStream.subscribe.signature", nil), -2035, "User Data Stream subscription already active."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := ask(c.req)
			assert.Equal(t, 400, a.Status, "%s", c.req)
			assert.Equal(t, c.code, a.Error.Code, "%s", c.req)
			assert.Equal(t, c.msg, a.Error.Msg, "%s", c.req)
			assert.True(t, s30MatchesTemplate(a.Error.Code, a.Error.Msg), "%d %q is not one of errors.md's", a.Error.Code, a.Error.Msg)
		})
	}
	t.Run("templates", func(t *testing.T) {
		assert.True(t, s30MatchesTemplate(-1003, fmt.Sprintf("Way too much request weight used; IP banned until %d. Please use WebSocket Streams for live updates to avoid bans.", now)))
		assert.False(t, s30MatchesTemplate(-1102, "Malformed request."))
	})
}

// The market streams' control errors as Binance's "WebSocket Streams"
// "Error Messages" table gives them, by the request that earns each.
func TestS30StreamErrorsAreBinances(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1, PingInterval: -1, IncomingLimit: -1})
	defer v.Close()
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.StreamURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	type answer struct {
		Error struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		} `json:"error"`
	}
	for _, tc := range []struct {
		name, req string
		code      int
		msg       string
	}{
		{"no JSON", `{"method":`, 3, "Invalid JSON: expected value at line 1 column 1"},
		{"no id", `{"method":"LIST_SUBSCRIPTIONS"}`, 2, "Invalid request: request ID must be an unsigned integer"},
		{"no method", `{"params":[],"id":1}`, 2, "Invalid request: missing field `method` at line 1 column 73"},
		{"unknown method", `{"method":"SUBSCRIBEX","id":1}`, 2, "Invalid request: unknown variant `SUBSCRIBEX`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` at line 1 column 28"},
		{"unknown property", `{"method":"GET_PROPERTY","params":["compressed"],"id":1}`, 0, "Unknown property"},
		{"property not a string", `{"method":"SET_PROPERTY","params":[1,true],"id":1}`, 2, "Invalid request: property name must be a string"},
		{"property missing", `{"method":"GET_PROPERTY","params":[],"id":1}`, 2, "Invalid request: property name must be a string"},
		{"too many parameters", `{"method":"SET_PROPERTY","params":["combined",true,1],"id":1}`, 2, "Invalid request: too many parameters"},
		{"not a boolean", `{"method":"SET_PROPERTY","params":["combined","yes"],"id":1}`, 1, "Invalid value type: expected Boolean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(tc.req)))
			_, msg, err := c.Read(ctx)
			require.NoError(t, err)
			var a answer
			require.NoError(t, json.Unmarshal(msg, &a), "%s", msg)
			assert.Equal(t, tc.code, a.Error.Code, "%s", msg)
			assert.Equal(t, tc.msg, a.Error.Msg)
		})
	}
}
