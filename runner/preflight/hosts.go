package preflight

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/modules/installer"
	"github.com/osrun/osrun/transports"
)

// probe is a command that both sh and PowerShell run (echo is
// Write-Output's alias there); seeing its word back proves the command
// really ran, not only that the transport said so. Its first line names it
// as every script osrun sends does (modules/hostscript/CONTRACT.md), so a
// reviewer, a log or a simulated host can tell what it is.
const probe = hostscript.IDPrefix + "preflight/probe\necho osrun-preflight"

// checkHost dials h, runs the probe and reads the installed version. The
// version only blocks the run on a host the playbook upgrades; elsewhere
// (a playbook without installer tasks) not finding it is a note.
func (c *checker) checkHost(ctx context.Context, h *inventory.Host, w installer.Where, upgrading bool) {
	hr := c.hostReport[h]
	d, ok := c.opts.Dialers[h.Transport]
	if !ok || d == nil {
		c.problem(CheckReach, h, "", "unreachable", fmt.Errorf("no dialer for transport %q", h.Transport))
		c.progress(h.Name + ": unreachable")
		return
	}
	conn, err := d.Dial(ctx, h)
	if err != nil {
		c.problem(CheckReach, h, "", "unreachable", fmt.Errorf("dial over %s: %w", h.Transport, err))
		c.progress(h.Name + ": unreachable")
		return
	}
	defer conn.Close()
	var out bytes.Buffer
	err = conn.Run(ctx, &transports.Cmd{Command: probe, Stdout: &out})
	if err == nil && !strings.Contains(out.String(), "osrun-preflight") {
		err = fmt.Errorf("%q printed %q", probe, truncate(out.String(), 80))
	}
	if err != nil {
		c.problem(CheckReach, h, "", "connected but cannot run a command", err)
		c.progress(h.Name + ": cannot run a command")
		return
	}
	hr.Reachable = true

	versionFinding := c.problem
	if !upgrading {
		versionFinding = c.note
	}
	inst, err := c.opts.ReadVersion(ctx, conn, w)
	switch {
	case err != nil:
		versionFinding(CheckVersion, h, "", "cannot read the installed version", err)
	case inst.Version == "" && inst.Raw == "":
		versionFinding(CheckVersion, h, "", "no Platform Server installed", fmt.Errorf("no version in the registry or in version.txt under install_dir%s; the installer module only upgrades", dirHint(w)))
	case inst.Version == "":
		versionFinding(CheckVersion, h, "", "cannot read the installed version", fmt.Errorf("the host reports %q", inst.Raw))
	default:
		hr.Version, hr.Pending = inst.Version, inst.Pending
		if inst.Pending != "" {
			c.note(CheckVersion, h, "", "configuration pending", fmt.Errorf("an earlier run installed %s and did not finish its Configuration Tool; the installer task will", inst.Pending))
		}
	}
	c.progress(fmt.Sprintf("%s: reachable, Platform Server %s", h.Name, dash(hr.Version)))
}

func dirHint(w installer.Where) string {
	if w.InstallDir == "" {
		return " (the default; set install_dir on the installer task if it is elsewhere)"
	}
	return " " + w.InstallDir
}

func truncate(s string, n int) string {
	return secret.Clip(strings.TrimSpace(s), n)
}
