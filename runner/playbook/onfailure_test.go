package playbook

import (
	"slices"
	"testing"
)

func TestDecodeOnFailure(t *testing.T) {
	pb, diags := decodeSource(t, `
on_failure "restore_rotation" {
  description = "put back what the run took out"
  hosts       = group.updating
  serial      = 1
  task "lb_member" "back_in" {
    when  = task.lb_member.out.changed
    state = "enabled"
  }
}
wave "drain" {
  hosts = group.updating
  task "lb_member" "out" { state = "disabled" }
}
on_failure "reenable" {
  hosts = group.loaded
  task "command" "enable" {
    when = !task.lb_member.back_in.failed
    cmd  = "enable"
  }
}
`, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(pb.Waves) != 1 || pb.Waves[0].Name != "drain" || pb.Waves[0].OnFailure {
		t.Fatalf("waves %+v", pb.Waves)
	}
	var names []string
	for _, w := range pb.OnFailure {
		names = append(names, w.Name)
		if !w.OnFailure || len(w.Tasks) != 1 {
			t.Errorf("on_failure %s: %+v", w.Name, w)
		}
	}
	if want := []string{"restore_rotation", "reenable"}; !slices.Equal(names, want) {
		t.Errorf("on_failure waves %v, want %v", names, want)
	}
	if r := pb.OnFailure[0]; r.Description == "" || len(r.Serial) != 1 || len(r.Hosts) == 0 {
		t.Errorf("restore_rotation decoded as %+v", r)
	}
}
