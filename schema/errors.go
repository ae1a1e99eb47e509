package schema

import "errors"

// ErrInvalid is matched by every error Validate returns.
var ErrInvalid = errors.New("schema: invalid")

// ValidationError names the type and field that failed Validate.
type ValidationError struct {
	Type   string // WsFrame, OrderRequest, ...
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	return "schema: invalid " + e.Type + "." + e.Field + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(typ, field, reason string) error {
	return &ValidationError{Type: typ, Field: field, Reason: reason}
}
