package session

import (
	"strconv"
	"testing"

	json "github.com/goccy/go-json/v2"
)

// FuzzS41fuzzAnswerID holds answerID to what its doc promises, beyond
// "no panic" (FuzzAnswerID): a WS-API answer whose top-level "id" is a
// number gives that number, whatever else the object holds before or
// after it (here any text, as a JSON string, and a nested "id" that must
// not be taken for the top-level one).
func FuzzS41fuzzAnswerID(f *testing.F) {
	f.Add(uint64(7), []byte(`Filter failure: LOT_SIZE`), false)
	f.Add(uint64(18446744073709551615), []byte(`{"id":5}`), true)
	f.Add(uint64(1), []byte("\xff\x00\"\\"), true)
	f.Fuzz(func(t *testing.T, id uint64, text []byte, after bool) {
		s, err := json.Marshal(string(text))
		if err != nil {
			t.Skip()
		}
		n := strconv.FormatUint(id, 10)
		frame := `{"id":` + n + `,"status":400,"error":{"code":-1013,"msg":` + string(s) + `,"data":{"id":99}}}`
		if after {
			frame = `{"status":400,"error":{"code":-1013,"msg":` + string(s) + `,"data":{"id":99}},"id":` + n + `}`
		}
		if got := answerID([]byte(frame)); got != id {
			t.Fatalf("answerID(%s) = %d, want %d", frame, got, id)
		}
	})
}
