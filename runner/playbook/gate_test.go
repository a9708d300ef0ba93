package playbook

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osrun/osrun/modules"
)

func TestWaveGate(t *testing.T) {
	tests := []struct {
		name             string
		src              string
		vars             map[string]string
		wantID, wantText string
		wantTimeout      time.Duration
	}{
		{
			name: "defaults",
			src: `wave "upgrade_loaded" {
  hosts = group.updating
  gate = {
    instructions = "Check the applications, then approve."
  }
  task "command" "check" {
    cmd = "true"
  }
}`,
			wantID: "upgrade_loaded", wantText: "Check the applications, then approve.", wantTimeout: time.Hour,
		},
		{
			name: "every attribute",
			src: `wave "upgrade_loaded" {
  hosts = group.updating
  gate = {
    instructions = "Look first."
    id           = "loaded.fe"
    timeout      = "2h"
  }
  task "command" "check" {
    cmd = "true"
  }
}`,
			wantID: "loaded.fe", wantText: "Look first.", wantTimeout: 2 * time.Hour,
		},
		{
			name: "quoted keys and variables",
			src: `variable "wait" {
  default = "90s"
}
wave "w" {
  hosts = group.updating
  gate = {
    "instructions" = "Upgrade to ${var.wait}?"
    "timeout"      = var.wait
  }
  task "command" "check" {
    cmd = "true"
  }
}`,
			vars:   map[string]string{"wait": "5m"},
			wantID: "w", wantText: "Upgrade to 5m?", wantTimeout: 5 * time.Minute,
		},
		{
			name: "a whole object from a variable",
			src: `variable "gate" {
  default = { instructions = "From a variable.", timeout = "10m" }
}
wave "w" {
  hosts = group.updating
  gate  = var.gate
  task "command" "check" {
    cmd = "true"
  }
}`,
			wantID: "w", wantText: "From a variable.", wantTimeout: 10 * time.Minute,
		},
		{
			name: "a gate and nothing else",
			src: `wave "w" {
  hosts = group.updating
  gate  = { instructions = "Stop here." }
}`,
			wantID: "w", wantText: "Stop here.", wantTimeout: time.Hour,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb, diags := decodeSource(t, tt.src, tt.vars)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			w := pb.Waves[0]
			g := w.Tasks[0]
			if g.Key() != "gate."+w.Name || g.On != modules.OnControl || g.Timeout != tt.wantTimeout || g.Retries != 0 || g.CheckMode != nil {
				t.Errorf("first step = %s on %s, timeout %s, retries %d, check_mode %v; want gate.%s on control, timeout %s",
					g.Key(), g.On, g.Timeout, g.Retries, g.CheckMode, w.Name, tt.wantTimeout)
			}
			args, err := g.Args(pb.EvalContext(testInventory(t), w.Hosts[0], nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := args.String("id"); got != tt.wantID {
				t.Errorf("id = %q, want %q", got, tt.wantID)
			}
			if got := args.String("instructions"); got != tt.wantText {
				t.Errorf("instructions = %q, want %q", got, tt.wantText)
			}
			if _, err := g.Def.New(args); err != nil {
				t.Errorf("the gate module refuses the wave gate's arguments: %v", err)
			}
			if len(w.Tasks) > 1 && w.Tasks[1].Key() != "command.check" {
				t.Errorf("tasks = %v, want the gate, then the wave's own", keysOf(w.Tasks))
			}
			if !slices.Contains(pb.tasks, g) {
				t.Error("the gate's task is not among the playbook's tasks")
			}
		})
	}
}

func keysOf(tasks []*Task) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = t.Key()
	}
	return out
}

