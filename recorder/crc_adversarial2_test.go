package recorder_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
)

// A byte flipped anywhere in a recording, plain or zstd — bit rot, a bad
// copy — never comes back as a frame that was not recorded: a quantity
// "0.5" silently read as "0.7" would replay a session that never was. The
// reader gives back frames identical to the recorded ones, then stops with
// an error wrapping ErrFormat (or, for a flip in a part that held no frame,
// reads on).
func TestAdv2FlippedByteNeverAlteredFrame(t *testing.T) {
	var lines []recorder.Line
	for i := range 6 {
		lines = append(lines, recorder.Line{Time: int64(1e18 + i), Conn: 1 + uint64(i%2), Seq: uint64(i + 1), Text: `{"e":"trade","p":"67000.01","q":"0.5","t":` + string(rune('0'+i%10)) + `}`})
	}
	lines = append(lines, recorder.Line{Time: 2e18, Conn: 3, Seq: 1, Binary: true, Bin: []byte{0, 1, 2, 3, 0xff}})
	for _, compress := range []bool{false, true} {
		full := encode(t, compress, lines...)
		altered := 0
		step := 1 // under -race every fourth byte (each bit at a different phase); every byte without it
		if raceEnabled {
			step = 4
		}
		for j := 0; j < len(full); j += step {
			for k, bit := range []byte{0x04, 0x40} {
				i := min(j+k*step/2, len(full)-1)
				bad := bytes.Clone(full)
				bad[i] ^= bit
				r, err := recorder.NewReader(bytes.NewReader(bad))
				if err != nil {
					continue
				}
				for n := 0; ; n++ {
					l, err := r.Next()
					if err != nil {
						if err != io.EOF {
							require.ErrorIs(t, err, recorder.ErrFormat)
						}
						break
					}
					require.Less(t, n, len(lines), "compress %v byte %d", compress, i)
					want := lines[n]
					if l.Time != want.Time || l.Conn != want.Conn || l.Seq != want.Seq || l.Out != want.Out ||
						l.Binary != want.Binary || l.Text != want.Text || !bytes.Equal(l.Bin, want.Bin) {
						altered++
						t.Logf("compress %v byte %d bit %#x: line %d read as %+v", compress, i, bit, n, *l)
						break
					}
				}
				require.NoError(t, r.Close())
			}
		}
		assert.Zero(t, altered, "compress %v: flips that came back as altered frames", compress)
	}
}
