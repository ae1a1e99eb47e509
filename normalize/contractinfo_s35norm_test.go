package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Binance USDⓈ-M "Contract Info Stream": "ContractInfo stream pushes when
// contract info updates (listing/settlement/contract bracket update). bks
// field only shows up when bracket gets updated." A bracket update repeats
// the contract's unchanged status: it was delivered as a ControlStatus
// each time, on the critical lane, a status change that was none. The
// status is delivered when it changes (or is first heard) per contract;
// a repeat is counted in Stats.Repeats.
func TestS35BinanceContractInfoStatusOnChange(t *testing.T) {
	const bracket = `{"e":"contractInfo","E":1669356423908,"s":"IOTAUSDT","ps":"IOTAUSDT","ct":"PERPETUAL","dt":4133404800000,"ot":1569398400000,"cs":"TRADING","bks":[{"bs":1,"bnf":0,"bnc":5000,"mmr":0.01,"cf":0,"mi":21,"ma":50}]}`
	settling := strings.Replace(strings.Replace(bracket, `"cs":"TRADING"`, `"cs":"SETTLING"`, 1), `,"bks":[{"bs":1,"bnf":0,"bnc":5000,"mmr":0.01,"cf":0,"mi":21,"ma":50}]`, "", 1)
	other := strings.Replace(bracket, "IOTAUSDT", "ADAUSDT", 2)
	p, got := feedFrames(t, NewBinance, nil, []string{bracket, bracket, other, settling, bracket, bracket}, schema.EventControl)
	var said []string
	for _, ev := range got {
		require.Equal(t, schema.ControlStatus, ev.Control.Kind)
		said = append(said, ev.Symbol+" "+ev.Control.Reason)
	}
	assert.Equal(t, []string{"IOTA-USDT TRADING", "ADA-USDT TRADING", "IOTA-USDT SETTLING", "IOTA-USDT TRADING"}, said)
	st := p.Stats()
	assert.Equal(t, uint64(2), st.Repeats, "two bracket updates of an unchanged status")
	assert.Zero(t, st.Errors)
	assert.Zero(t, st.Unknown)
}
