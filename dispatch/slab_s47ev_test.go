package dispatch

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// A trade's 64 clones (64 × 376 bytes plus the allocator's 8-byte header
// of an object with pointers) fit the 24,576-byte size class: with the
// 440-byte event they took 28,672 bytes (session 47, #15).
func TestS47evSixtyFourTradeClonesFitTheSmallerSizeClass(t *testing.T) {
	perPublish, last := tradeCloneBytes(64, 200)
	assert.LessOrEqual(t, perPublish, uint64(25_000), "bytes per publish of 64 trade clones (24,576 expected; 28,672 with a 440-byte event)")
	assert.Equal(t, schema.Trade{Price: schema.NewDecimal(6500012, 2), Qty: schema.NewDecimal(15, 3)}, last.Trade, "the source's trade")
}
