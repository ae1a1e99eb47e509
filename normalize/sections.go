package normalize

import "github.com/meltica/meltica/schema"

// The out-of-line sections of schema.CanonicalEvent (Ticker, Kline, Exec,
// Control, ...) are nil unless the event carries them. A reader here never
// makes one (Use* is for writers): a missing section reads as zero, so an
// identity field reads "".

// klineInterval returns the interval of ev's kline stream, "" when ev
// carries no Kline section.
func klineInterval(ev *schema.CanonicalEvent) string {
	if ev.Kline == nil {
		return ""
	}
	return ev.Kline.Interval
}

// tickerWindow returns the window of ev's ticker stream
// (schema.Ticker.Window), "" when ev carries no Ticker section.
func tickerWindow(ev *schema.CanonicalEvent) string {
	if ev.Ticker == nil {
		return ""
	}
	return ev.Ticker.Window
}
