package session

import (
	"errors"
	"strconv"
	"time"

	"github.com/meltica/meltica/internal/safejson"
	"github.com/meltica/meltica/schema"
)

// venueTime is a venue's server-time endpoint: its path on the REST base
// and how its answer gives the time.
type venueTime struct {
	path  string
	res   time.Duration // the answer's resolution: the server's time is up to res after the one given
	parse func(body []byte) (time.Time, error)
	// stale are the codes with which the venue refuses an order request
	// for its timestamp: the offset is measured again (Session.clockRefused).
	stale []int64
}

var errNoTime = errors.New("session: no time in the answer")

// venueTimes are the venues' server-time endpoints.
var venueTimes = map[schema.Venue]venueTime{
	// Binance spot "Check server time": {"serverTime":ms}.
	schema.VenueBinance: {"/api/v3/time", time.Millisecond, func(b []byte) (time.Time, error) {
		var a struct {
			ServerTime int64 `json:"serverTime"`
		}
		err := safejson.Unmarshal(b, &a)
		return time.UnixMilli(a.ServerTime), err
	}, []int64{-1021}}, // "Timestamp for this request is outside of the recvWindow."
	// OKX v5 "Public Data → Get system time": {"code":"0","data":[{"ts":"ms"}]}.
	schema.VenueOKX: {"/api/v5/public/time", time.Millisecond, func(b []byte) (time.Time, error) {
		var a struct {
			Data []struct {
				TS string `json:"ts"`
			} `json:"data"`
		}
		if err := safejson.Unmarshal(b, &a); err != nil || len(a.Data) == 0 {
			return time.Time{}, errNoTime
		}
		return millisText(a.Data[0].TS)
	}, nil}, // trade operations carry no timestamp: the login's is checked
	// Bybit v5 "Market → Get Bybit Server Time": {"result":{"timeNano"}}.
	schema.VenueBybit: {"/v5/market/time", time.Nanosecond, func(b []byte) (time.Time, error) {
		var a struct {
			Result struct {
				TimeNano string `json:"timeNano"`
			} `json:"result"`
		}
		if err := safejson.Unmarshal(b, &a); err != nil {
			return time.Time{}, err
		}
		ns, err := strconv.ParseInt(a.Result.TimeNano, 10, 64)
		return time.Unix(0, ns), err
	}, []int64{10002}}, // "The request time exceeds the time window range."
	// Kraken "Market Data → Get Server Time": {"result":{"unixtime":s}}
	// (whole seconds: the offset is good to a second).
	schema.VenueKraken: {"/0/public/Time", time.Second, func(b []byte) (time.Time, error) {
		var a struct {
			Result struct {
				Unixtime int64 `json:"unixtime"`
			} `json:"result"`
		}
		err := safejson.Unmarshal(b, &a)
		return time.Unix(a.Result.Unixtime, 0), err
	}, nil},
	// Coinbase Advanced Trade "Get Server Time": {"epochMillis":"ms"}.
	schema.VenueCoinbase: {"/api/v3/brokerage/time", time.Millisecond, func(b []byte) (time.Time, error) {
		var a struct {
			EpochMillis string `json:"epochMillis"`
		}
		if err := safejson.Unmarshal(b, &a); err != nil {
			return time.Time{}, err
		}
		return millisText(a.EpochMillis)
	}, nil},
}

// millisText reads Unix milliseconds sent as a string.
func millisText(s string) (time.Time, error) {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, errNoTime
	}
	return time.UnixMilli(ms), nil
}
