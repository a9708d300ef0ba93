package playbook

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/osrun/osrun/modules"
)

func TestDecodeValid(t *testing.T) {
	t.Setenv("OSRUN_LB_PASSWORD", "hunter2")
	path := filepath.Join("testdata", "valid", "upgrade.hcl")
	f, diags := Parse(hclparse.NewParser(), path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if want := filepath.Join("testdata", "inventory.hcl"); f.InventoryPath != want {
		t.Errorf("InventoryPath = %q, want %q", f.InventoryPath, want)
	}
	pb, diags := f.Decode(testInventory(t), testRegistry(t), nil, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := pb.Vars["target_version"].AsString(); got != "11.31.0" {
		t.Errorf("target_version = %q", got)
	}
	var waves []string
	for _, w := range pb.Waves {
		waves = append(waves, w.Name)
	}
	if want := []string{"drain_updating", "upgrade_updating", "swap"}; !slices.Equal(waves, want) {
		t.Fatalf("waves = %v, want %v", waves, want)
	}

	drain := pb.Waves[0]
	if got, want := hostNamesOf(drain.Hosts), []string{"fe01", "fe03"}; !slices.Equal(got, want) {
		t.Errorf("drain hosts = %v, want %v (updating less the controller)", got, want)
	}
	if want := []BatchSize{{Count: 1}, {Percent: 50}}; !slices.Equal(drain.Serial, want) {
		t.Errorf("serial = %v, want %v", drain.Serial, want)
	}
	out := drain.Tasks[0]
	if out.On != modules.OnControl || out.Retries != 3 || out.Delay != time.Second || !out.HasUntil() {
		t.Errorf("lb_member.out = on %s, retries %d, delay %s, until %v", out.On, out.Retries, out.Delay, out.HasUntil())
	}

	up := pb.Waves[1]
	if got := hostNamesOf(up.Hosts); got[0] != "ctl" || len(got) != 3 {
		t.Errorf("upgrade hosts = %v, want the controller first, then the rest of updating", got)
	}
	if len(up.Serial) != 1 || up.Serial[0].Count != 1 || up.MaxFailPercentage != 50 {
		t.Errorf("upgrade serial %v, max_fail %v", up.Serial, up.MaxFailPercentage)
	}
	version, platform, smoke := up.Tasks[0], up.Tasks[1], up.Tasks[2]
	if version.CheckMode == nil || *version.CheckMode {
		t.Errorf("command.version check_mode = %v, want false", version.CheckMode)
	}
	if platform.Timeout != 45*time.Minute || platform.On != modules.OnHost || platform.WhenSource == "" {
		t.Errorf("installer.platform = timeout %s on %s when %q", platform.Timeout, platform.On, platform.WhenSource)
	}
	if !smoke.IgnoreErrors {
		t.Error("command.smoke ignore_errors = false")
	}
}

func TestVariables(t *testing.T) {
	path := filepath.Join("testdata", "valid", "upgrade.hcl")
	varFile := filepath.Join("testdata", "vars", "lab.hcl")
	tests := []struct {
		name        string
		vars        map[string]string
		varFiles    []string
		wantVersion string
		wantBatch   int
		wantError   string
	}{
		{name: "defaults", wantVersion: "11.31.0", wantBatch: 1},
		{name: "var file", varFiles: []string{varFile}, wantVersion: "11.32.0", wantBatch: 2},
		{name: "json var file", varFiles: []string{filepath.Join("testdata", "vars", "lab.json")}, wantVersion: "11.34.0", wantBatch: 4},
		{name: "later var file wins", varFiles: []string{filepath.Join("testdata", "vars", "lab.json"), varFile}, wantVersion: "11.32.0", wantBatch: 2},
		{name: "var beats var file", vars: map[string]string{"target_version": "11.33.0", "batch": "3"}, varFiles: []string{varFile}, wantVersion: "11.33.0", wantBatch: 3},
		{name: "undeclared in var file", varFiles: []string{filepath.Join("testdata", "vars", "typo.hcl")}, wantError: "Undeclared variable"},
		{name: "undeclared", vars: map[string]string{"target_versoin": "1"}, wantError: "Undeclared variable"},
		{name: "wrong type", vars: map[string]string{"batch": "many"}, wantError: "Invalid value for variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb, diags := decodeFile(t, path, tt.vars, tt.varFiles)
			if tt.wantError != "" {
				if pb != nil || !diags.HasErrors() || firstSummary(diags) != tt.wantError {
					t.Fatalf("diags = %v, want %q", diags, tt.wantError)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if got := pb.Vars["target_version"].AsString(); got != tt.wantVersion {
				t.Errorf("target_version = %q, want %q", got, tt.wantVersion)
			}
			if got, _ := pb.Vars["batch"].AsBigFloat().Int64(); int(got) != tt.wantBatch {
				t.Errorf("batch = %d, want %d", got, tt.wantBatch)
			}
			if got := pb.Waves[1].Serial[0].Count; got != tt.wantBatch {
				t.Errorf("serial = %d, want %d", got, tt.wantBatch)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"empty wave", "wave \"w\" {\n  hosts = []\n}\n", "Wave selects no hosts"},
		{"everything excluded", "wave \"w\" {\n  hosts   = group.web\n  exclude = [host.fe01, host.fe02]\n}\n", "Wave selects no hosts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb, diags := decodeSource(t, tt.src, nil)
			if pb == nil || diags.HasErrors() {
				t.Fatalf("a warning must not stop the load: %s", diags.Error())
			}
			if len(diags) != 1 || diags[0].Summary != tt.want || diags[0].Subject.Start.Line != 2 {
				t.Errorf("diags = %v, want one warning %q on line 2", diags, tt.want)
			}
		})
	}
}

// TestMetaArgumentsMatchRegistry keeps the loader's meta-arguments and the
// names the module registry refuses as parameters the same set.
func TestMetaArgumentsMatchRegistry(t *testing.T) {
	got := metaNames()
	var want []string
	for name := range modules.MetaArguments {
		want = append(want, name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("loader meta-arguments %v, registry %v", got, want)
	}
}
