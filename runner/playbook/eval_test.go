package playbook

import (
	"errors"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules"
)

const evalPlaybook = `
variable "version" {
  default = "11.31.0"
}

wave "one" {
  hosts = group.all

  task "command" "version" {
    cmd = "cat /version"
  }

  task "installer" "platform" {
    version = host.vars.target
    ports   = [80, "443"]
    when    = task.command.version.stdout != var.version && !task.command.version.skipped
  }

  task "lb_member" "out" {
    state    = task.installer.platform.changed ? "disabled" : "enabled"
    password = env("OSRUN_TEST_LB_PASSWORD")
    until    = self.output.state == "disabled"
  }
}
`

func TestEval(t *testing.T) {
	t.Setenv("OSRUN_TEST_LB_PASSWORD", "hunter2")
	pb, diags := decodeSource(t, evalPlaybook, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	inv := testInventory(t)
	fe01 := inv.Host("fe01")
	version, platform, out := pb.Waves[0].Tasks[0], pb.Waves[0].Tasks[1], pb.Waves[0].Tasks[2]

	t.Run("defaults and conversion", func(t *testing.T) {
		args, err := version.Args(pb.EvalContext(inv, fe01, nil))
		if err != nil {
			t.Fatal(err)
		}
		if args.String("cmd") != "cat /version" || args.Bool("become") || args.Has("creates") {
			t.Errorf("args = %#v", args)
		}
	})

	t.Run("when reads earlier results", func(t *testing.T) {
		tests := []struct {
			name    string
			results map[string]cty.Value
			want    bool
		}{
			// stdout is absent from a task that has not run, but && stops at
			// !skipped, which is false.
			{"not run yet", nil, false},
			{"same version", map[string]cty.Value{"command.version": ResultValue(ResultOK, modules.Result{Output: map[string]cty.Value{"stdout": cty.StringVal("11.31.0")}}, nil)}, false},
			{"older version", map[string]cty.Value{"command.version": ResultValue(ResultOK, modules.Result{Output: map[string]cty.Value{"stdout": cty.StringVal("11.30.0")}}, nil)}, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := platform.When(pb.EvalContext(inv, fe01, tt.results))
				if err != nil || got != tt.want {
					t.Errorf("When = %v, %v; want %v", got, err, tt.want)
				}
			})
		}
	})

	t.Run("runtime conversion error names the argument", func(t *testing.T) {
		// fe01 has no vars.target: evaluating version fails on this host.
		_, err := platform.Args(pb.EvalContext(inv, fe01, nil))
		if err == nil || !strings.HasPrefix(err.Error(), "argument version: ") {
			t.Fatalf("err = %v, want it to name argument version", err)
		}
	})

	t.Run("secret from env stays marked", func(t *testing.T) {
		results := map[string]cty.Value{"installer.platform": ResultValue(ResultChanged, modules.Result{Changed: true}, nil)}
		args, err := out.Args(pb.EvalContext(inv, fe01, results))
		if err != nil {
			t.Fatal(err)
		}
		if args.String("state") != "disabled" || args.String("drain") != "0s" {
			t.Errorf("state %q drain %q", args.String("state"), args.String("drain"))
		}
		if s := args.Secret("password"); s.Reveal() != "hunter2" || !secret.IsMarked(args["password"]) {
			t.Errorf("password = %v, marked %v", s, secret.IsMarked(args["password"]))
		}
	})

	t.Run("until reads self", func(t *testing.T) {
		ctx := pb.EvalContext(inv, fe01, nil)
		for _, state := range []string{"enabled", "disabled"} {
			self := ResultValue(ResultOK, modules.Result{Output: map[string]cty.Value{"state": cty.StringVal(state)}}, nil)
			done, err := out.Until(ctx, self)
			if err != nil || done != (state == "disabled") {
				t.Errorf("Until(state %s) = %v, %v", state, done, err)
			}
		}
	})
}

func TestResultValue(t *testing.T) {
	v := ResultValue(ResultFailed, modules.Result{Changed: true, Msg: "boom", Output: map[string]cty.Value{
		"stdout": cty.StringVal("x"),
		"status": cty.StringVal("hidden by the runner's status"),
		"broken": cty.NilVal, // dropped, not a panic
	}}, errors.New("exit 1"))
	attr := func(name string) cty.Value { return v.GetAttr(name) }
	if attr("failed").False() || attr("changed").True() || attr("skipped").True() {
		t.Errorf("flags: %#v", v)
	}
	if attr("status").AsString() != "failed" || attr("msg").AsString() != "boom" || attr("error").AsString() != "exit 1" {
		t.Errorf("strings: %#v", v)
	}
	if attr("stdout").AsString() != "x" || attr("output").GetAttr("status").AsString() != "hidden by the runner's status" {
		t.Errorf("output: %#v", v)
	}
}

func TestBatches(t *testing.T) {
	inv := testInventory(t)
	hosts := inv.Hosts // 5 hosts
	tests := []struct {
		name   string
		serial []BatchSize
		want   []int
	}{
		{"no serial", nil, []int{5}},
		{"one", []BatchSize{{Count: 1}}, []int{1, 1, 1, 1, 1}},
		{"two", []BatchSize{{Count: 2}}, []int{2, 2, 1}},
		{"more than hosts", []BatchSize{{Count: 10}}, []int{5}},
		{"half rounds down", []BatchSize{{Percent: 50}}, []int{2, 2, 1}},
		{"tiny percentage is one host", []BatchSize{{Percent: 1}}, []int{1, 1, 1, 1, 1}},
		{"all", []BatchSize{{Percent: 100}}, []int{5}},
		{"canary then half", []BatchSize{{Count: 1}, {Percent: 50}}, []int{1, 2, 2}},
		{"list, last repeats", []BatchSize{{Count: 1}, {Count: 3}}, []int{1, 3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &Wave{Serial: tt.serial}
			var got []int
			seen := 0
			for _, b := range w.Batches(hosts) {
				got = append(got, len(b))
				for _, h := range b {
					if h != hosts[seen] {
						t.Fatalf("batches reorder hosts")
					}
					seen++
				}
			}
			if !equalInts(got, tt.want) {
				t.Errorf("sizes = %v, want %v", got, tt.want)
			}
		})
	}
	if got := (&Wave{Serial: []BatchSize{{Count: 1}}}).Batches(nil); len(got) != 0 {
		t.Errorf("no hosts gave %d batches", len(got))
	}
}

func TestDecodeSerial(t *testing.T) {
	tests := []struct {
		src  string
		want []BatchSize
	}{
		{`1`, []BatchSize{{Count: 1}}},
		{`"3"`, []BatchSize{{Count: 3}}},
		{`"25%"`, []BatchSize{{Percent: 25}}},
		{`"12.5%"`, []BatchSize{{Percent: 12.5}}},
		{`[1, "50%", 4]`, []BatchSize{{Count: 1}, {Percent: 50}, {Count: 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			pb, diags := decodeSource(t, "wave \"w\" {\n hosts = group.all\n serial = "+tt.src+"\n}\n", nil)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if got := pb.Waves[0].Serial; !equalBatchSizes(got, tt.want) {
				t.Errorf("serial = %v, want %v", got, tt.want)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalBatchSizes(a, b []BatchSize) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