// TestWaveGateInvalid checks each invalid form: the one error, its exact
// detail, and the line it points at.
func TestWaveGateInvalid(t *testing.T) {
	const task = `
  task "command" "check" {
    cmd = "true"
  }
}`
	tests := []struct {
		name        string
		src         string
		wantLine    int
		wantSummary string
		wantDetail  string
	}{
		{
			name:        "not an object",
			src:         "wave \"w\" {\n  hosts = group.updating\n  gate  = \"approve me\"" + task,
			wantLine:    3,
			wantSummary: "Invalid gate",
			wantDetail:  `A wave's gate is an object: gate = { instructions = "...", id = "...", timeout = "1h" }, only instructions being required.`,
		},
		{
			name:        "a list",
			src:         "wave \"w\" {\n  hosts = group.updating\n  gate  = [\"x\"]" + task,
			wantLine:    3,
			wantSummary: "Invalid gate",
			wantDetail:  `A wave's gate is an object: gate = { instructions = "...", id = "...", timeout = "1h" }, only instructions being required.`,
		},
		{
			name:        "unknown attribute",
			src:         "wave \"w\" {\n  hosts = group.updating\n  gate = {\n    instructions = \"x\"\n    timout       = \"1h\"\n  }" + task,
			wantLine:    5,
			wantSummary: "Unsupported gate attribute",
			wantDetail:  `A wave's gate has no attribute "timout". Did you mean "timeout"? Its attributes: id, instructions, timeout.`,
		},
		{
			name:        "a wave reading a later wave's gate",
			src:         "wave \"a\" {\n  hosts = group.updating\n  task \"command\" \"early\" {\n    cmd = task.gate.w.status\n  }\n}\nwave \"w\" {\n  hosts = group.updating\n  gate  = { instructions = \"x\" }" + task,
			wantLine:    4,
			wantSummary: "Reference to a later task",
			wantDetail:  `Task "gate.w" runs after this one, so its result is not known yet.`,
		},
		{
			name:        "missing instructions",
			src:         "wave \"w\" {\n  hosts = group.updating\n  gate = {\n    id = \"x\"\n  }" + task,
			wantLine:    3,
			wantSummary: "Missing gate instructions",
			wantDetail:  "A wave's gate requires instructions: what the person must check before approving.",
		},
		{
			name:        "empty instructions",
			src:         "wave \"w\" {\n  hosts = group.updating\n  gate = {\n    instructions = \"\"\n  }" + task,
			wantLine:    4,
			wantSummary: "Invalid gate instructions",
			wantDetail:  "The instructions are what the person must check before approving: they must not be empty.",
		},
		{
			name:        "instructions not a string",
			src:         "wave \"w\" {\n  hosts = group.updating\n  gate = {\n    instructions = [\"a\"]\n  }" + task,
			wantLine:    4,
			wantSummary: "Incorrect attribute value type",
			wantDetail:  "The gate's instructions must be a string, not tuple.",
		},
		{
			name:        "empty id",
			src:         "wave \"w\" {\n  hosts = group.updating\n  gate = {\n    instructions = \"x\"\n    id = \"\"\n  }" + task,
			wantLine:    5,
			wantSummary: "Invalid gate id",
			wantDetail:  `"" cannot name a gate: it must start with a letter and contain only letters, digits, underscores, dashes and dots (at most 128 characters), as osrun approve and --approve give it.`,
		},
		{
			name:        "id with a space",
			src:         "wave \"w\" {\n  hosts = group.updating\n  gate = {\n    instructions = \"x\"\n    id = \"upgrade loaded\"\n  }" + task,
			wantLine:    5,
			wantSummary: "Invalid gate id",
			wantDetail:  `"upgrade loaded" cannot name a gate: it must start with a letter and contain only letters, digits, underscores, dashes and dots (at most 128 characters), as osrun approve and --approve give it.`,
		},
		{
			name:        "bad timeout",
			src:         "wave \"w\" {\n  hosts = group.updating\n  gate = {\n    instructions = \"x\"\n    timeout = \"2 hours\"\n  }" + task,
			wantLine:    5,
			wantSummary: "Invalid gate timeout",
			wantDetail:  `"2 hours" is not a positive duration; write a number with a unit, such as "30m" or "2h". With no answer in that time the run stops before the wave.`,
		},
		{
			name:        "zero timeout",
			src:         "wave \"w\" {\n  hosts = group.updating\n  gate = {\n    instructions = \"x\"\n    timeout = \"0s\"\n  }" + task,
			wantLine:    5,
			wantSummary: "Invalid gate timeout",
			wantDetail:  `"0s" is not a positive duration; write a number with a unit, such as "30m" or "2h". With no answer in that time the run stops before the wave.`,
		},
		{
			name:        "host reference",
			src:         "wave \"w\" {\n  hosts = group.updating\n  gate = {\n    instructions = \"Check ${host.name}\"\n  }" + task,
			wantLine:    4,
			wantSummary: "Invalid reference",
			wantDetail:  `"host" cannot be used in gate; it may refer only to var.*.`,
		},
		{
			name:        "task reference",
			src:         "wave \"a\" {\n  hosts = group.updating\n  task \"command\" \"v\" {\n    cmd = \"true\"\n  }\n}\nwave \"w\" {\n  hosts = group.updating\n  gate = {\n    instructions = task.command.v.msg\n  }" + task,
			wantLine:    10,
			wantSummary: "Invalid reference",
			wantDetail:  `"task" cannot be used in gate; it may refer only to var.*.`,
		},
		{
			name:        "on_failure",
			src:         "wave \"w\" {\n  hosts = group.updating\n}\non_failure \"restore\" {\n  hosts = group.updating\n  gate = {\n    instructions = \"x\"\n  }" + task,
			wantLine:    6,
			wantSummary: "Gate in an on_failure wave",
			wantDetail:  "An on_failure wave puts the farm back in a safe state after a failure: a restore must not wait for a person. Put the gate on a wave instead.",
		},
		{
			name: "same id as a gate task",
			src: `wave "ask" {
  hosts = group.controller
  task "gate" "loaded" {
    id           = "upgrade_loaded"
    instructions = "x"
  }
}
wave "upgrade_loaded" {
  hosts = group.updating
  gate  = { instructions = "y" }
}`,
			wantLine:    10,
			wantSummary: "Duplicate gate id",
			wantDetail:  `Gate id "upgrade_loaded" is already used by task gate.loaded at testdata/test.hcl:4,20-36: approving one would approve both. Give each gate its own id.`,
		},
		{
			name: "same id as another wave gate",
			src: `wave "a" {
  hosts = group.updating
  gate  = { instructions = "x", id = "go" }
}
wave "b" {
  hosts = group.updating
  gate  = { instructions = "y", id = "go" }
}`,
			wantLine:    7,
			wantSummary: "Duplicate gate id",
			wantDetail:  `Gate id "go" is already used by the gate of wave "a" at testdata/test.hcl:3,38-42: approving one would approve both. Give each gate its own id.`,
		},
		{
			name: "gate tasks with one id",
			src: `wave "a" {
  hosts = group.updating
  task "gate" "one" {
    id           = "go"
    instructions = "x"
  }
  task "gate" "two" {
    id           = "go"
    instructions = "y"
  }
}`,
			wantLine:    8,
			wantSummary: "Duplicate gate id",
			wantDetail:  `Gate id "go" is already used by task gate.one at testdata/test.hcl:4,20-24: approving one would approve both. Give each gate its own id.`,
		},
		{
			name: "a gate task with an invalid id",
			src: `wave "a" {
  hosts = group.updating
  task "gate" "one" {
    id           = "go now"
    instructions = "x"
  }
}`,
			wantLine:    4,
			wantSummary: "Invalid gate id",
			wantDetail:  `"go now" cannot name a gate: it must start with a letter and contain only letters, digits, underscores, dashes and dots (at most 128 characters), as osrun approve and --approve give it.`,
		},
		{
			name: "task taking a wave gate's name, declared later",
			src: `wave "upgrade" {
  hosts = group.updating
  gate  = { instructions = "x" }
}
wave "b" {
  hosts = group.updating
  task "gate" "upgrade" {
    id           = "other"
    instructions = "y"
  }
}`,
			wantLine:    7,
			wantSummary: "Reserved task name",
			wantDetail:  `Task "gate.upgrade" is the name of the gate of wave "upgrade" (declared at testdata/test.hcl:3,3-33); give this task another name.`,
		},
		{
			name: "task taking a wave gate's name, declared earlier",
			src: `wave "b" {
  hosts = group.updating
  task "gate" "upgrade" {
    id           = "other"
    instructions = "y"
  }
}
wave "upgrade" {
  hosts = group.updating
  gate  = { instructions = "x" }
}`,
			wantLine:    3,
			wantSummary: "Reserved task name",
			wantDetail:  `Task "gate.upgrade" is the name of the gate of wave "upgrade" (declared at testdata/test.hcl:10,3-33); give this task another name.`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb, diags := decodeSource(t, tt.src, nil)
			errs := errorsOf(diags)
			if pb != nil || len(errs) != 1 {
				t.Fatalf("want exactly one error %q, got %d:\n%s", tt.wantSummary, len(errs), diags.Error())
			}
			d := errs[0]
			if d.Summary != tt.wantSummary || d.Detail != tt.wantDetail {
				t.Errorf("error = %q: %q\nwant    %q: %q", d.Summary, d.Detail, tt.wantSummary, tt.wantDetail)
			}
			if d.Subject == nil || d.Subject.Start.Line != tt.wantLine {
				t.Errorf("subject = %v, want line %d", d.Subject, tt.wantLine)
			}
		})
	}
}

