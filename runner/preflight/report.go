package preflight

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Report is what a preflight found.
type Report struct {
	Hosts []*HostReport `json:"hosts"`
	Zones []*ZoneReport `json:"zones"`
	// Artefacts are the installer files on the control machine.
	Artefacts []*Artefact `json:"artefacts"`
	// MinCapacity is the share of a zone's in-rotation front-ends that
	// its loaded set must carry.
	MinCapacity float64 `json:"min_capacity"`
	// Problems each fail the preflight.
	Problems []Problem `json:"problems"`
	// Notes are what was not checked, or looks unusual without being
	// wrong; they do not fail the preflight.
	Notes []Problem `json:"notes"`
}

// OK reports whether the preflight found no problem.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Check names what a Problem is about, in the order they are reported.
const (
	CheckSplit         = "split"
	CheckReach         = "reach"
	CheckVersion       = "version"
	CheckArtefact      = "artefact"
	CheckLoadBalancer  = "load_balancer"
	CheckServiceCenter = "service_center"
	CheckCapacity      = "capacity"
)

var checkOrder = map[string]int{
	CheckSplit: 0, CheckReach: 1, CheckVersion: 2, CheckArtefact: 3,
	CheckLoadBalancer: 4, CheckServiceCenter: 5, CheckCapacity: 6,
}

// Problem is one thing found wrong (or, as a note, worth knowing).
type Problem struct {
	Check string `json:"check"`
	Host  string `json:"host,omitempty"`
	Zone  string `json:"zone,omitempty"`
	// What is wrong, e.g. "unreachable", "not in pool haproxy backend web".
	What string `json:"what"`
	// Why is the underlying error or the numbers behind the verdict.
	Why string `json:"why,omitempty"`

	rank int // the host's or zone's position in the inventory, for sorting
}

func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.Host != "":
		fmt.Fprintf(&b, "host %s: ", p.Host)
	case p.Zone != "":
		fmt.Fprintf(&b, "zone %s: ", p.Zone)
	}
	b.WriteString(p.What)
	if p.Why != "" {
		b.WriteString(": " + p.Why)
	}
	return b.String()
}

// HostReport is what was found on and about one host.
type HostReport struct {
	Name     string `json:"name"`
	Zone     string `json:"zone"`
	Split    string `json:"split,omitempty"` // updating, loaded or ""
	Frontend bool   `json:"frontend"`
	// Reachable: dialled, authenticated and ran a command.
	Reachable bool `json:"reachable"`
	// Version is the installed Platform Server version, "" when unknown.
	Version string `json:"version,omitempty"`
	// Pending is a version whose Configuration Tool osrun left unfinished.
	Pending string `json:"pending,omitempty"`
	// Member is the front-end in its load balancer's pool; nil when the
	// pool could not be read or the host is not a front-end.
	Member *Member `json:"member,omitempty"`
	// Deployment is Service Center's deployment state for the front-end:
	// "enabled", "disabled", "manual, not checked", or "" when unknown.
	Deployment string `json:"deployment,omitempty"`
}

// Member is a front-end as its load balancer shows it.
type Member struct {
	LoadBalancer string `json:"load_balancer"`
	Pool         string `json:"pool"`
	Name         string `json:"name"`
	// Found is false when the pool has no member of that name.
	Found      bool   `json:"found"`
	State      string `json:"state,omitempty"` // enabled, drained, disabled
	Healthy    bool   `json:"healthy"`
	InRotation bool   `json:"in_rotation"`
	Sessions   int    `json:"sessions"`
	Detail     string `json:"detail,omitempty"` // the balancer's own word
}

// ZoneReport is a zone's balancer and capacity.
type ZoneReport struct {
	Name          string `json:"name"`
	LoadBalancer  string `json:"load_balancer,omitempty"`
	ServiceCenter string `json:"service_center,omitempty"`
	Frontends     int    `json:"frontends"`
	// Checked is false when the balancer could not be read; the counts
	// below are then zero.
	Checked bool `json:"checked"`
	// InRotation counts the zone's front-ends in rotation (enabled and
	// healthy), LoadedInRotation those of them in the loaded set.
	InRotation       int `json:"in_rotation"`
	LoadedInRotation int `json:"loaded_in_rotation"`
	// Capacity is LoadedInRotation / InRotation (0 when none is in rotation).
	Capacity float64 `json:"capacity"`
}

// Artefact is an installer file named by the playbook.
type Artefact struct {
	Path string `json:"path"`
	// SHA256 is the digest the task expects, "" when it gives none (the
	// file is then only checked to exist).
	SHA256 string `json:"sha256,omitempty"`
	// Actual is the file's digest when SHA256 was given and it was read.
	Actual string   `json:"actual,omitempty"`
	Size   int64    `json:"size"`
	Tasks  []string `json:"tasks"`
	Hosts  []string `json:"hosts"`
	OK     bool     `json:"ok"`
}

// WriteTo renders the report for people: a table of hosts, one line per
// zone and installer file, then the problems and notes.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	tw := tabwriter.NewWriter(cw, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tZONE\tSPLIT\tREACHABLE\tVERSION\tLOAD BALANCER\tDEPLOYMENT")
	for _, h := range r.Hosts {
		reach := "yes"
		if !h.Reachable {
			reach = "NO"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Name, h.Zone, dash(h.Split), reach,
			dash(versionText(h)), dash(memberText(h)), dash(h.Deployment))
	}
	tw.Flush()
	for _, z := range r.Zones {
		switch {
		case !z.Checked:
			fmt.Fprintf(cw, "zone %s: capacity not checked (load balancer not read)\n", z.Name)
		default:
			fmt.Fprintf(cw, "zone %s: %d of %d front-ends in rotation are loaded (%.0f%%, at least %.0f%% needed)\n",
				z.Name, z.LoadedInRotation, z.InRotation, 100*z.Capacity, 100*r.MinCapacity)
		}
	}
	for _, a := range r.Artefacts {
		verdict := "ok"
		if !a.OK {
			verdict = "PROBLEM"
		}
		sum := "no sha256 given"
		if a.SHA256 != "" {
			sum = "sha256 " + a.SHA256[:min(12, len(a.SHA256))] + "…"
		}
		fmt.Fprintf(cw, "installer file %s (%s, for %s): %s\n", a.Path, sum, strings.Join(a.Hosts, ", "), verdict)
	}
	for _, sec := range []struct {
		title string
		list  []Problem
	}{{"note", r.Notes}, {"problem", r.Problems}} {
		if len(sec.list) == 0 {
			continue
		}
		title := sec.title
		if len(sec.list) > 1 {
			title += "s"
		}
		fmt.Fprintf(cw, "\n%d %s:\n", len(sec.list), title)
		for _, p := range sec.list {
			fmt.Fprintf(cw, "  %-14s %s\n", p.Check, p)
		}
	}
	if r.OK() {
		fmt.Fprintln(cw, "\npreflight passed")
	} else {
		fmt.Fprintf(cw, "\npreflight failed: %d %s; nothing was changed\n", len(r.Problems), plural(len(r.Problems), "problem"))
	}
	return cw.n, cw.err
}

func versionText(h *HostReport) string {
	if h.Pending != "" {
		return h.Version + " (configuration of " + h.Pending + " pending)"
	}
	return h.Version
}

func memberText(h *HostReport) string {
	m := h.Member
	switch {
	case m == nil:
		return ""
	case !m.Found:
		return "NOT IN POOL"
	case !m.Healthy:
		return m.State + ", UNHEALTHY (" + m.Detail + ")"
	}
	return m.State + ", healthy"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// countWriter keeps the first error and the bytes written, for WriteTo.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
