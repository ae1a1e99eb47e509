package book

import (
	"testing"

	"github.com/goccy/go-json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// decodeOKXBooks and okxCode decoded OKX's REST answers with no guard
// against a decoder panic (contract 6); they go through safejson now. A
// malformed answer is errOKXSnapshot (okxCode: no code), the event it was
// decoding into is still usable, and the next good answer decodes.
func TestS43normOKXRESTDecodeMalformed(t *testing.T) {
	good := []byte(`{"code":"0","msg":"","data":[{"asks":[["41006.8","0.6","0","1"]],"bids":[["41006.3","0.3","0","2"]],"ts":"1629966436396","seqId":"3340"}]}`)
	var ev schema.CanonicalEvent
	for _, bad := range []string{
		``, `[`, `{"code":`, `{"code":"0","data":[{"asks":[["1","2"`, `{"code":"0","data":{"asks":1}}`,
		`{"code":"0","data":[{"asks":[[1,2]],"bids":[],"ts":"1","seqId":5}]}`, "\xff\xfe",
	} {
		var err error
		require.NotPanics(t, func() { err = decodeOKXBooks([]byte(bad), &ev) }, bad)
		require.ErrorIs(t, err, errOKXSnapshot, bad)
		if !jsontext.Value(bad).IsValid() {
			assert.Empty(t, okxCode(bad), bad)
		}
	}
	require.NoError(t, decodeOKXBooks(good, &ev))
	assert.Equal(t, uint64(3340), ev.Book.LastSeq)
	assert.Equal(t, "0", okxCode(string(good)))
	assert.Equal(t, okxTooMany, okxCode(`{"code":"`+okxTooMany+`","msg":"Too Many Requests","data":[]}`))
}
