package normalize

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The benchmarks' bare mode (Parser.bare) decodes into the structs only.
// A combined-stream frame with a member after "data" is cut by the fast
// split, refused by goccy as a syntax error and split again: it is one
// message, counted once in Stats.Messages, in bare mode as in the normal
// one (the normal path takes its count back before the resplit). Failed
// before the fix: bare mode counted it twice.
func TestS29BareResplitCountedOnce(t *testing.T) {
	for _, f := range []string{"combined_trade", "combined_bookTicker", "exec_wrapped_amendment"} {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile("testdata/binance/" + f + ".json")
			require.NoError(t, err)
			plain := strings.TrimSpace(string(b))
			in := plain[:len(plain)-1] + `,"x":1}`
			p, _, _ := newRecParser(t, nil)
			p.bare = true
			require.NoError(t, p.HandleBytes(context.Background(), []byte(in), 1))
			assert.Equal(t, uint64(1), p.Stats().Messages, "a resplit message counted twice")
		})
	}
}
