package meltica_test

import "github.com/meltica/meltica/schema"

// s42ctMissingSection names the out-of-line section (issue #15: nil
// unless the event carries it) that ev's Type puts its data in when ev
// does not carry it, or "" when it does or the Type keeps its data in
// line. A contract test reports it as a problem of the event rather than
// dereferencing nil, which would end the whole test binary.
func s42ctMissingSection(ev *schema.CanonicalEvent) string {
	var missing bool
	switch ev.Type {
	case schema.EventTicker:
		missing = ev.Ticker == nil
	case schema.EventKlineLive, schema.EventKlineClosed:
		missing = ev.Kline == nil
	case schema.EventMarkPrice, schema.EventFundingRate:
		missing = ev.Mark == nil
	case schema.EventLiquidation:
		missing = ev.Liquidation == nil
	case schema.EventExecReport:
		missing = ev.Exec == nil
	case schema.EventGap, schema.EventConnState, schema.EventControl:
		missing = ev.Control == nil
	case schema.EventBalance:
		missing = ev.Balance == nil
	case schema.EventPosition:
		missing = ev.Position == nil
	}
	if !missing {
		return ""
	}
	return ev.Type.String() + " without its section"
}
