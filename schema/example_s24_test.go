package schema_test

import (
	"fmt"

	"github.com/meltica/meltica/schema"
)

// A meme coin's notional is exact only past 18 digits after the point: Mul
// refuses it, MulRound rounds the exact product once.
func ExampleDecimal_MulRound() {
	price := schema.MustParseDecimal("0.000012345678")
	qty := schema.MustParseDecimal("1234.56789012")
	_, err := price.Mul(qty)
	fmt.Println(err)
	notional, _ := price.MulRound(qty, 8, schema.RoundHalfEven)
	fmt.Println(notional)
	// Output:
	// schema: decimal has more than 18 digits after the point
	// 0.01524158
}

// == compares digits; Canonical keys a map by value.
func ExampleDecimal_Canonical() {
	levels := map[schema.Decimal]string{}
	for _, p := range []string{"100.0", "100.00", "100"} {
		levels[schema.MustParseDecimal(p).Canonical()] = p
	}
	fmt.Println(len(levels), levels[schema.MustParseDecimal("100").Canonical()])
	// Output:
	// 1 100
}
