package venuesim

import (
	"maps"

	"github.com/goccy/go-json"
	"github.com/goccy/go-json/jsontext"
)

// cancelReplaceParams are order.cancelReplace's cancel parameters and
// the order.cancel parameters they are (WebSocket API "Cancel and
// replace order").
var cancelReplaceParams = [...][2]string{
	{"cancelOrderId", "orderId"},
	{"cancelOrigClientOrderId", "origClientOrderId"},
	{"cancelNewClientOrderId", "newClientOrderId"},
}

// cancelReplace serves Binance spot's order.cancelReplace (WebSocket API
// "Cancel and replace order"): the cancel as order.cancel does it (by
// cancelOrderId / cancelOrigClientOrderId, the canceled order's new client
// id cancelNewClientOrderId, cancelRestrictions), then the new order as
// order.place does it (the other parameters), unless cancelReplaceMode is
// STOP_ON_FAILURE and the cancel failed. The answer: both succeeded, 200
// and result {cancelResult, newOrderResult, cancelResponse,
// newOrderResponse} (each response in its request's own shape); one
// failed, 409, -2021 "Order cancel-replace partially failed."; both
// failed, or the cancel under STOP_ON_FAILURE, 400, -2022 "Order
// cancel-replace failed."; the failures' error.data the same four
// members, a failed step's response its {code, msg}, newOrderResult
// NOT_ATTEMPTED and newOrderResponse null when the order was not tried.
// "This cancel-replace operation is not transactional": a cancel that
// succeeded stays when the new order fails. A request bad as a whole is
// refused plainly, neither step tried: an unknown symbol -1121, neither
// cancelOrderId nor cancelOrigClientOrderId -1102 (the docs show no such
// answer; -1102 is order.cancel's for its two ids, named here by the
// cancel's), a cancel id outside its range -1100 naming it as sent. cancelReplaceMode missing is
// -1102, another value -1100 (the docs name no code; -1100 is Binance's
// answer to an illegal enum value). orderRateLimitExceededMode is not
// served (DO_NOTHING: an order refused for the ORDERS limit is refused
// whole, -1015, as order.place is). Weight 1; a new order not attempted
// counts in the unfilled order count all the same ("A new order that was
// not attempted ... will still increase the unfilled order count by 1");
// the steps' reports go out as order.cancel's and order.place's do.
func (c *conn) cancelReplace(req apiRequest) {
	v := c.v
	p := req.Params
	mode := param(p, "cancelReplaceMode")
	switch mode {
	case "STOP_ON_FAILURE", "ALLOW_FAILURE":
	case "":
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, -1102, mandatory("cancelReplaceMode")))
		return
	default:
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, -1100, "Illegal characters found in parameter 'cancelReplaceMode'; legal range is 'STOP_ON_FAILURE, ALLOW_FAILURE'."))
		return
	}
	if code, msg := c.checkSignature(p); code != 0 {
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, code, msg))
		return
	}
	// A request bad as a whole is refused as such, not as two failed
	// steps: an unknown symbol, no order to cancel named.
	if _, ok := v.mkt.byName[param(p, "symbol")]; !ok {
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, -1121, "Invalid symbol."))
		return
	}
	if param(p, "cancelOrderId") == "" && param(p, "cancelOrigClientOrderId") == "" {
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, -1102, "Param 'cancelOrigClientOrderId' or 'cancelOrderId' must be sent, but both were empty/null!"))
		return
	}
	// A malformed cancel id is the request's fault, named as sent, not
	// the cancel step's under order.cancel's name.
	for _, k := range cancelReplaceParams {
		if r := idRangeOf(k[1]); r == nil {
			continue
		} else if code, msg := r.check(p, k[0]); code != 0 {
			v.rejected.Add(1)
			c.answer(req, apiError(req.ID, 400, code, msg))
			return
		}
	}
	if v.opts.EnforceRateLimits {
		now := v.now().UnixMilli()
		if ok, retry := v.rates.orderRoom(now); !ok {
			v.rejected.Add(1)
			c.answer(req, tooManyOrders(req.ID, now, retry))
			return
		}
		// The new order's room is counted once, by order.place below.
	}
	cancelP := maps.Clone(p)
	for _, k := range cancelReplaceParams {
		delete(cancelP, k[1])
		if val, ok := p[k[0]]; ok {
			cancelP[k[1]] = val
		}
	}
	var answer []byte
	c.cancelOrder(apiRequest{ID: req.ID, Method: "order.cancel", Params: cancelP, sink: &answer, signed: true})
	cancelOK, cancelRes := stepOf(answer)
	placeOK, placeRes := false, jsontext.Value("null")
	tried := cancelOK || mode == "ALLOW_FAILURE"
	if tried {
		placeP := maps.Clone(p)
		for _, k := range cancelReplaceParams {
			delete(placeP, k[0])
		}
		answer = nil
		c.placeOrder(apiRequest{ID: req.ID, Method: "order.place", Params: placeP, sink: &answer, signed: true})
		placeOK, placeRes = stepOf(answer)
	}
	outcome := func(ok bool) string {
		if ok {
			return "SUCCESS"
		}
		return "FAILURE"
	}
	data := struct {
		CancelResult   string         `json:"cancelResult"`
		NewOrderResult string         `json:"newOrderResult"`
		CancelResponse jsontext.Value `json:"cancelResponse"`
		NewOrder       jsontext.Value `json:"newOrderResponse"`
	}{outcome(cancelOK), outcome(placeOK), cancelRes, placeRes}
	if !tried {
		// "A new order that was not attempted ... will still increase
		// the unfilled order count by 1."
		data.NewOrderResult = "NOT_ATTEMPTED"
		v.rates.placed(v.now().UnixMilli())
	}
	if cancelOK && placeOK {
		c.answer(req, apiResult(req.ID, marshal(&data)))
		return
	}
	status, code, msg := 409, -2021, "Order cancel-replace partially failed."
	if !cancelOK && !placeOK {
		status, code, msg = 400, -2022, "Order cancel-replace failed."
	}
	c.answer(req, marshal(&struct { // the failed step counted in rejected
		ID     jsontext.Value `json:"id"`
		Status int            `json:"status"`
		Error  any            `json:"error"`
	}{nullIfEmpty(req.ID), status, struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
		Data any    `json:"data"`
	}{code, msg, &data}}))
}

// stepOf reads a step's answer (a WS-API frame of order.cancel or
// order.place): whether it succeeded, and its result, or its error's
// {code, msg} when it failed.
func stepOf(answer []byte) (ok bool, res jsontext.Value) {
	var frame struct {
		Status int            `json:"status"`
		Result jsontext.Value `json:"result"`
		Error  struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		} `json:"error"`
	}
	if err := json.Unmarshal(answer, &frame); err != nil || frame.Status != 200 && frame.Error.Code == 0 {
		return false, jsontext.Value(`{"code":-1000,"msg":"An unknown error occurred while processing the request."}`)
	}
	if frame.Status == 200 {
		return true, frame.Result
	}
	return false, marshal(&frame.Error)
}
