package normalize

import (
	"bytes"

	"github.com/goccy/go-json/jsontext"

	"github.com/meltica/meltica/schema"
)

// okxCandleMsg is one element of a candlestick channel's data (OKX v5
// "WebSocket → Public → Candlesticks channel", channels candle1s …
// candle1Y and their "utc" forms, on the business endpoint): an array of
// nine strings [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm].
//
//   - ts, the candle's opening time (Unix ms): Kline.OpenTime and, the
//     push carrying no other time, ExchangeTS; CloseTime is OpenTime plus
//     the interval's length where it is fixed (up to a week).
//   - o, h, l, c: Open, High, Low, Close.
//   - vol: Volume — the base currency for SPOT, the number of contracts
//     for FUTURES/SWAP/OPTION (as OKX's other sizes: multiply by
//     Rules.ContractSize); volCcyQuote, the volume in the quote currency:
//     QuoteVolume. volCcy (quote for SPOT, base for derivatives) is not
//     published: one of the two others in another unit.
//   - confirm: "0" a candle still open (EventKlineLive), "1" a completed
//     one (EventKlineClosed, Kline.Closed); another word is ErrBadValue.
//
// Every element of the nine is required: the docs send them all. The
// interval is the channel's (okxCandleInterval).
type okxCandleMsg struct {
	ts                    integer
	px                    [4]num // o, h, l, c
	vol, volCcy, volQuote num
	confirm               text
	n                     int // elements read
}

// okxCandleFields name the elements of a candle in errors.
var okxCandleFields = [...]string{"ts", "o", "h", "l", "c", "vol", "volCcy", "volCcyQuote", "confirm"}

func (m *okxCandleMsg) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	return tuple(in, func(pos int) error {
		m.n = pos + 1
		var err error
		switch {
		case pos == 0:
			err = m.ts.UnmarshalJSONFrom(in)
		case pos <= len(m.px):
			err = m.px[pos-1].UnmarshalJSONFrom(in)
		case pos == 5:
			err = m.vol.UnmarshalJSONFrom(in)
		case pos == 6:
			err = m.volCcy.UnmarshalJSONFrom(in)
		case pos == 7:
			err = m.volQuote.UnmarshalJSONFrom(in)
		case pos == 8:
			err = m.confirm.UnmarshalJSONFrom(in)
		default:
			return in.SkipValue()
		}
		if err != nil {
			return &fieldError{field: okxCandleFields[pos], err: err}
		}
		return nil
	})
}

func (m *okxCandleMsg) fill(f *filler) {
	x := f.ev.UseKline()
	if m.n < len(okxCandleFields) {
		f.fail(okxCandleFields[m.n], ErrMissingField)
		return
	}
	x.Interval = okxCandleInterval(f.p.state.(*okxEnvelope).Arg.Channel.bytes())
	f.millis(&x.OpenTime, "ts", m.ts)
	f.price(&x.Open, "o", m.px[0])
	f.price(&x.High, "h", m.px[1])
	f.price(&x.Low, "l", m.px[2])
	f.price(&x.Close, "c", m.px[3])
	f.price(&x.Volume, "vol", m.vol)
	f.price(&x.QuoteVolume, "volCcyQuote", m.volQuote)
	switch string(m.confirm.bytes()) {
	case "0":
	case "1":
		x.Closed = true
		f.ev.Type = schema.EventKlineClosed
	default:
		f.fail("confirm", ErrBadValue)
	}
	f.main = x.OpenTime
	if d, ok := intervalNanos[x.Interval]; ok && x.OpenTime != 0 {
		x.CloseTime = x.OpenTime + d
	}
}

// okxCandleBars maps a candle channel's bar to its canonical interval.
// OKX's bars of 6 hours and more are aligned to Hong Kong time (UTC+8)
// unless the channel ends in "utc" (OKX v5 "Candlesticks channel": "Hong
// Kong time opening price k-line: [6H/12H/1D/2D/3D/5D/1W/1M/3M]", "UTC
// time opening price k-line: [6Hutc/12Hutc/1Dutc/…]"): two different
// candles of one length, told apart by "+08:00" after the interval as
// Binance names its UTC+8 klines ("kline_1d@+08:00").
var okxCandleBars = map[string]string{
	"1s": "1s", "1m": "1m", "3m": "3m", "5m": "5m", "15m": "15m", "30m": "30m",
	"1H": "1h", "2H": "2h", "4H": "4h",
	"6H": "6h+08:00", "12H": "12h+08:00", "1D": "1d+08:00", "2D": "2d+08:00", "3D": "3d+08:00",
	"5D": "5d+08:00", "1W": "1w+08:00", "1M": "1M+08:00", "3M": "3M+08:00", "6M": "6M+08:00", "1Y": "1y+08:00",
	"6Hutc": "6h", "12Hutc": "12h", "1Dutc": "1d", "2Dutc": "2d", "3Dutc": "3d", "5Dutc": "5d",
	"1Wutc": "1w", "1Mutc": "1M", "3Mutc": "3M", "6Mutc": "6M", "1Yutc": "1y",
}

// okxCandleInterval returns the canonical interval of a candle channel's
// name ("candle1D"), "" for any other channel (mark-price-candle1m and
// index-candle1m, candles of a price that is not traded, are not read).
func okxCandleInterval(channel []byte) string {
	bar, ok := bytes.CutPrefix(channel, []byte("candle"))
	if !ok {
		return ""
	}
	return okxCandleBars[string(bar)]
}

// okxPriceCandle reports whether channel is a candle channel of a mark or
// index price (OKX v5 "Mark price candlesticks channel",
// mark-price-candle<bar>, and "Index candlesticks channel",
// index-candle<bar>, of the bars okxCandleBars names): known and skipped
// on purpose (Stats.Ignored). A candle of a price that is no trade's has
// no place in the schema: as an EventKlineLive it would share the
// instrument's kline slot with the candles of its trades and replace them.
func okxPriceCandle(channel []byte) bool {
	for _, prefix := range [...]string{"mark-price-", "index-"} {
		if rest, ok := bytes.CutPrefix(channel, []byte(prefix)); ok {
			return okxCandleInterval(rest) != ""
		}
	}
	return false
}
