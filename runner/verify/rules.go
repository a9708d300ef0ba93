package verify

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
)

// Rule 1: a disruptive task only on a host out of rotation.
func (s *sim) checkDisruptive(pos position, a act) {
	if !a.eff.Disruptive || !a.hs.h.IsFrontend() || !a.hs.in || a.hs.leaving {
		return
	}
	s.rep.add(fmt.Sprintf("%p/disruptive", pos.task), finding{
		severity: hcl.DiagError,
		summary:  "Disruptive task on a host in rotation",
		subject:  pos.task.DeclRange,
		detail: fmt.Sprintf("In %s, the task stops %s serving while the load balancer still sends it traffic (%s).",
			pos, a.hs.h.Name, a.hs.describe()),
		advice: "Take the host out of rotation first (lb_member with state = \"disabled\") in an earlier task or wave.",
	}, pos.brief(a.hs.h.Name))
}

// Rule 3: the controller is upgraded only while every loaded front-end
// has deployment disabled.
func (s *sim) checkControllerUpgrade(pos position, a act) {
	if !a.eff.Upgrades || !a.hs.h.HasRole(inventory.RoleController) {
		return
	}
	var enabled []string
	for _, hs := range s.hosts {
		if hs.loaded && hs.h.IsFrontend() && hs.enabled {
			enabled = append(enabled, hs.h.Name)
		}
	}
	if len(enabled) == 0 {
		return
	}
	s.rep.add(fmt.Sprintf("%p/controller", pos.task), finding{
		severity: hcl.DiagError,
		summary:  "Controller upgraded while loaded front-ends accept deployments",
		subject:  pos.task.DeclRange,
		detail: fmt.Sprintf("In %s, the controller %s is upgraded while the loaded front-ends %s still have deployment enabled: Service Center would deploy to them applications their old platform cannot run, while they serve all the traffic.",
			pos, a.hs.h.Name, nameList(enabled)),
		advice: "Disable deployment on the loaded front-ends (sc_frontend with deployment = \"disabled\") in an earlier wave.",
	}, "")
}

// The controller is upgraded before any other host: the guide upgrades it
// first, and the front-ends' configuration talks to the new version of the
// Deployment Controller. Hosts of its own batch do not count as after it.
func (s *sim) checkControllerFirst(pos position, a act) {
	if !a.eff.Upgrades || a.hs.h.HasRole(inventory.RoleController) || !s.controllerPlanned || s.controllerUpgraded {
		return
	}
	s.rep.add(fmt.Sprintf("%p/first", pos.task), finding{
		severity: hcl.DiagError,
		summary:  "Front-end upgraded before the controller",
		subject:  pos.task.DeclRange,
		detail:   fmt.Sprintf("In %s, %s is upgraded while the Deployment Controller server is not upgraded yet.", pos, a.hs.h.Name),
		advice:   "Upgrade the controller first, in a batch of its own (hosts = [group.controller, group.updating] with serial = [1, ...]).",
	}, pos.brief(a.hs.h.Name))
}

// Rule 3, the other half: a loaded front-end gets deployment back only
// once it runs the platform the controller was upgraded to.
func (s *sim) checkReenable(pos position, a act) {
	hs := a.hs
	if a.eff.Deployment != modules.DeploymentEnabled || !hs.loaded || !hs.h.IsFrontend() || hs.enabled || hs.upgraded || a.eff.Upgrades || !s.controllerUpgraded {
		return
	}
	s.rep.add(fmt.Sprintf("%p/reenable", pos.task), finding{
		severity: hcl.DiagError,
		summary:  "Deployment enabled before the front-end is upgraded",
		subject:  pos.task.DeclRange,
		detail: fmt.Sprintf("In %s, deployment is enabled on the loaded front-end %s (%s) after the controller was upgraded: Service Center would deploy to it applications its old platform cannot run.",
			pos, hs.h.Name, hs.describe()),
		advice: "Enable deployment only after the task that upgrades the host.",
	}, pos.brief(hs.h.Name))
}

// Rule 2: every zone keeps a front-end in rotation and not disrupted.
func (s *sim) checkZones(pos position) {
	for _, z := range s.inv.Zones {
		var fe []*hostSim
		serving := false
		for _, h := range z.Hosts {
			if hs := s.byName[h.Name]; h.IsFrontend() {
				fe = append(fe, hs)
				serving = serving || hs.serving()
			}
		}
		if len(fe) == 0 {
			continue
		}
		if serving {
			s.zoneDown[z.Name] = false
			continue
		}
		if s.zoneDown[z.Name] {
			continue // the same outage, already reported
		}
		s.zoneDown[z.Name] = true
		states := make([]string, len(fe))
		for i, hs := range fe {
			states[i] = hs.h.Name + " " + hs.describe()
		}
		s.rep.add(fmt.Sprintf("%p/zone/%s", pos.task, z.Name), finding{
			severity: hcl.DiagError,
			summary:  "Zone left without a serving front-end",
			subject:  pos.task.DeclRange,
			detail: fmt.Sprintf("During %s, zone %q has no front-end in rotation and serving: %s.",
				pos, z.Name, strings.Join(states, "; ")),
			advice: "Keep part of the zone's front-ends in rotation: drain and upgrade the updating and the loaded sets in separate waves, or use serial to take fewer hosts at a time.",
		}, pos.again())
	}
}

// end checks rule 4: every front-end back in rotation and
// deployment-enabled, pointing at the task whose change stayed.
func (s *sim) end() {
	for _, hs := range s.hosts {
		if !hs.h.IsFrontend() {
			continue
		}
		if !hs.in {
			s.rep.add(fmt.Sprintf("%p/end/rotation", hs.outBy), finding{
				severity: hcl.DiagError,
				summary:  "Front-end left out of rotation",
				subject:  hs.outBy.DeclRange,
				detail: fmt.Sprintf("At the end of the playbook, %s is still out of rotation: %s took it out and no later task puts it back.",
					hs.h.Name, hs.outAt),
				advice: "Add a task lb_member with state = \"enabled\" for these hosts in a later wave.",
			}, "on "+hs.h.Name)
		}
		if !hs.enabled {
			s.rep.add(fmt.Sprintf("%p/end/deployment", hs.disabledBy), finding{
				severity: hcl.DiagError,
				summary:  "Front-end left with deployment disabled",
				subject:  hs.disabledBy.DeclRange,
				detail: fmt.Sprintf("At the end of the playbook, %s still has deployment disabled in Service Center: %s disabled it and no later task enables it again.",
					hs.h.Name, hs.disabledAt),
				advice: "Add a task sc_frontend with deployment = \"enabled\" for these hosts once they are upgraded.",
			}, "on "+hs.h.Name)
		}
	}
	s.trace.End = s.snapshot()
}
