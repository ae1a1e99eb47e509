package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// TestS43schemaMaskIsSchemaSections: the mask's out-of-line bits are
// schema.Sections shifted by outShift, section by section (the wire's
// bytes are fixed; schema's order must stay the same): Append's mask and
// Decode's keepOnly read them so. Seen failing with SectionBalance and
// SectionPosition swapped in schema.
func TestS43schemaMaskIsSchemaSections(t *testing.T) {
	for _, c := range []struct {
		wire uint16
		sec  schema.Sections
	}{
		{secTicker, schema.SectionTicker}, {secKline, schema.SectionKline}, {secMark, schema.SectionMark},
		{secLiquidation, schema.SectionLiquidation}, {secExec, schema.SectionExec}, {secControl, schema.SectionControl},
		{secBalance, schema.SectionBalance}, {secPosition, schema.SectionPosition},
	} {
		assert.Equal(t, c.wire, uint16(c.sec)<<outShift)
		assert.Equal(t, c.sec, carriedIn(c.wire))
	}
	assert.Equal(t, secAll, secTrade|secBBO|secBook|uint16(schema.AllSections)<<outShift)
}
