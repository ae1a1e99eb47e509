package normalize

// maintenanceMsg is one element of a venue's maintenance status channel:
// OKX's "status" (OKX v5 "Status channel") and Bybit's "system.status"
// (Bybit v5 "System Status"), both a list of {"title","state","begin",
// "end",…}. Each element becomes a [schema.ControlStatus] event with
// Control.Reason the maintenance's state (scheduled, ongoing, pre_open,
// completed, canceled; another word copied as sent) and ExchangeTS the
// element's "ts" (OKX) or the envelope's (Bybit). Its title, begin and
// end times, affected services and link have no place in the schema; a
// host that must plan around a maintenance reads them from the venue's
// REST status endpoint. An element without "state" says nothing: a
// [*ParseError] wrapping [ErrMissingField].
type maintenanceMsg struct {
	State text    `json:"state"`
	TS    integer `json:"ts"`
}

var maintenanceStates = internTable("scheduled", "ongoing", "pre_open", "completed", "canceled")

func (m *maintenanceMsg) fill(f *filler) {
	f.need("state", m.State.ok && len(m.State.bytes()) > 0)
	f.millis(&f.main, "ts", m.TS)
	f.ev.UseControl().Reason = internOrCopy(maintenanceStates, &m.State)
}
