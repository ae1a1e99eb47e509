package wsclient

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// The memory pastFrames holds and what it shares, over frames of every
// kind a reader hands it (small, grown past pastMaxCap with a small or a
// large message, reused as the reader reuses them): each slot's buffer
// stays within twice pastMaxCap (a copy grown by append; the package doc
// says at most 32 × 16 KiB, twice that for such copies), so that a
// connection keeps at most 1 MiB; no slot shares its array with the
// frame handed back (the reader reads its next message into it) nor with
// another slot; the frame always goes back with a buffer; and the kept
// frames are the latest, in order, after the last one too large to keep.
func TestS41rvwsPastFramesBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 1))
	var p pastFrames
	f := &schema.WsFrame{}
	var want []string
	for i := range 5000 {
		var size, capacity int
		switch rng.IntN(4) {
		case 0:
			size = rng.IntN(schema.DefaultFrameBuffer)
		case 1:
			size = rng.IntN(pastMaxCap + 1)
		case 2:
			size, capacity = rng.IntN(pastMaxCap+1), pastMaxCap+1+rng.IntN(pastMaxCap)
		default:
			size = pastMaxCap - rng.IntN(64) + rng.IntN(128) // about the bound: some too large
		}
		if rng.IntN(2) == 0 && cap(f.Data) >= size && capacity == 0 {
			f.Data = f.Data[:size] // the reader's reuse of the buffer it got back
		} else {
			f.Data = make([]byte, size, max(size, capacity))
		}
		tag := []byte(string(rune('a' + i%26)))
		for k := range f.Data {
			f.Data[k] = tag[0]
		}
		msg := string(f.Data)
		p.keep(f)
		require.NotNil(t, f.Data, "frame %d went back without a buffer", i)
		if len(msg) > pastMaxCap {
			want = want[:0]
		} else {
			want = append(want, msg)
		}
		got := s40wsKept(&p)
		require.Equal(t, len(want[max(0, len(want)-pastSize):]), len(got), "frame %d", i)
		for k, g := range got {
			require.True(t, g == want[max(0, len(want)-pastSize)+k], "frame %d: kept frame %d not the one delivered", i, k)
		}
		arrays := map[*byte]bool{}
		if cap(f.Data) > 0 {
			arrays[unsafe.SliceData(f.Data[:cap(f.Data)])] = true
		}
		for k, b := range p.bufs {
			require.LessOrEqual(t, cap(b), 2*pastMaxCap, "frame %d: slot %d", i, k)
			if cap(b) == 0 {
				continue
			}
			a := unsafe.SliceData(b[:cap(b)])
			require.False(t, arrays[a], "frame %d: slot %d shares its array", i, k)
			arrays[a] = true
		}
	}
}
