package normalize

import (
	"context"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// feed is the shell every venue parser after Binance shares: options, the
// core parser, and the frame entry points. A venue brings its envelope
// splitter (split) and its tables; the walk over a JSON array of messages,
// the control and unknown accounting, and everything in [parser.run] are
// here once.
type feed struct {
	parser
	syms  *Symbols
	split func(ctx context.Context, data []byte, ingest int64) error
}

func (f *feed) setup(venue schema.Venue, events *pool.Pool[*schema.CanonicalEvent], sink Sink, opts *Options, rules SymbolRules) {
	if events == nil || sink == nil {
		panic("normalize: a " + string(venue) + " parser needs an event pool and a sink")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Symbols == nil {
		o.Symbols = NewSymbols(rules)
	}
	f.syms = o.Symbols
	f.init(venue, events, sink, &o)
}

// Stats returns the parser's counters.
func (f *feed) Stats() Stats { return f.stats.snapshot() }

// Symbols returns the parser's symbol registry.
func (f *feed) Symbols() *Symbols { return f.syms }

// HandleFrame normalises one frame: it has the signature of the websocket
// client's frame handler. The frame is only borrowed: nothing refers to
// fr.Data once it returns. A *ParseError concerns one message only (it is
// dropped and counted); other errors come from the sink or from ctx.
func (f *feed) HandleFrame(ctx context.Context, fr *schema.WsFrame) error {
	return f.HandleBytes(ctx, fr.Data, fr.ReceivedAt)
}

// HandleBytes is HandleFrame for a message held elsewhere; receivedAt
// (Unix ns) becomes the events' IngestTS.
func (f *feed) HandleBytes(ctx context.Context, data []byte, receivedAt int64) error {
	f.env, f.more = envelope{}, nil
	err := f.split(ctx, data, receivedAt)
	f.env, f.more = envelope{}, nil // drop the references into data
	return err
}

// bad counts a message that could not be split and returns its error.
func (f *feed) bad(stream, field string, err error) error {
	f.stats.messages.Add(1)
	f.stats.errors.Add(1)
	return &ParseError{Venue: f.venue, Stream: stream, Field: field, Err: err}
}

// unknown counts a message of a type the parser does not know.
func (f *feed) unknown() error {
	f.stats.messages.Add(1)
	f.stats.unknown.Add(1)
	return nil
}

// one decodes one message with sp.
func (f *feed) one(ctx context.Context, sp *msgSpec, payload, sym []byte, ingest int64) error {
	f.stats.messages.Add(1)
	return f.run(ctx, sp, payload, sym, ingest)
}

// each decodes every element of the JSON array arr (or arr itself, when
// it is an object) with sp: one message, one event each. The first error
// is returned; the other elements are still decoded.
func (f *feed) each(ctx context.Context, sp *msgSpec, arr, sym []byte, ingest int64) error {
	if i := skipSpace(arr, 0); i < len(arr) && arr[i] == '{' {
		return f.one(ctx, sp, arr, sym, ingest)
	}
	var first error
	var it iter
	it.array(arr)
	it.loose = true // each element is validated when decoded
	for it.next() {
		if err := f.one(ctx, sp, it.val, sym, ingest); err != nil && first == nil {
			first = err
		}
	}
	if err := it.finish(); err != nil && first == nil {
		first = f.bad(sp.table.name, "data", err)
	}
	return first
}

// fields of an envelope, read loosely: str returns a string value's
// content without unescaping (channel names and symbols have no escapes),
// or nil for anything that is not a plain string.
func str(v []byte) []byte {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil
	}
	s := v[1 : len(v)-1]
	for _, c := range s {
		if c == '\\' {
			return nil
		}
	}
	return s
}

// envInt parses an envelope's integer (a number or its text); 0 when
// absent or not a non-negative integer.
func envInt(v []byte) uint64 {
	n, ok := parseInt(unquoted(v))
	if !ok || n < 0 {
		return 0
	}
	return uint64(n)
}

// envMillis parses an envelope's Unix ms into ns; 0 when absent or bad.
func envMillis(v []byte) int64 {
	n := envInt(v)
	if n > maxMillis {
		return 0
	}
	return int64(n) * 1_000_000
}

// members reads the values of keys from the object data, loosely, into
// vals (nil for a key that is absent): what a splitter reads of an envelope
// is a list of keys, not a loop of its own. The values alias data.
func members(data []byte, keys []string, vals [][]byte) error {
	var it iter
	it.object(data)
	it.loose = true
	for it.next() {
		for i, k := range keys {
			if string(it.key) == k {
				vals[i] = it.val
				break
			}
		}
	}
	return it.finish()
}

// member returns the raw value of key in the object obj, or nil. It stops
// at the key: the rest of obj is not read.
func member(obj []byte, key string) []byte {
	var it iter
	it.object(obj)
	it.loose = true
	for it.next() {
		if string(it.key) == key {
			return it.val
		}
	}
	return nil
}
