package session

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// TestS28RefusalKindTable: each venue's documented refusals of order
// requests, told apart (see ErrRateLimited, ErrMaybeSent,
// ErrOrderNotOpen); a refusal of the request itself is of no kind.
func TestS28RefusalKindTable(t *testing.T) {
	for _, c := range []struct {
		venue  schema.Venue
		code   int64
		status int
		msg    string
		want   error
	}{
		{schema.VenueBinance, -1003, 429, "Too many requests; current limit of IP is 6000 request weight per 1 MINUTE.", ErrRateLimited},
		{schema.VenueBinance, -1003, 418, "Way too much request weight used; IP banned until 1659146400000.", ErrRateLimited},
		{schema.VenueBinance, -1015, 429, "Too many new orders; current limit is 50 orders per 10 SECOND.", ErrRateLimited},
		{schema.VenueBinance, -1007, 408, "Timeout waiting for response from backend server. Send status unknown; execution status unknown.", ErrMaybeSent},
		{schema.VenueBinance, -1006, 500, "An unexpected response was received from the message bus. Execution status unknown.", ErrMaybeSent},
		{schema.VenueBinance, -1000, 503, "An unknown error occurred while processing the request.", ErrMaybeSent},
		{schema.VenueBinance, -2011, 400, "Unknown order sent.", ErrOrderNotOpen},
		{schema.VenueBinance, -2013, 400, "Order does not exist.", ErrOrderNotOpen},
		{schema.VenueBinance, -2026, 400, "Order was canceled or expired with no executed qty over 90 days ago and has been archived.", ErrOrderNotOpen},
		{schema.VenueBinance, -2011, 400, "Market is closed.", nil},
		{schema.VenueBinance, -2010, 400, "Account has insufficient balance for requested action.", nil},
		{schema.VenueBinance, -2010, 400, "Duplicate order sent.", nil},
		{schema.VenueBinance, -1013, 400, "Filter failure: LOT_SIZE", nil},
		{schema.VenueBinance, -1111, 400, "Parameter 'quantity' has too much precision.", nil},
		{schema.VenueBinance, -1021, 400, "Timestamp for this request is outside of the recvWindow.", nil},
		{schema.VenueOKX, 50011, 0, "Rate limit reached. Please refer to API documentation and throttle requests accordingly.", ErrRateLimited},
		{schema.VenueOKX, 50061, 0, "Sub-account rate limit exceeded", ErrRateLimited},
		{schema.VenueOKX, 50004, 0, "Endpoint request timeout (does not indicate success or failure of order, please check order status)", ErrMaybeSent},
		{schema.VenueOKX, 51400, 0, "Order cancellation failed as the order has been filled, canceled or does not exist", ErrOrderNotOpen},
		{schema.VenueOKX, 51503, 0, "Order modification failed as the order has been filled, canceled or does not exist", ErrOrderNotOpen},
		{schema.VenueOKX, 51603, 0, "Order does not exist", ErrOrderNotOpen},
		{schema.VenueOKX, 51008, 0, "Order failed. Insufficient USDT balance in account.", nil},
		{schema.VenueOKX, 51016, 0, "Duplicated clOrdId", nil},
		{schema.VenueBybit, 10006, 0, "Too many visits!", ErrRateLimited},
		{schema.VenueBybit, 170005, 0, "Too many new orders; current limit is %s orders per %s.", ErrRateLimited},
		{schema.VenueBybit, 10000, 0, "Server Timeout", ErrMaybeSent},
		{schema.VenueBybit, 10016, 0, "Internal system error.", ErrMaybeSent},
		{schema.VenueBybit, 110001, 0, "Order does not exist", ErrOrderNotOpen},
		{schema.VenueBybit, 170213, 0, "Order does not exist.", ErrOrderNotOpen},
		{schema.VenueBybit, 10001, 0, "params error", nil},
		{schema.VenueBybit, 170131, 0, "Insufficient balance.", nil},
		{schema.VenueKraken, 0, 0, "EOrder:Rate limit exceeded", ErrRateLimited},
		{schema.VenueKraken, 0, 0, "EGeneral:Internal error:Something", ErrMaybeSent},
		{schema.VenueKraken, 0, 0, "EOrder:Unknown order", ErrOrderNotOpen},
		{schema.VenueKraken, 0, 0, "EOrder:Insufficient funds", nil},
		{schema.VenueKraken, 0, 0, "", nil},
		{schema.VenueCoinbase, 0, 0, "anything", nil},
	} {
		t.Run(string(c.venue)+" "+c.msg, func(t *testing.T) {
			got := venueRefusals[c.venue].kind(&VenueError{Code: c.code, Status: c.status, Msg: c.msg})
			assert.Equal(t, c.want, got)
		})
	}
}
