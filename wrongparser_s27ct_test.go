package meltica_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

type s27ctPutSink struct {
	events *pool.Pool[*schema.CanonicalEvent]
}

func (s s27ctPutSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.events.Put(ev)
	return nil
}

// A host that wires the wrong parser to a connection (every venue's real
// messages, testdata/venues, fed to every venue's parser) or hands it
// degenerate frames: "Bad input gets a clear typed error and costs nothing
// else. Nothing on venue input may panic." Each call returns nil or an
// error that is a *ParseError whose Err is one of normalize's sentinels
// (or a *schema.DecimalError), with a message naming the venue; every
// event taken is back in its pool; the parser's counters add up.
func TestS27ctWrongParserAndDegenerateFrames(t *testing.T) {
	files, err := filepath.Glob("testdata/venues/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	inputs := [][]byte{nil, {}, []byte("null"), []byte("[]"), []byte("{}"), []byte("0"), []byte(`""`), []byte("[[[]]]"), []byte(`{"data":null}`), []byte(`{"e":null}`), []byte("\x00\xff")}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		inputs = append(inputs, b)
	}
	sentinels := []error{normalize.ErrMalformed, normalize.ErrMissingField, normalize.ErrBadValue, normalize.ErrNegative,
		normalize.ErrUnknownSymbol, normalize.ErrDropped, normalize.ErrNoSnapshot, normalize.ErrUnsupported,
		normalize.ErrDecoderPanic, normalize.ErrUnknownExecType, normalize.ErrUnknownStatus}
	news := map[string]func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser{
		"binance": normalize.NewBinance, "bybit": normalize.NewBybit, "coinbase": normalize.NewCoinbase,
		"kraken": normalize.NewKraken, "okx": normalize.NewOKX,
	}
	ctx := context.Background()
	for name, newParser := range news {
		t.Run(name, func(t *testing.T) {
			pools := schema.NewPools(nil)
			p := newParser(pools.Events, s27ctPutSink{pools.Events}, nil)
			var errs uint64
			for i, in := range inputs {
				var err error
				require.NotPanics(t, func() { err = p.HandleBytes(ctx, in, int64(i+1)) }, "input %d", i)
				if err == nil {
					continue
				}
				errs++
				var pe *schema.DecimalError
				var perr *normalize.ParseError
				if !assert.ErrorAs(t, err, &perr, "input %d: %v", i, err) {
					continue
				}
				known := errors.As(err, &pe)
				for _, s := range sentinels {
					known = known || errors.Is(err, s)
				}
				assert.True(t, known, "input %d: an error of no documented kind: %v", i, err)
				assert.Contains(t, err.Error(), name, "the message names the venue: %v", err)
			}
			st := p.Stats()
			assert.Zero(t, pools.Events.Stats().InUse, "every event back in its pool")
			assert.LessOrEqual(t, errs, st.Errors+st.Gaps, "each error counted: %+v", st)
			require.NoError(t, pools.Shutdown(ctx))
		})
	}
}
