package normalize

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/schema"
)

// sample is one message of testdata/venues, compacted as venues send them,
// with the files fed before it (a snapshot before its diffs).
type sample struct {
	venue schema.Venue
	name  string
	msg   []byte
}

// benchSamples returns every sample that normalises into market data or an
// execution report, venue by venue, compacted.
func benchSamples(tb testing.TB) []sample {
	out := sharedSamples(tb)
	for i := range out {
		if v := jsontext.Value(append([]byte(nil), out[i].msg...)); v.Compact() == nil {
			out[i].msg = v
		}
	}
	return out
}

// sharedSamples returns every message of the shared testdata/venues, as
// recorded, sorted by file name.
func sharedSamples(tb testing.TB) []sample {
	files, err := filepath.Glob(filepath.Join(sharedVenues, "*.json"))
	if err != nil || len(files) == 0 {
		tb.Skipf("no samples in %s", sharedVenues)
	}
	sort.Strings(files)
	var out []sample
	for _, path := range files {
		base := strings.TrimSuffix(filepath.Base(path), ".json")
		venue := schema.Venue(base[:strings.IndexByte(base, '_')])
		raw, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, sample{venue: venue, name: base[len(venue)+1:], msg: raw})
	}
	return out
}

// warm returns a parser of s's venue that has seen s (and, for a delta,
// the snapshot of the same stream) once, and the events it emitted.
func warm(tb testing.TB, s sample) (*Parser, int) {
	events := schema.NewPools(nil).Events
	sink := &putSink{events: events}
	p := newVenueParser(s.venue, events, sink).(*Parser)
	if s.venue == schema.VenueCoinbase { // a future: no quote asset in its id
		_ = p.Symbols().Load([]Instrument{{Symbol: "BIP-20DEC30-CDE", Base: "BIP", Quote: "USD", Contract: "20DEC30"}})
	}
	ctx := context.Background()
	for _, before := range samplePredecessors[s.venue+"/"+schema.Venue(s.name)] {
		for _, o := range benchSamples(tb) {
			if o.venue == s.venue && o.name == before {
				_ = p.HandleBytes(ctx, o.msg, 1)
			}
		}
	}
	n := sink.n
	if err := s.handle(ctx, p); err != nil {
		return nil, 0
	}
	return p, sink.n - n
}

// handle feeds the sample to p: a REST depth snapshot through
// HandleSnapshot, anything else as a frame.
func (s sample) handle(ctx context.Context, p *Parser) error {
	if s.venue == schema.VenueBinance && s.name == "depth_snapshot" {
		return p.HandleSnapshot(ctx, "BTCUSDT", s.msg, 1)
	}
	return p.HandleBytes(ctx, s.msg, 1)
}

// samplePredecessors are the files a sample needs first.
var samplePredecessors = map[schema.Venue][]string{
	"bybit/v5_tickers_linear_delta": {"v5_tickers_linear_snapshot"},
}

// bareBinance decodes a Binance frame with goccy's v2 API into a reused
// struct of the message's kind, as a bare decode would: no pooled event,
// no symbol, no sequence.
func bareBinance(tb testing.TB, msg []byte) func() error {
	var ev schema.CanonicalEvent
	payload := msg
	stream, pl, fast := binanceFastSplit(msg)
	var env bnEnvelope
	if !fast {
		if err := json.Unmarshal(msg, &env); err != nil {
			tb.Fatal(err)
		}
	} else {
		payload = pl
	}
	if env.Event.to > 0 {
		payload = env.Event.of(msg)
	}
	p := NewBinance(schema.NewPools(nil).Events, &putSink{}, nil)
	_, ch := splitStream(stream)
	k, _, err := p.classify(ch, payload, nil)
	if err != nil || k < 0 {
		tb.Skip("not a market message")
	}
	if k >= numBinanceKinds { // split into entries: the message decoded once
		st := new(bnState)
		return func() error { _, err := st.decode(p, k, payload); return err }
	}
	sl := binanceSpec.kinds[k].slot()
	m, target := sl.msg(), any(sl.msg())
	if stream != nil {
		// The whole frame, envelope included, into one struct whose data
		// member is the message struct.
		target, m = sl.framed()
	}
	if env.Event.to > 0 {
		target, m = &frameEvent{}, new(bnExecMsg)
		target.(*frameEvent).Event = m.(*bnExecMsg)
	}
	return func() error {
		ev.Book.Bids, ev.Book.Asks = ev.Book.Bids[:0], ev.Book.Asks[:0]
		if b, ok := m.(binder); ok {
			b.bind(&ev)
		}
		if target != any(m) {
			return json.Unmarshal(msg, target)
		}
		return json.Unmarshal(payload, target)
	}
}

