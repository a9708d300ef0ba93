package playbook

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/osrun/osrun/inventory"
)

// BatchSize is one entry of a wave's serial list: a host count, or a
// percentage of the wave's hosts.
type BatchSize struct {
	Count   int     `json:"count,omitempty"`
	Percent float64 `json:"percent,omitempty"`
}

func (b BatchSize) String() string {
	if b.Percent > 0 {
		return strconv.FormatFloat(b.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(b.Count)
}

// size is the batch size this entry gives for a wave of total hosts. As in
// Ansible a percentage rounds down but never below one host.
func (b BatchSize) size(total int) int {
	if b.Percent > 0 {
		return max(1, int(float64(total)*b.Percent/100))
	}
	return b.Count
}

// Batches splits hosts into the wave's batches, in order. Sizes follow
// Serial and the last size repeats; without Serial every host is in one
// batch. No hosts, no batches.
func (w *Wave) Batches(hosts []*inventory.Host) [][]*inventory.Host {
	return batches(hosts, w.Serial)
}

func batches(hosts []*inventory.Host, serial []BatchSize) [][]*inventory.Host {
	var out [][]*inventory.Host
	total := len(hosts)
	for i := 0; len(hosts) > 0; i++ {
		n := total
		if len(serial) > 0 {
			n = serial[min(i, len(serial)-1)].size(total)
		}
		n = min(max(n, 1), len(hosts))
		out = append(out, hosts[:n:n])
		hosts = hosts[n:]
	}
	return out
}

// decodeSerial reads `serial = 1`, `"50%"` or `[1, "50%"]`.
func decodeSerial(attr *hcl.Attribute, ctx *hcl.EvalContext) ([]BatchSize, hcl.Diagnostics) {
	v, diags := attr.Expr.Value(ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		return nil, nil
	}
	bad := func(detail string) hcl.Diagnostics {
		return hcl.Diagnostics{attrError(attr, "Invalid serial", detail+
			` Write a host count (serial = 1), a percentage of the wave's hosts (serial = "50%"), or a list of them (serial = [1, "50%"]).`)}
	}
	if !v.IsWhollyKnown() {
		return nil, bad("The value must be known before the run starts.")
	}
	var elems []cty.Value
	switch ty := v.Type(); {
	case ty.IsTupleType() || ty.IsListType():
		if v.LengthInt() == 0 {
			return nil, bad("The list is empty.")
		}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			elems = append(elems, e)
		}
	default:
		elems = []cty.Value{v}
	}
	out := make([]BatchSize, 0, len(elems))
	for _, e := range elems {
		b, err := batchSize(e)
		if err != "" {
			return nil, bad(err)
		}
		out = append(out, b)
	}
	return out, nil
}

func batchSize(v cty.Value) (BatchSize, string) {
	if v.IsNull() {
		return BatchSize{}, "An entry is null."
	}
	if v.Type() == cty.Number {
		bf := v.AsBigFloat()
		if !bf.IsInt() || bf.Cmp(big.NewFloat(1)) < 0 || bf.Cmp(big.NewFloat(1e6)) > 0 {
			return BatchSize{}, fmt.Sprintf("%s is not a positive whole number of hosts.", bf.Text('f', -1))
		}
		n, _ := bf.Int64()
		return BatchSize{Count: int(n)}, ""
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		return BatchSize{}, fmt.Sprintf("A %s is not a batch size.", v.Type().FriendlyName())
	}
	text := strings.TrimSpace(s.AsString())
	if pct, ok := strings.CutSuffix(text, "%"); ok {
		p, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || !(p > 0 && p <= 100) {
			return BatchSize{}, fmt.Sprintf("%q is not a percentage between 0 and 100.", text)
		}
		return BatchSize{Percent: p}, ""
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < 1 || n > 1e6 {
		return BatchSize{}, fmt.Sprintf("%q is neither a positive host count nor a percentage.", text)
	}
	return BatchSize{Count: n}, ""
}