// TestWaveGateKeepsTaskGatesWorking: gate tasks with ids built from the
// host are left to the module, and distinct static ids are fine.
func TestWaveGateKeepsTaskGatesWorking(t *testing.T) {
	src := `wave "a" {
  hosts = group.updating
  gate  = { instructions = "x" }
  task "gate" "per_host" {
    id           = "a.${host.name}"
    instructions = "y"
  }
  task "gate" "other" {
    id           = "b"
    instructions = "z"
  }
}`
	pb, diags := decodeSource(t, src, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got, want := keysOf(pb.Waves[0].Tasks), []string{"gate.a", "gate.per_host", "gate.other"}; !slices.Equal(got, want) {
		t.Errorf("tasks = %v, want %v", got, want)
	}
	if !strings.HasPrefix(pb.Waves[0].Tasks[0].DeclRange.String(), "testdata/test.hcl:3,") {
		t.Errorf("the gate's task is declared at %s, want the gate attribute", pb.Waves[0].Tasks[0].DeclRange)
	}
}

// A wave gate is a task like any: the tasks after it read its result as
// task.gate.<wave>, which is numbered before the wave's own tasks.
func TestWaveGateResultIsReferenceable(t *testing.T) {
	src := `wave "w" {
  hosts = group.updating
  gate  = { instructions = "x" }
  task "command" "after" {
    cmd = "echo ${task.gate.w.status}"
  }
}
wave "later" {
  hosts = group.updating
  task "command" "later" {
    cmd  = "true"
    when = task.gate.w.status == "ok"
  }
}`
	pb, diags := decodeSource(t, src, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got, want := keysOf(pb.tasks), []string{"gate.w", "command.after", "command.later"}; !slices.Equal(got, want) {
		t.Errorf("tasks = %v, want %v", got, want)
	}
}
