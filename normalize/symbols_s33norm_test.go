package normalize

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// Past the fallback cache's bound (maxFallbackCache symbols resolved by
// the venue's rules, none loaded), a symbol seen before still resolves
// without allocating (contract 7: 0 allocations on ingest): an options
// venue lists more than 4,096 instruments, and a registry full of them
// allocated the canonical string on every message of every later one.
// Memory stays bounded: the symbols past the bound are kept in a cache of
// maxFallbackCache entries that evicts one to take a new one.
func TestS33SymbolsLookupPastBoundAllocs(t *testing.T) {
	s := NewBinanceSymbols()
	for i := range maxFallbackCache {
		_, err := s.LookupString(fmt.Sprintf("F%dUSDT", i))
		require.NoError(t, err)
	}
	b := []byte("nknusdt")
	got, err := s.Lookup(b)
	require.NoError(t, err)
	require.Equal(t, "NKN-USDT", got)
	require.Zero(t, testing.AllocsPerRun(100, func() {
		if c, err := s.Lookup(b); err != nil || c != "NKN-USDT" {
			panic(fmt.Sprint(c, err))
		}
	}))
	// The same string every time: interned, never rebuilt.
	again, err := s.Lookup(b)
	require.NoError(t, err)
	require.Same(t, unsafe.StringData(got), unsafe.StringData(again))

	// Bounded: a flood of new names past the bound keeps at most
	// maxFallbackCache of them, and each still resolves right.
	for i := range 3 * maxFallbackCache {
		sym := fmt.Sprintf("G%dUSDT", i)
		c, err := s.LookupString(sym)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("G%d-USDT", i), c)
	}
	s.mu.Lock()
	n := len(s.past)
	s.mu.Unlock()
	require.LessOrEqual(t, n, maxFallbackCache)
	require.Positive(t, n)
}
