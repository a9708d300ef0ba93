package modules

import (
	"context"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

type nopAction struct{}

func (nopAction) Check(context.Context, *Env) (Result, error) { return Result{}, nil }
func (nopAction) Apply(context.Context, *Env) (Result, error) { return Result{}, nil }

func def(name string, params ...Param) *Definition {
	return &Definition{Name: name, Params: params, New: func(Args) (Action, error) { return nopAction{}, nil }}
}

func TestNewRegistry(t *testing.T) {
	tests := []struct {
		name    string
		defs    []*Definition
		wantErr string
	}{
		{"ok", []*Definition{def("a"), def("b", Param{Name: "state", Type: cty.String})}, ""},
		{"duplicate", []*Definition{def("a"), def("a")}, "registered twice"},
		{"unnamed", []*Definition{def("")}, "without a name"},
		{"meta-argument parameter", []*Definition{def("a", Param{Name: "timeout", Type: cty.String})}, `parameter "timeout" is a task meta-argument`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRegistry(tt.defs...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.Join(r.Names(), ","); got != "a,b" {
					t.Errorf("Names() = %s", got)
				}
				if d, _ := r.Lookup("a"); d.DefaultOn != OnHost {
					t.Errorf("DefaultOn not defaulted to host: %q", d.DefaultOn)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
