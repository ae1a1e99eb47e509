package natsbridge

import "github.com/meltica/meltica/schema"

// Nil-safe reads of the out-of-line sections (schema.CanonicalEvent holds
// them through pointers, nil unless the event carries the section): the
// bridge reads events it did not make — a host's, a decoded message an
// operator published without the section — and a missing section reads as
// zero, an identity (a window, an interval) as "".

// gapType is the type of the events a gap marker's Control says were lost
// (EventUnknown when ev carries no Control).
func gapType(ev *schema.CanonicalEvent) schema.EventType {
	if ev.Control == nil {
		return schema.EventUnknown
	}
	return ev.Control.GapType
}

// tickerWindow is ev's Ticker.Window, "" when ev carries no Ticker.
func tickerWindow(ev *schema.CanonicalEvent) string {
	if ev.Ticker == nil {
		return ""
	}
	return ev.Ticker.Window
}

// tickerWindowClose is ev's Ticker.WindowClose, 0 when ev carries no
// Ticker.
func tickerWindowClose(ev *schema.CanonicalEvent) int64 {
	if ev.Ticker == nil {
		return 0
	}
	return ev.Ticker.WindowClose
}

// klineInterval is ev's Kline.Interval, "" when ev carries no Kline.
func klineInterval(ev *schema.CanonicalEvent) string {
	if ev.Kline == nil {
		return ""
	}
	return ev.Kline.Interval
}
