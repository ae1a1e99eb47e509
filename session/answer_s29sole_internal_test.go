package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestS29EchoesNoID: an answer without an id, or with a null one, echoes
// none; one whose id the session could not read (a string, out of range)
// echoes one all the same.
func TestS29EchoesNoID(t *testing.T) {
	for data, want := range map[string]bool{
		`{"event":"error","code":"60012","msg":"Invalid request","connId":"a4d3ae55"}`:             true,
		`{"id":null,"status":400,"error":{"code":-1102,"msg":"Malformed request."}}`:               true,
		`{"type":"error","message":"failure to subscribe"}`:                                        true,
		`{"retCode":10404,"retMsg":"op not found","op":"order.create"}`:                            true,
		`{"error":"EGeneral:Internal error","method":"add_order","success":false}`:                 true,
		`{"id":9223372036854775808,"status":400,"error":{"code":-1000,"msg":"huge id"}}`:           false,
		`{"id":"777","event":"error","code":"60012","msg":"Invalid request"}`:                      false,
		`{"reqId":"1","retCode":10404,"retMsg":"op not found","op":"order.create"}`:                false,
		`{"error":"EGeneral:Internal error","method":"add_order","req_id":5,"success":false}`:      false,
		`{"event":"error","msg":"Invalid request: {\"id\": \"1\", \"op\": \"order\"}","code":"1"}`: true,
		`not json`: false,
		``:         false,
	} {
		assert.Equal(t, want, echoesNoID([]byte(data)), data)
	}
}

// FuzzEchoesNoID: venue input never panics the check.
func FuzzEchoesNoID(f *testing.F) {
	for _, s := range []string{`{"id":null}`, `{"event":"error","code":"60012"}`, `{"reqId":"1"}`, `{"req_id":5}`, `[`, `{"id":{"a":[1,2]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(_ *testing.T, data []byte) { _ = echoesNoID(data) })
}
