package schema_test

import (
	"fmt"
	"reflect"
	"testing"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s25ctFill sets every exported field of v (a struct, recursively) to a
// value that is not zero, different per field (n counts them), as a venue
// would: decimals with trailing zeros, identifiers, enums past their zero.
func s25ctFill(v reflect.Value, n *int) {
	*n++
	switch v.Interface().(type) {
	case schema.Decimal:
		v.Set(reflect.ValueOf(schema.MustParseDecimal(fmt.Sprintf("%d.0100", *n))))
		return
	case schema.ID:
		v.Set(reflect.ValueOf(schema.MustID(fmt.Sprintf("id-%d", *n))))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && v.Type().Field(i).Name != "Header" {
				s25ctFill(v.Field(i), n)
			}
		}
	case reflect.Pointer: // an event's out-of-line section: carried
		v.Set(reflect.New(v.Type().Elem()))
		s25ctFill(v.Elem(), n)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			s25ctFill(s.Index(i), n)
		}
		v.Set(s)
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n%3 + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n%3 + 1))
	}
}

// The README: "every schema type encodes as JSON (pool.Header skipped)".
// A host that encodes an event (to log it, to send it on) reads it back
// with the same library: every field of every schema type, each set to a
// value that is not zero, comes back the same through goccy/go-json v2
// (decimals with their digits, identifiers, enums, slices).
func TestS25ctEverySchemaTypeRoundTripsJSON(t *testing.T) {
	for _, v := range []any{
		&schema.CanonicalEvent{}, &schema.ExecReport{}, &schema.OrderRequest{},
		&schema.MergedEvent{}, &schema.WsFrame{}, &schema.ProviderRaw{},
	} {
		t.Run(reflect.TypeOf(v).Elem().Name(), func(t *testing.T) {
			n := 0
			s25ctFill(reflect.ValueOf(v).Elem(), &n)
			b, err := json.Marshal(v)
			require.NoError(t, err)
			back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
			require.NoError(t, json.Unmarshal(b, back), "%s", b)
			require.Equal(t, v, back, "%s", b)
		})
	}
}
