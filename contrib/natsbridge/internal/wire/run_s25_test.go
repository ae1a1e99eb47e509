package wire

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/fixture"
	"github.com/meltica/meltica/schema"
)

// TestS25RunRoundTrip: a message carries the run of its stream's
// sequence (version 7), so that a consumer tells a publisher that
// started the stream over from a loss within one run.
func TestS25RunRoundTrip(t *testing.T) {
	src := &schema.CanonicalEvent{}
	fixture.Full(src, 3)
	var d Decoder
	got := &schema.CanonicalEvent{}
	seq, run, err := d.DecodeRun(AppendRun(nil, src, 42, 0xdeadbeef), got)
	require.NoError(t, err)
	require.Equal(t, uint64(42), seq)
	require.Equal(t, uint32(0xdeadbeef), run)
	require.Equal(t, src.Clone(), got.Clone())
	require.Equal(t, byte(Version), AppendRun(nil, src, 1, 1)[0])
}

// TestS25Version6StillDecodes: a consumer upgraded before its publishers
// (a rolling upgrade), or reading reports stored in JetStream before the
// upgrade, decodes the previous layout: the same bytes without the run,
// which it reads as 0 (no run known). And a publisher can still write it
// (AppendVersion), for consumers not yet upgraded.
func TestS25Version6StillDecodes(t *testing.T) {
	src := &schema.CanonicalEvent{}
	fixture.Full(src, 3)
	src.UseTicker().Window, src.UseTicker().WeightedAvgPrice = "", schema.Decimal{} // layouts before 9 cannot carry them
	v7 := AppendVersion(nil, src, 300, 77, Version8)
	// Version 6: version byte 6, no run after the sequence.
	n := 2 + len(binary.AppendUvarint(nil, 300))
	v6 := append([]byte{6}, v7[1:n]...)
	v6 = append(v6, v7[n+4:]...)
	require.Equal(t, v6, AppendVersion(nil, src, 300, 77, 6), "AppendVersion(…, 6) writes the previous layout")
	var d Decoder
	got := &schema.CanonicalEvent{}
	seq, run, err := d.DecodeRun(v6, got)
	require.NoError(t, err)
	require.Equal(t, uint64(300), seq)
	require.Zero(t, run)
	require.Equal(t, src.Clone(), got.Clone())
	typ, ok := Type(v6)
	require.True(t, ok)
	require.Equal(t, src.Type, typ)
	for _, v := range []byte{5, Version + 1} {
		_, _, err = d.DecodeRun(append([]byte{v}, v6[1:]...), got)
		require.ErrorIs(t, err, ErrVersion)
	}
}

// TestS29Version7StillDecodes: layout 8 is the bytes of 7 numbered per
// view; a message of 7 (a Publisher older than 8, or one set to write 7)
// decodes as 8 does, run included, and PerView tells the two apart.
func TestS29Version7StillDecodes(t *testing.T) {
	src := &schema.CanonicalEvent{}
	fixture.Full(src, 3)
	src.UseTicker().Window, src.UseTicker().WeightedAvgPrice = "", schema.Decimal{} // layouts before 9 cannot carry them
	v8 := AppendVersion(nil, src, 300, 77, Version8)
	v7 := AppendVersion(nil, src, 300, 77, Version7)
	require.Equal(t, append([]byte{7}, v8[1:]...), v7)
	var d Decoder
	got := &schema.CanonicalEvent{}
	seq, run, err := d.DecodeRun(v7, got)
	require.NoError(t, err)
	require.Equal(t, uint64(300), seq)
	require.Equal(t, uint32(77), run)
	require.Equal(t, src.Clone(), got.Clone())
	require.True(t, PerView(v8))
	require.False(t, PerView(v7))
	require.False(t, PerView(AppendVersion(nil, src, 300, 77, PrevVersion)))
	require.False(t, PerView(nil))
}
