package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// FuzzAnswerID: answerID reads venue frames the parser refused (and every
// frame while reconciliation queries are in flight), on the connection's
// reader: whatever the frame, no panic; a frame with a top-level numeric
// id gives that id.
func FuzzAnswerID(f *testing.F) {
	for _, s := range []string{
		`{"id":7,"status":400,"error":{"code":-1013,"msg":"Filter failure: LOT_SIZE"}}`,
		`{"id":"abc","status":200,"result":{}}`,
		`{"id":18446744073709551615}`, `{"id":-1}`, `{"id":1e3}`, `{"id":null}`, `{"id":{"x":1}}`,
		`{"result":{"id":5}}`, `[1,2]`, `{"id":`, ``, `null`, "{\"id\":1,\"id\":2}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = answerID(data)
	})
}

func TestAnswerIDDocumentedShapes(t *testing.T) {
	for in, want := range map[string]uint64{
		`{"id":7,"status":429,"error":{"code":-1003,"msg":"x","data":{"serverTime":1,"retryAfter":2}},"rateLimits":[]}`: 7,
		`{"status":400,"error":{"code":-1100,"msg":"x"},"id":12}`:                                                       12,
		`{"id":"7","status":400}`:                                   0,
		`{"id":null,"status":400,"error":{"code":-1000,"msg":"x"}}`: 0,
		`not json`:            0,
		`{"result":{"id":5}}`: 0,
	} {
		assert.Equal(t, want, answerID([]byte(in)), in)
	}
}
