package runner

import (
	"encoding/json"
	"fmt"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/osrun/osrun/inventory/secret"
)

// Resume is an earlier run's record, consulted step by step by a run that
// continues it (journal.State implements it).
type Resume interface {
	// Prior reports what the earlier run recorded about a task on a host in
	// a wave; false when it never reached the step.
	Prior(wave, task, host string) (PriorStep, bool)
}

// PriorStep is what an earlier run recorded about one step.
type PriorStep struct {
	// Status is "" for a step to re-check before anything is applied: it
	// started and never reported an end (it may have run partly or
	// wholly), or something since may have undone it (Msg says what).
	Status Status
	Msg    string
	// Output is the step's Event.Output.
	Output json.RawMessage
	// RunID is the run that did the step.
	RunID string
}

// Done reports a step that finished in a way a resume can trust.
func (p PriorStep) Done() bool {
	return p.Status == StatusOK || p.Status == StatusChanged || p.Status == StatusSkipped
}

// InDoubt reports a step to re-check.
func (p PriorStep) InDoubt() bool { return p.Status == "" }

// encodeOutput turns a Result.Output into Event.Output. Secret-marked
// values are left out rather than redacted: a placeholder restored on
// resume would be read by later tasks as if it were the value, whereas a
// missing key fails with a clear "no attribute" error.
func encodeOutput(out map[string]cty.Value) (json.RawMessage, error) {
	plain := make(map[string]cty.Value, len(out))
	for k, v := range out {
		if v == cty.NilVal || secret.IsMarked(v) {
			continue
		}
		v, _ = v.UnmarkDeep()
		if !v.IsWhollyKnown() {
			continue
		}
		plain[k] = v
	}
	if len(plain) == 0 {
		return nil, nil
	}
	// The dynamic type makes ctyjson write the type next to the value, so
	// lists stay lists and maps stay maps when the output is restored.
	b, err := ctyjson.Marshal(cty.ObjectVal(plain), cty.DynamicPseudoType)
	if err != nil {
		return nil, fmt.Errorf("encode the output: %w", err)
	}
	return b, nil
}

// decodeOutput is the inverse of encodeOutput.
func decodeOutput(raw json.RawMessage) (map[string]cty.Value, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	v, err := ctyjson.Unmarshal(raw, cty.DynamicPseudoType)
	if err != nil {
		return nil, fmt.Errorf("decode the recorded output: %w", err)
	}
	if v.IsNull() || !v.Type().IsObjectType() {
		return nil, fmt.Errorf("decode the recorded output: not an object")
	}
	return v.AsValueMap(), nil
}
