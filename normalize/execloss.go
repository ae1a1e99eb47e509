package normalize

import (
	"bytes"
	"context"
	"errors"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/internal/safejson"
	"github.com/meltica/meltica/schema"
)

// refusedWindow is the shortest time, on the frames' receive times,
// between two markers of refused execution reports of one parser: a venue
// that keeps sending reports the parser refuses (another product's orders
// on an all-in-one topic, a field the parser cannot read) costs one marker
// a second, each with the count since the last.
const refusedWindow = int64(1e9)

// refusedReports is what a parser keeps of the execution reports it
// refused and has not announced yet.
type refusedReports struct {
	pending uint64 // refused since the last marker
	at      int64  // the last marker's receive time; 0: none (the next goes out at once)
	from    schema.CanonicalEvent
	cause   string
}

// reportLost announces an execution report the parser refused (cause, a
// *ParseError, is returned): contract 3 says execution reports are never
// lost, so the subscriber of execution reports hears of it by a gap marker
// (EventGap, Control.GapType EventExecReport, GapSource venue, Symbol the
// report's when resolved before the fault, else empty; GapCount the reports
// refused since the last marker; Reason "execution report refused: " and
// the first cause). The first refused report is announced at once; those
// that follow within refusedWindow of a marker (on the receive time given
// to HandleFrame/HandleBytes; every one when it is 0) are counted and
// announced together by the first message of the connection at or after
// the window's end (see flushRefused); one received before the last
// marker (the host's clock stepped back) is announced at once. The marker waits for the event
// pool as every gap marker does.
func (p *Parser) reportLost(ctx context.Context, from *schema.CanonicalEvent, cause error) error {
	r := &p.refused
	if r.pending == 0 {
		r.from, r.cause = schema.CanonicalEvent{Symbol: from.Symbol, IngestTS: from.IngestTS, ExchangeTS: from.ExchangeTS}, cause.Error()
	} else if r.from.Symbol != from.Symbol {
		r.from.Symbol = "" // several symbols' reports: the marker names none
	}
	r.pending++
	if r.within(from.IngestTS) {
		return cause
	}
	if err := p.announceRefused(ctx, from.IngestTS); err != nil {
		return err
	}
	return cause
}

// reportsFrameLost announces the execution reports of a frame refused
// before they were read — its envelope did not decode, or it carries no
// "data" ("events") — when reports says the frame is a report channel's
// (Bybit "order"/"execution"/"execution.fast", OKX "orders"/"orders-algo"/
// "algo-advance", Kraken v2 "executions", Coinbase Advanced Trade
// "user"): how many it held is unknown, so it counts as one (reportLost).
// cause, a *ParseError, is returned.
func (p *Parser) reportsFrameLost(ctx context.Context, reports bool, ingest int64, cause error) error {
	if !reports {
		return cause
	}
	return p.reportLost(ctx, &schema.CanonicalEvent{IngestTS: ingest}, cause)
}

// within reports whether receive time ingest is within refusedWindow
// after the last marker: its reports wait. One before the marker is the
// host's clock stepped back: announced at once, never held for as long as
// the step (the clock catching up with the marker's window).
func (r *refusedReports) within(ingest int64) bool {
	d := ingest - r.at
	return ingest > 0 && r.at > 0 && d >= 0 && d < refusedWindow
}

// flushRefused announces the refused reports counted within the last
// window once it has ended; run calls it for every message while some are
// pending (one comparison otherwise). A message received before the last
// marker (the host's clock stepped back) announces them too and opens no
// window: were its time taken as the marker's, its own refusal would fall
// within that window and be held for a next message that may never come,
// where the stepped-back report is to be announced at once.
func (p *Parser) flushRefused(ctx context.Context, ingest int64) {
	r := &p.refused
	if r.within(ingest) {
		return
	}
	stepped := ingest > 0 && ingest < r.at
	if p.announceRefused(ctx, ingest) == nil && stepped { // an error is the caller's ctx ending: they stay pending
		r.at = 0 // the next refused report, this message's own included, goes out at once
	}
}

func (p *Parser) announceRefused(ctx context.Context, ingest int64) error {
	r := &p.refused
	if err := p.gap(ctx, &r.from, schema.EventExecReport, 0, 0, r.pending, "execution report refused: "+r.cause); err != nil {
		return err
	}
	r.pending, r.cause = 0, ""
	if ingest > 0 {
		r.at = ingest
	}
	return nil
}

// rescanName fills dst, a member naming a refused frame's channel, when
// the frame's decode stopped before it: a member of a wrong type ends the
// decode, so a channel after it was never read, and a report frame was
// refused unannounced. path names the member (["arg","channel"]: OKX's,
// nested); each level is read past members of any type. dst stays unset
// when the frame is not well-formed up to it, or when the decoder panics
// on it (these are the very frames that may have made it panic: the scan
// runs under safejson). Only refused frames pay.
func rescanName(frame []byte, dst *text, path ...string) {
	if dst.ok {
		return
	}
	if t, err := rescan(frame, path); err == nil {
		*dst = t
	}
}

// rescan is rescanName's scan: the text at path, an error when there is
// none or the decoder panicked (a *safejson.PanicError).
func rescan(frame []byte, path []string) (t text, err error) {
	defer safejson.Recover(&err)
	for _, name := range path {
		if frame = topMember(frame, name); frame == nil {
			return t, errNoMember
		}
	}
	err = json.Unmarshal(frame, &t)
	return t, err
}

// errNoMember: rescan found no member at its path.
var errNoMember = errors.New("no such member")

// topMember is the value of obj's member name, nil when obj is not an
// object well-formed up to it or has no such member.
func topMember(obj []byte, name string) jsontext.Value {
	d := jsontext.NewDecoder(bytes.NewReader(obj))
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil
	}
	for d.PeekKind() == '"' {
		k, err := d.ReadToken()
		if err != nil {
			return nil
		}
		match := k.String() == name // the token is void after the next read
		v, err := d.ReadValue()
		if err != nil {
			return nil
		}
		if match {
			return v
		}
	}
	return nil
}