// frameEvent is a WS-API user-data wrapper around an execution report.
type frameEvent struct {
	SubscriptionID integer    `json:"subscriptionId"`
	Event          *bnExecMsg `json:"event"`
}

// BenchmarkParse compares, for every sample of every venue, the whole
// normalize step (frame bytes → canonical events, pooled events returned)
// with a bare goccy v2 decode of the same bytes into reused structs. For
// Binance the bare decode is one Unmarshal of the frame into the message's
// struct (wrapped in its envelope's struct when it has one); for the other
// venues it is the parser's own decode of the envelope and of each message
// into their reused structs, without an event (Parser.bare). The table in
// doc.go comes from:
//
//	go test -run '^$' -bench BenchmarkParse -benchmem -count 6 -benchtime 0.2s ./normalize/ | tee parse.txt
//	benchstat -col /path -filter '.unit:cpu-ns/op' parse.txt
//
// cpu-ns/op is the benchmark thread's CPU time per message: on a machine
// shared with other work it is far steadier than wall time (sec/op).
func BenchmarkParse(b *testing.B) {
	ctx := context.Background()
	for _, s := range benchSamples(b) {
		p, n := warm(b, s)
		if p == nil || n == 0 {
			continue
		}
		name := string(s.venue) + "_" + s.name
		b.Run("msg="+name+"/path=normalize", func(b *testing.B) {
			b.SetBytes(int64(len(s.msg)))
			b.ReportAllocs()
			defer cpuPerOp(b)()
			for range b.N {
				if err := s.handle(ctx, p); err != nil {
					b.Fatal(err)
				}
				resetStreams(p) // the same diff again is not a repeat
			}
		})
		var bare func() error
		if s.venue == schema.VenueBinance {
			bare = bareBinance(b, s.msg)
		} else {
			q, _ := warm(b, s)
			q.bare = true
			bare = func() error { return s.handle(ctx, q) }
		}
		if err := bare(); err != nil {
			b.Fatal(err)
		}
		b.Run("msg="+name+"/path=goccy", func(b *testing.B) {
			b.SetBytes(int64(len(s.msg)))
			b.ReportAllocs()
			defer cpuPerOp(b)()
			for range b.N {
				if err := bare(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestEverySampleZeroAllocs: every sample that normalises into events
// costs no allocation once its parser is warm (control messages included;
// venue errors with free-text reasons are in TestVenueErrorReasonsZeroAllocs).
func TestEverySampleZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	ctx := context.Background()
	for _, s := range benchSamples(t) {
		t.Run(string(s.venue)+"_"+s.name, func(t *testing.T) {
			p, n := warm(t, s)
			if p == nil || n == 0 {
				t.Skip("normalises into no event")
			}
			allocs := testing.AllocsPerRun(50, func() {
				if err := s.handle(ctx, p); err != nil {
					t.Fatal(err)
				}
				resetStreams(p)
			})
			if allocs != 0 {
				t.Errorf("%v allocations per message", allocs)
			}
		})
	}
}

// cpuPerOp reports the benchmark loop's thread CPU time per op
// ("cpu-ns/op") when the returned function is called after the loop; the
// loop runs on one locked OS thread.
func cpuPerOp(b *testing.B) func() {
	runtime.LockOSThread()
	start := threadCPU()
	return func() {
		if used := threadCPU() - start; used > 0 && b.N > 0 {
			b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/op")
		}
		runtime.UnlockOSThread()
	}
}

// resetStreams forgets every sequence the parser follows, so that the same
// message fed again is neither a repeat nor a gap.
func resetStreams(p *Parser) {
	for _, st := range p.books {
		st.Reset()
	}
	for i := range p.conns {
		p.conns[i].s.Reset()
	}
}
