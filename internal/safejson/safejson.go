// Package safejson is the boundary between venue input and the JSON
// decoder (github.com/goccy/go-json, v2 API): a panic raised inside the
// decoder — goccy v0.12 is a fresh rewrite — is returned as a
// [*PanicError], never raised (DESIGN.md contract 6: nothing on venue
// input may panic, including panics from inside a dependency).
//
// Every decode of outside input in normalize, normalize/book, recorder,
// session and internal/cryptofeed (recorded sessions) goes through
// [Unmarshal] (or [IsValid] for a scan of a [jsontext.Value]), or runs
// under [Recover] when it drives a [jsontext.Decoder] by hand or scans a
// value with the v1 API (json.Valid). Decodes nested in a custom
// UnmarshalJSON/UnmarshalJSONFrom run under their outer call's guard.
//
// The guard is one deferred call: no allocation (a recovered panic
// allocates its error), a few nanoseconds a decode.
package safejson

import (
	"errors"
	"fmt"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"
)

// ErrPanic is matched (errors.Is) by every [*PanicError].
var ErrPanic = errors.New("json decoder panic")

// PanicError is a panic recovered from inside the JSON decoder. Value is
// what was passed to panic. It does not unwrap to Value, even when Value
// is an error: a panic's error (io.EOF, say) must not read as the
// decoder's ordinary answer.
type PanicError struct {
	Value any
}

func (e *PanicError) Error() string { return fmt.Sprintf("json decoder panic: %v", e.Value) }

// Is reports whether target is [ErrPanic].
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// Unmarshal is json.Unmarshal (goccy's v2 API) of in into v with opts; a
// panic inside the decoder is returned as a [*PanicError] and v holds
// whatever was decoded before it.
func Unmarshal(in []byte, v any, opts ...json.Options) (err error) {
	defer Recover(&err)
	return json.Unmarshal(in, v, opts...)
}

// IsValid is jsontext.Value(in).IsValid(): whether in is one whole JSON
// value as RFC 7493 has it (valid UTF-8, no duplicate names; goccy's
// encoder-side scanner, not json.Valid's). A panic inside the scanner is
// returned as a [*PanicError], valid false.
func IsValid(in []byte) (valid bool, err error) {
	defer Recover(&err)
	return jsontext.Value(in).IsValid(), nil
}

// Recover, deferred directly (defer safejson.Recover(&err)), turns a panic
// of the function that deferred it into a [*PanicError] stored in *err;
// without a panic *err is left as the function returned it. It is for code
// that drives a jsontext.Decoder by hand; a whole decode is [Unmarshal].
func Recover(err *error) {
	if r := recover(); r != nil {
		*err = &PanicError{Value: r}
	}
}
